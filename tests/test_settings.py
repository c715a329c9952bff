"""Settings: one class, OPENNCII_* environment variables, never read at import time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openncii.settings import Settings, default_database_url


def test_environment_variables_carry_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENNCII_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("OPENNCII_MAX_HASHES_PER_CASE", "7")
    monkeypatch.setenv("OPENNCII_LOG_CLIENT_IPS", "true")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.max_hashes_per_case == 7
    assert settings.log_client_ips is True


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OPENNCII_DATABASE_URL", "OPENNCII_MAX_BODY_BYTES", "OPENNCII_LOG_CLIENT_IPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = Settings()
    assert settings.database_url == default_database_url()
    assert settings.database_url == f"sqlite:///{tmp_path / 'openncii' / 'openncii.sqlite3'}"
    assert settings.max_body_bytes == 256 * 1024
    assert settings.max_hashes_per_case == 200
    assert settings.log_client_ips is False
    assert (settings.lockout_failures, settings.lockout_base_seconds) == (5, 900)


def test_nothing_reads_settings_at_import_time(tmp_path: Path) -> None:
    """With unusable OPENNCII_* values, importing every module still works."""
    code = (
        "import openncii, openncii.api, openncii.cli, openncii.cases, openncii.partners, "
        "openncii.db, openncii.settings; print('imported')"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OPENNCII_PORT": "not a port",
        "OPENNCII_DATABASE_URL": "nonsense://",
        "OPENNCII_MAX_HASHES_PER_CASE": "-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
    assert not (tmp_path / ".local" / "share" / "openncii").exists()
