"""`openncii matcher serve` as a real process, and `openncii partner scan`'s options."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from openncii import hash_file
from openncii.partner import PartnerStore
from openncii.testing import (
    ServerProcess,
    clean_environment,
    free_port,
    openncii_command,
    run_openncii,
    start_on_a_free_port,
    start_openncii,
)
from partner_helpers import feed_record, store_page


@pytest.fixture
def photo_hash(testdata: Path) -> str:
    value = hash_file(testdata / "photos" / "opencv_fruits.jpg").pdq
    assert value is not None
    return value


@pytest.fixture
def store_path(tmp_path: Path, photo_hash: str) -> Path:
    path = tmp_path / "bank.sqlite3"
    with PartnerStore.open(path) as store:
        store_page(
            store, [feed_record("ImagePDQ", photo_hash, ref="ref-fruits")], now=datetime.now(UTC)
        )
    return path


@pytest.fixture
def matcher_url(store_path: Path, tmp_path: Path, photo_hash: str) -> Iterator[str]:
    args = ("--store", str(store_path), "--refresh-seconds", "0.1")
    server = start_on_a_free_port(
        lambda port: start_openncii(
            "matcher", "serve", *args, "--port", str(port), port=port, log_dir=tmp_path
        )
    )
    try:
        yield server.base_url
    finally:
        server.stop()
        # Hashes and case references are never logged (the log is not empty: uvicorn's lines).
        logged = server.log()
        assert "Uvicorn running" in logged or "Application startup complete" in logged
        assert photo_hash not in logged
        assert "ref-fruits" not in logged


def test_matcher_serve_answers_uploads_hashes_and_metrics(
    matcher_url: str, testdata: Path, photo_hash: str, store_path: Path
) -> None:
    upload = (testdata / "photos" / "opencv_fruits.jpg").read_bytes()
    with httpx.Client(base_url=matcher_url, timeout=60) as client:
        found = client.post("/match", files={"file": ("f.jpg", upload, "image/jpeg")}).json()
        assert [(m["hash"], m["case_refs"]) for m in found["matches"]] == [
            (photo_hash, ["ref-fruits"])
        ]
        assert client.post("/match", json={"md5": ["00" * 16]}).json()["matches"] == []
        # A sync adds a hash while the matcher serves: it is found without a restart.
        other = "0f" * 32
        with PartnerStore.open(store_path) as store:
            store_page(store, [feed_record("ImagePDQ", other, ref="ref-new")])
        deadline = time.monotonic() + 60  # the refresh every 0.1 s, on a loaded machine
        while not client.post("/match", json={"pdq": [other]}).json()["matches"]:
            assert time.monotonic() < deadline, "the new hash never reached the matcher"
            time.sleep(0.1)
        # The refresh thread sets the bank's gauge a moment after the index answers.
        while 'openncii_matcher_bank_hashes{signal_type="pdq"} 2.0' not in (
            metrics := client.get("/metrics").text
        ):
            assert time.monotonic() < deadline, "the bank's gauge never counted the new hash"
            time.sleep(0.1)
        assert 'openncii_matcher_requests_total{input="file",outcome="ok"} 1.0' in metrics


def test_matcher_serve_refuses_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"this is not a database" * 100)
    done = run_openncii("matcher", "serve", "--store", str(bogus), "--port", str(free_port()))
    assert done.returncode == 6
    assert "not an OpenNCII partner store" in done.stderr


def test_scan_writes_csv_to_stdout_and_reports_failures(
    store_path: Path, testdata: Path, tmp_path: Path, photo_hash: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "fruits.jpg").write_bytes((testdata / "photos" / "opencv_fruits.jpg").read_bytes())
    (folder / "truncated.jpg").write_bytes(
        (testdata / "photos" / "opencv_fruits.jpg").read_bytes()[:300]
    )
    (folder / ".hidden.jpg").write_bytes(b"skipped entirely")
    (folder / "random.jpg").write_bytes(bytes(range(256)) * 8)
    (folder / "notes.txt").write_text("not media")
    done = run_openncii(
        "partner", "scan", str(folder), "--store", str(store_path), "--format", "csv"
    )
    # The truncated JPEG and the random bytes named .jpg could not be hashed: exit 1, and they
    # are in the report as failures; the text file is skipped.
    assert done.returncode == 1, done.stderr
    rows = [line.split(",") for line in done.stdout.splitlines()]
    assert rows[0] == ["path", "signal_type", "hash", "distance", "case_refs", "error", "skipped"]
    by_path = {row[0]: row for row in rows[1:]}
    names = ("fruits.jpg", "notes.txt", "random.jpg", "truncated.jpg")
    assert set(by_path) == {str(folder / name) for name in names}
    assert by_path[str(folder / "fruits.jpg")][1:5] == ["pdq", photo_hash, "0", "ref-fruits"]
    assert by_path[str(folder / "truncated.jpg")][5] != ""
    assert by_path[str(folder / "random.jpg")][5] != ""
    assert by_path[str(folder / "notes.txt")][6] != ""
    assert "1 matched, 2 could not be hashed, 1 skipped" in done.stderr


def test_export_bank_then_import_matches_joins_case_references(
    store_path: Path, tmp_path: Path, photo_hash: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    bank = tmp_path / "bank.parquet"
    done = run_openncii("partner", "export-bank", str(bank), "--store", str(store_path))
    assert done.returncode == 0, done.stderr
    assert "Exported 1 PDQ, 0 MD5, 0 vPDQ hashes" in done.stderr
    assert b"ref-fruits" not in bank.read_bytes()
    (key,) = pq.read_table(bank).column("bank_key").to_pylist()
    # What a cluster wrote: one match of an upload with the bank record.
    from openncii.partner.batch import BankMatch, matches_to_batch

    found = matches_to_batch([BankMatch("s3://media/1.jpg", "pdq", key, photo_hash, 3, "full")])
    pq.write_table(pa.Table.from_batches([found]), tmp_path / "matches.parquet")
    done = run_openncii(
        "partner",
        "import-matches",
        str(tmp_path / "matches.parquet"),
        "--store",
        str(store_path),
        "--report",
        str(tmp_path / "r.json"),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["files"] == [
        {
            "path": "s3://media/1.jpg",
            "media": None,
            "quality": None,
            "matches": [
                {
                    "signal_type": "pdq",
                    "hash": photo_hash,
                    "distance": 3,
                    "case_refs": ["ref-fruits"],
                }
            ],
        }
    ]
    missing = run_openncii(
        "partner", "import-matches", str(tmp_path / "none.parquet"), "--store", str(store_path)
    )
    assert missing.returncode == 2
    assert "no matches file" in missing.stderr


def test_scan_refuses_an_unknown_feedback_value(store_path: Path, tmp_path: Path) -> None:
    done = run_openncii(
        "partner",
        "scan",
        str(tmp_path),
        "--store",
        str(store_path),
        "--feedback",
        "Yes",
        env={"OPENNCII_PARTNER_KEY": "k"},
    )
    assert done.returncode == 2
    assert "openncii partner scan: --feedback must be one of" in done.stderr
    assert "PendingReview" in done.stderr


def test_scan_of_an_empty_store_says_to_sync_first(tmp_path: Path, testdata: Path) -> None:
    report = tmp_path / "r.json"
    done = run_openncii(
        "partner",
        "scan",
        str(testdata / "photos" / "opencv_fruits.jpg"),
        "--store",
        str(tmp_path / "empty.sqlite3"),
        "--report",
        str(report),
    )
    assert done.returncode == 0, done.stderr
    assert "partner sync" in done.stderr
    assert json.loads(report.read_text())["bank"] == {"pdq": 0, "md5": 0, "vpdq": 0}


def test_matcher_serve_refuses_the_network_without_a_token(store_path: Path) -> None:
    done = run_openncii(
        "matcher", "serve", "--store", str(store_path), "--host", "0.0.0.0", "--port", "9"
    )
    assert done.returncode == 2
    assert "OPENNCII_MATCHER_TOKEN" in done.stderr


def test_matcher_serve_refuses_a_missing_store_unless_asked_to_create_one(
    tmp_path: Path,
) -> None:
    typo = tmp_path / "bnak.sqlite3"
    done = run_openncii("matcher", "serve", "--store", str(typo), "--port", str(free_port()))
    assert done.returncode == 6
    assert f"no partner store at {typo}" in done.stderr
    assert "--create-store" in done.stderr
    assert not typo.exists()
    port = free_port()
    args = ("matcher", "serve", "--store", str(typo), "--port", str(port), "--create-store")
    # Up, but /healthz is 503 until a sync completes: its first answer, however long the start.
    with ServerProcess(
        subprocess.Popen(
            openncii_command(*args),
            env=clean_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        f"http://127.0.0.1:{port}",
        tmp_path / "unused.log",
    ) as server:
        deadline = time.monotonic() + 120
        while True:
            assert server.process.poll() is None, "the matcher exited"
            assert time.monotonic() < deadline, "the matcher never answered"
            try:
                health = httpx.get(f"{server.base_url}/healthz", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
    assert health.status_code == 503
    assert typo.exists()


@pytest.mark.parametrize("token", ["", "too-short"])
def test_matcher_serve_refuses_an_empty_or_short_token(store_path: Path, token: str) -> None:
    done = run_openncii(
        "matcher", "serve", "--store", str(store_path), "--port", str(free_port()),
        env={"OPENNCII_MATCHER_TOKEN": token},
    )  # fmt: skip
    assert done.returncode == 2
    assert "unusable setting: OPENNCII_MATCHER_TOKEN: " in done.stderr
    assert "at least 32 characters" in done.stderr
    assert token not in done.stderr or token == ""
