"""Settings: one class, OPENNCII_* environment variables, never read at import time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from openncii.settings import (
    SETTINGS_CLASSES,
    CaseClientSettings,
    MatcherSettings,
    OpenNCIISettings,
    PartnerSettings,
    Settings,
    default_database_url,
    settings_markdown,
)


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
    assert settings.max_hashes_per_case == 1000
    assert settings.log_client_ips is False
    assert (settings.pin_tries, settings.pin_pause_seconds) == (5, 60)
    assert (settings.legacy_pin_tries, settings.legacy_pin_window_seconds) == (5, 600)
    assert settings.served_over_https is False


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


# --------------------------------------------------------------------------------------------------
# One pattern for every settings class, and one table of every variable.
# --------------------------------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[1]
SRC = REPO_ROOT / "src" / "openncii"
#: Variables that are not settings of OpenNCII: the test suite's own.
TEST_ONLY_VARIABLES = {"OPENNCII_TEST_DATABASE_URL"}


def documented_variables() -> set[str]:
    return {cls.env_name(name) for cls in SETTINGS_CLASSES for name in cls.model_fields}


def test_the_settings_table_is_generated_from_the_classes() -> None:
    current = (REPO_ROOT / "docs" / "settings.md").read_text("utf-8")
    assert current == settings_markdown(), (
        "docs/settings.md is stale: run `.venv/bin/python -m openncii.settings > docs/settings.md`"
    )
    for variable in documented_variables():
        assert f"| `{variable}` |" in current


def test_every_setting_has_a_description_and_a_stable_default() -> None:
    for cls in SETTINGS_CLASSES:
        assert issubclass(cls, OpenNCIISettings) and cls.read_by, cls
        assert cls.model_config["frozen"] and cls.model_config["extra"] == "ignore", cls
        for name, field in cls.model_fields.items():
            assert field.description, f"{cls.__name__}.{name} has no description"
            if field.default_factory is not None and name != "threshold":
                # A default computed on this machine is documented in words.
                assert isinstance(field.json_schema_extra, dict), f"{cls.__name__}.{name}"


def test_every_variable_named_anywhere_is_documented() -> None:
    """README, docs, help texts, the CI script and the benches name only real variables."""
    known = documented_variables() | TEST_ONLY_VARIABLES
    prefixes = {cls.model_config["env_prefix"] for cls in SETTINGS_CLASSES}
    places = [REPO_ROOT / "README.md", REPO_ROOT / "Makefile", REPO_ROOT / ".ci" / "run"]
    places += sorted((REPO_ROOT / "docs").glob("*.md"))
    places += sorted(SRC.rglob("*.py")) + sorted((REPO_ROOT / "bench").glob("*.py"))
    places += sorted(SRC.glob("web/static/js/*.js"))
    pattern = re.compile(r"\bOPENNCII_[A-Z0-9_]*")
    unknown: set[tuple[str, str]] = set()
    for path in places:
        for name in pattern.findall(path.read_text("utf-8")):
            if name not in known and name not in prefixes:
                unknown.add((path.name, name))
    assert not unknown, unknown


def test_only_the_settings_classes_read_the_environment() -> None:
    """No hand-read variables and no option reading one behind the classes' back."""
    reads = re.compile(r"envvar\s*=|os\.getenv|environ\.get\(|getenv\(|environ\[[^\]]+\](?!\s*=)")
    assert reads.search('key = os.environ.get("OPENNCII_X", "")')
    assert reads.search('typer.Option("--x", envvar="OPENNCII_X")')
    assert reads.search('value = os.environ["OPENNCII_X"]')
    assert not reads.search("os.environ[Settings.env_name(name)] = str(value)")  # passing on
    offenders = [
        f"{path.relative_to(SRC)}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for line in path.read_text("utf-8").splitlines()
        if reads.search(line) and '"CI"' not in line  # the CI flag of the test helpers
    ]
    assert offenders == []


def test_each_class_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENNCII_MATCHER_THRESHOLD", "12")
    monkeypatch.setenv("OPENNCII_MATCHER_TOKEN", "s3cret-matcher-token-of-32-chars")
    monkeypatch.setenv("OPENNCII_PARTNER_KEY", "onp_key")
    monkeypatch.setenv("OPENNCII_PARTNER_STORE", str(tmp_path / "bank.sqlite3"))
    monkeypatch.setenv("OPENNCII_PARTNER_SERVER", "")  # empty: unset
    monkeypatch.setenv("OPENNCII_SERVER_URL", "https://ncii.example.org")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    matcher = MatcherSettings()
    assert (matcher.threshold, matcher.refresh_seconds) == (12, 5.0)
    assert matcher.token is not None
    assert matcher.token.get_secret_value() == "s3cret-matcher-token-of-32-chars"
    assert "s3cret" not in repr(matcher)
    partner = PartnerSettings()
    assert partner.key is not None and partner.key.get_secret_value() == "onp_key"
    assert partner.store == tmp_path / "bank.sqlite3" and partner.server is None
    assert CaseClientSettings().server_url == "https://ncii.example.org"
    monkeypatch.delenv("OPENNCII_PARTNER_STORE")
    assert PartnerSettings().store == tmp_path / "data" / "openncii" / "partner.sqlite3"
    assert MatcherSettings(threshold=3).threshold == 3  # an argument wins
    assert MatcherSettings.env_name("max_upload_bytes") == "OPENNCII_MATCHER_MAX_UPLOAD_BYTES"
    with pytest.raises(KeyError):
        Settings.env_name("no_such_field")
    with pytest.raises(ValidationError):
        matcher.threshold = 1  # type: ignore[misc]


def test_an_unusable_variable_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    from openncii.testing import run_openncii

    done = run_openncii(
        "matcher", "serve", "--store", str(tmp_path / "s.sqlite3"),
        env={"OPENNCII_MATCHER_THRESHOLD": "99"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "openncii matcher serve: unusable setting: OPENNCII_MATCHER_THRESHOLD" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_review_queue_thresholds_are_bounded_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from openncii.cases.bursts import BurstRule
    from openncii.review import ReviewRules

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert ReviewRules.from_settings(Settings()) == ReviewRules()  # the same defaults
    monkeypatch.setenv("OPENNCII_REVIEW_BURST_CASES", "4")
    monkeypatch.setenv("OPENNCII_REVIEW_BURST_MINUTES", "20")
    monkeypatch.setenv("OPENNCII_REVIEW_NOT_BLOCKED_PARTNERS", "3")
    monkeypatch.setenv("OPENNCII_REVIEW_MATCH_FACTOR", "2.5")
    monkeypatch.setenv("OPENNCII_REVIEW_MATCH_MIN_PARTNERS", "5")
    assert ReviewRules.from_settings(Settings()) == ReviewRules(
        not_blocked_partners=3,
        match_factor=2.5,
        match_min_partners=5,
        bursts=BurstRule(cases=4, minutes=20),
    )
    for name, value in (
        ("review_burst_cases", 1),  # every case would be a burst
        ("review_burst_cases", 10_001),
        ("review_burst_minutes", 0),
        ("review_burst_minutes", 24 * 60 + 1),  # longer than a day is not a burst
        ("review_not_blocked_partners", 0),
        ("review_match_factor", 0.5),  # below the median itself
        ("review_match_min_partners", 0),
    ):
        with pytest.raises(ValidationError, match=name):
            Settings(**{name: value})
