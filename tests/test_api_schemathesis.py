"""schemathesis over the OpenAPI document of a real ``openncii serve``, on SQLite and
PostgreSQL: every check, 0 failures.

Bounded and deterministic: ``--generation-deterministic`` (no random seed, no example
database), at most ``MAX_EXAMPLES`` fuzzed cases per operation after the coverage phase's
boundary cases (about 550 requests in all, a minute on a loaded 2-core machine), one worker.
The partner API is called with the key of a partner allowed to submit hashes.

Two settings widen schemathesis' defaults, both for the documented body limit (413, which JSON
Schema cannot state in bytes): a body over it is a rejection of a schema-violating request and
an acceptable answer to a schema-valid one. ``tests/schemathesis_hooks.py`` leaves out the
schema-valid cases that the server refuses for reasons the document gives in words only (the
deny-list, ``count`` equal to the number of items, issued page tokens).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from openncii.testing import run_openncii, start_server

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 10
TESTS_DIR = Path(__file__).resolve().parent
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "429"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "413", "429"]
"""


def test_schemathesis_finds_no_failure(fresh_database_url: str, tmp_path: Path) -> None:
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert schemathesis is not None, "schemathesis is installed by the dev extra"
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with start_server(fresh_database_url, log_dir=tmp_path) as server:
        document = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
        operations = sum(len(methods) for methods in document["paths"].values())
        added = run_openncii(
            "partners", "add", "Fuzz Co", "--can-submit", "--json",
            "--database-url", fresh_database_url,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        key = json.loads(added.stdout)["key"]
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
            "PYTHONPATH": str(TESTS_DIR),
        }
        done = subprocess.run(
            [
                schemathesis, "--config-file", str(config), "run",
                f"{server.base_url}/openapi.json",
                "--checks", "all",
                "--max-examples", str(MAX_EXAMPLES),
                "--generation-deterministic",
                "--workers", "1",
                "--header", f"Ocp-Apim-Subscription-Key: {key}",
                "--generation-with-security-parameters", "false",
                "--output-truncate", "true",
                "--no-color",
            ],
            capture_output=True, text=True, env=env, timeout=900, check=False,
        )  # fmt: skip
    report = done.stdout[-20_000:]
    assert done.returncode == 0, report
    assert "No issues found" in done.stdout, report
    assert f"Tested: {operations}" in done.stdout, report
