"""Robust matching through the whole chain, on real files, as deployed.

A person enrols photos in the browser (Chromium: the web app's own hashing, robust-matching
variants and all); a partner syncs (`openncii partner sync`: the variant records with their
kinds); `openncii partner scan` and the matcher service's `POST /match` (`openncii matcher
serve`) find an edited copy for every edit of `bench/robustness.py`'s goal list and no
unrelated photo. Then the person withdraws, the partner syncs, and every variant is gone: the
same copies match nothing. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from openncii.partner import PartnerStore
from openncii.testing import (
    ServerProcess,
    run_openncii,
    start_on_a_free_port,
    start_openncii,
    start_server,
)

from .harness import REPO_ROOT, open_app

ENROLLED = ("scratch_castle.jpg", "mate_ladybird.jpg")
UNRELATED = ("mate_aqua.jpg", "opencv_building.jpg", "opencv_fruits.jpg", "skimage_coffee.jpg")
QUESTIONS = ("in_image", "adult_when_taken", "adult_now", "has_content", "intimate")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _edits() -> Any:
    """The goal edits of ``bench/robustness.py`` (their one home)."""
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        import robustness
    finally:
        sys.path.remove(str(REPO_ROOT / "bench"))
    return [(name, edit, quality) for name, edit, quality, goal in robustness.EDITS if goal]


@pytest.fixture
def chain_server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    process = start_server(database_url, log_dir=tmp_path)
    try:
        yield process
    finally:
        process.stop()


def _enrol_in_the_browser(page: Any, server: ServerProcess, photos: list[Path]) -> dict[str, str]:
    open_app(page, server, "/")
    page.click("[data-testid=start]")
    for question in QUESTIONS:
        page.check(f"[data-testid=eligibility-{question}]")
    page.click("[data-testid=eligibility-continue]")
    page.set_input_files("[data-testid=file-input]", [str(p) for p in photos])
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=60_000)
    page.click("[data-testid=submit-case]")
    page.wait_for_selector("[data-testid=case-number]:visible", timeout=30_000)
    return {
        "case_number": page.inner_text("[data-testid=case-number]").strip(),
        "pin": page.inner_text("[data-testid=pin]").strip(),
    }


def _sync(server: ServerProcess, store: Path, env: dict[str, str]) -> None:
    synced = run_openncii(
        "partner", "sync", "--server", server.base_url, "--store", str(store), env=env
    )
    assert synced.returncode == 0, synced.stderr


def _scan(folder: Path, store: Path, env: dict[str, str], report: Path) -> dict[str, Any]:
    done = run_openncii(
        "partner", "scan", str(folder), "--store", str(store), "--report", str(report), env=env
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(report.read_text("utf-8"))
    return found


def _match_each(matcher: ServerProcess, files: list[Path]) -> dict[str, list[dict[str, Any]]]:
    answers: dict[str, list[dict[str, Any]]] = {}
    with httpx.Client(base_url=matcher.base_url, timeout=60) as http:
        for path in files:
            with path.open("rb") as handle:
                response = http.post("/match", files={"file": (path.name, handle)})
            assert response.status_code == 200, response.text
            answers[path.name] = response.json()["matches"]
    return answers


def test_browser_enrolment_sync_scan_match_withdraw(
    page: Any, chain_server: ServerProcess, database_url: str, testdata: Path, tmp_path: Path
) -> None:
    photos = [testdata / "photos" / name for name in ENROLLED]
    added = run_openncii("partners", "add", "Acme", "--json", "--database-url", database_url)
    assert added.returncode == 0, added.stderr
    env = {"OPENNCII_PARTNER_KEY": json.loads(added.stdout)["key"]}

    # The person enrols the photos in the browser: only hashes leave the page.
    credentials = _enrol_in_the_browser(page, chain_server, photos)

    # The platform's uploads: every goal edit of each photo, and unrelated photos.
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    copies: dict[str, str] = {}
    for photo in photos:
        with Image.open(photo) as opened:
            original = opened.convert("RGB")
        for number, (name, edit, quality) in enumerate(_edits()):
            copy = uploads / f"{photo.stem}-edit{number:02d}.jpg"
            edit(original).save(copy, quality=quality)
            copies[copy.name] = f"{photo.name}: {name}"
    for name in UNRELATED:
        (uploads / name).write_bytes((testdata / "photos" / name).read_bytes())
    files = sorted(uploads.iterdir())

    store = tmp_path / "acme.sqlite3"
    _sync(chain_server, store, env)
    with PartnerStore.open(store) as local:
        held = local.counts()
    assert held["pdq"] == len(photos)  # each photo's whole-image hash, as ImagePDQ
    assert held["pdq_square"] >= 4 * len(photos) and held["pdq_strip"] == 2 * len(photos)

    # partner scan: every copy found, through the kind its pair rule allows; nothing unrelated.
    report = _scan(uploads, store, env, tmp_path / "scan.json")
    matched = {Path(e["path"]).name for e in report["files"] if e.get("matches")}
    missed = sorted(copies[name] for name in set(copies) - matched)
    assert not missed, missed
    assert matched == set(copies), "an unrelated photo matched"
    kinds = {m["signal_type"] for e in report["files"] for m in e.get("matches", [])}
    assert {"pdq", "pdq_square"} <= kinds

    # POST /match on the matcher service: the same answer.
    with start_on_a_free_port(
        lambda port: start_openncii(
            "matcher", "serve", "--store", str(store), "--port", str(port), env=env, port=port
        )
    ) as matcher:
        answers = _match_each(matcher, files)
    assert {name for name, found in answers.items() if found} == set(copies)
    for found in answers.values():
        for match in found:
            assert match["distance"] <= (31 if match["signal_type"] in ("pdq", "pdq_trim") else 24)

    # The person withdraws; the partner syncs; every variant is gone.
    with httpx.Client(base_url=chain_server.base_url, timeout=30) as http:
        assert http.post("/api/v1/cases/withdraw", json=credentials).status_code == 200
    _sync(chain_server, store, env)
    after = _scan(uploads, store, env, tmp_path / "after.json")
    assert not [e for e in after["files"] if e.get("matches")]
