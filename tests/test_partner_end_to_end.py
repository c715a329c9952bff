"""End to end, as deployed: the OpenNCII server, a partner, `partner sync`, `partner scan`.

A person enrols photos (hashed on their device); a partner syncs the bank and scans a folder
holding edited copies (resized, recompressed, mirrored) and unrelated photos: every copy is
found and no unrelated photo matches; the matches are reported back and the person sees the
outcome. Then the case is withdrawn, the partner syncs, and the same scan finds nothing.
Every step runs the real `openncii` command line against a live server.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageOps

from case_helpers import CASES, ELIGIBLE, STATUS, WITHDRAW
from openncii import hash_file
from openncii.testing import ServerProcess, run_openncii, start_server

ENROLLED = ["mate_garden.jpg", "opencv_fruits.jpg", "opencv_baboon.jpg", "mate_storm.jpg"]
UNRELATED = [
    "mate_aqua.jpg",
    "mate_dune.jpg",
    "mate_ladybird.jpg",
    "opencv_apple.jpg",
    "opencv_building.jpg",
    "opencv_butterfly.jpg",
    "matplotlib_grace_hopper.jpg",
    "opencv_graf1.jpg",
]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    process = start_server(database_url, log_dir=tmp_path)
    try:
        yield process
    finally:
        process.stop()


def _edited_copies(photo: Path, folder: Path) -> list[Path]:
    """A resized, a recompressed and a mirrored copy of ``photo`` in ``folder``."""
    stem = photo.stem
    with Image.open(photo) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    resized = folder / f"{stem}-resized.png"
    image.resize((max(64, image.width // 2), max(64, image.height // 2))).save(resized)
    recompressed = folder / f"{stem}-q35.jpg"
    image.save(recompressed, "JPEG", quality=35)
    mirrored = folder / "nested" / f"{stem}-mirrored.jpg"
    mirrored.parent.mkdir(exist_ok=True)
    ImageOps.mirror(image).save(mirrored, "JPEG", quality=85)
    return [resized, recompressed, mirrored]


def _scan(
    folder: Path, store: Path, report: Path, *extra: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    done = run_openncii(
        "partner",
        "scan",
        str(folder),
        "--store",
        str(store),
        "--report",
        str(report),
        *extra,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_enrol_sync_scan_feedback_withdraw_sync_scan(
    server: ServerProcess, database_url: str, testdata: Path, tmp_path: Path
) -> None:
    photos = testdata / "photos"
    # The partner joins: the helpline adds it and hands over its key once.
    added = run_openncii("partners", "add", "Acme Social", "--json", "--database-url", database_url)
    assert added.returncode == 0, added.stderr
    key = json.loads(added.stdout)["key"]
    env = {"OPENNCII_PARTNER_KEY": key}

    # The person's device hashes the photos; only the hashes reach the server.
    hashes = [hash_file(photos / name) for name in ENROLLED]
    assert all(h.pdq and (h.quality or 0) >= 50 for h in hashes)
    body = {
        "eligibility": dict(ELIGIBLE),
        "hashes": [{"type": "pdq", "value": h.pdq, "quality": h.quality} for h in hashes],
    }
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        created = http.post(CASES, json=body)
        assert created.status_code == 201, created.text
        case = created.json()
        credentials = {"case_number": case["case_number"], "pin": case["pin"]}

        # The platform's folder: edited copies of the enrolled photos and unrelated photos.
        folder = tmp_path / "uploads"
        folder.mkdir()
        copies = {
            str(copy): name for name in ENROLLED for copy in _edited_copies(photos / name, folder)
        }
        for name in UNRELATED:
            (folder / name).write_bytes((photos / name).read_bytes())
        (folder / "notes.txt").write_text("not media")  # reported as not hashable, not a match

        store = tmp_path / "acme.sqlite3"
        synced = run_openncii(
            "partner", "sync", "--server", server.base_url, "--store", str(store), env=env
        )
        assert synced.returncode == 0, synced.stderr

        _scan(folder, store, tmp_path / "report.json", "--feedback", "PendingReview", env=env)
        report = json.loads((tmp_path / "report.json").read_text("utf-8"))
        matched = {entry["path"]: entry for entry in report["files"] if "matches" in entry}
        assert set(matched) == set(copies), "every copy found, nothing unrelated matched"
        enrolled_pdq = {name: h.pdq for name, h in zip(ENROLLED, hashes, strict=True)}
        for path, entry in matched.items():
            (match,) = entry["matches"]
            assert match["signal_type"] == "pdq"
            assert match["hash"] == enrolled_pdq[copies[path]]
            assert match["distance"] <= 31
            # Partners see an opaque reference, never the case number.
            assert len(match["case_refs"]) == 1
            assert case["case_number"] not in json.dumps(entry)
        assert report["scanned"] == len(copies) + len(UNRELATED) + 1
        assert [e["path"] for e in report["files"] if "skipped" in e] == [str(folder / "notes.txt")]
        assert (report["failed"], report["skipped"]) == (0, 1)

        # The person sees what the partner reported.
        status = http.post(STATUS, json=credentials).json()
        outcomes = [o for h in status["hashes"] for o in h["outcomes"]]
        assert sorted((o["partner"], o["outcome"]) for o in outcomes) == [
            ("Acme Social", "PendingReview")
        ] * len(ENROLLED)

        # The person withdraws; the partner syncs; the same scan finds nothing.
        withdrawn = http.post(WITHDRAW, json=credentials)
        assert withdrawn.status_code == 200, withdrawn.text
    synced = run_openncii(
        "partner", "sync", "--server", server.base_url, "--store", str(store), env=env
    )
    assert synced.returncode == 0, synced.stderr
    after = _scan(folder, store, tmp_path / "a.csv", env=env)
    rows = (tmp_path / "a.csv").read_text("utf-8").splitlines()
    assert rows[0] == "path,signal_type,hash,distance,case_refs,error,skipped"
    assert [row.split(",")[0] for row in rows[1:]] == [str(folder / "notes.txt")]
    assert "0 matched" in after.stderr
