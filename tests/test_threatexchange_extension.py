"""The OpenNCII exchange in the real `threatexchange` CLI, against a real `openncii serve`.

The CLI loads the extension the documented way (`config extensions add`), syncs a case of a
photo and a video, matches them, the person withdraws the case, the CLI syncs again: the
OpenNCII collaboration no longer matches, while the stock StopNCII adapter, on the same feed,
still does (python-threatexchange 1.2.x keeps withdrawn StopNCII hashes: the bug the exchange
works around). Feedback sent with `threatexchange label` reaches the case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from case_helpers import CASES, ELIGIBLE, STATUS, WITHDRAW
from openncii import hash_file
from openncii.testing import ServerProcess, run_openncii, start_server

pytestmark = pytest.mark.slow

EXTENSION = "openncii.integrations.threatexchange"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    with start_server(database_url, log_dir=tmp_path) as process:
        yield process


class ThreatExchangeCLI:
    """`python -m threatexchange` with its own state folder and the partner's keys."""

    def __init__(self, state: Path, url: str, key: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENNCII_", "TX_"))}
        self.env |= {
            "TX_STATEDIR": str(state),
            "TX_OPENNCII_KEY": key,
            # The stock adapter: "fetch key,subscription key,base URL".
            "TX_STOPNCII_KEYS": f"{key},{key},{url}/v1",
            "HOME": str(state.parent),
        }

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "threatexchange", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"threatexchange {' '.join(args)}:\n{done.stderr[-3000:]}"
        return done.stdout


def _matches(output: str) -> set[tuple[str, str]]:
    """(signal type, collaboration) of each line `threatexchange match` prints."""
    found = set()
    for line in output.splitlines():
        parts = line.split()
        collab = next((p for p in parts if p.startswith("(") and p.endswith(")")), None)
        if parts and collab:
            found.add((parts[0], collab.strip("()")))
    return found


def test_withdrawal_reaches_threatexchange_through_the_openncii_exchange(
    server: ServerProcess, database_url: str, tmp_path: Path, testdata: Path
) -> None:
    photo = testdata / "photos" / "mate_garden.jpg"
    video = testdata / "videos" / "carphone_pristine.mp4"
    # Another case stays active: a control that keeps matching. It also keeps every index of
    # the CLI in use, around two bugs of python-threatexchange 1.2.17's CLI: the faiss PDQ
    # index of a single hash finds nothing once saved and reloaded, and the index of a signal
    # type that has become empty is never removed (it keeps matching what it held).
    others = [testdata / "photos" / name for name in ("mate_aqua.jpg", "mate_dune.jpg")]
    other_video = testdata / "videos" / "bikes.mp4"
    photo_hashes = hash_file(photo, fast=False)
    video_hashes = hash_file(video)
    assert photo_hashes.pdq is not None and video_hashes.vpdq
    frames: list[dict[str, Any]] = [
        {"frame": f.frame, "pdq": f.pdq, "quality": f.quality, "timestamp": f.timestamp}
        for f in video_hashes.vpdq
    ]
    body = {
        "eligibility": dict(ELIGIBLE),
        "hashes": [
            {"type": "pdq", "value": photo_hashes.pdq, "quality": photo_hashes.quality},
            {"type": "md5", "value": video_hashes.md5},
            {"type": "vpdq", "frames": frames},
        ],
    }
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        created = http.post(CASES, json=body)
        assert created.status_code == 201, created.text
        case = created.json()
        other_hashes: list[dict[str, Any]] = [
            {"type": "pdq", "value": hashed.pdq, "quality": hashed.quality}
            for hashed in (hash_file(path, fast=False) for path in others)
        ]
        other_frames = hash_file(other_video).vpdq or ()
        other_hashes.append({"type": "vpdq", "frames": [f.to_json() for f in other_frames]})
        kept = http.post(CASES, json={"eligibility": dict(ELIGIBLE), "hashes": other_hashes})
        assert kept.status_code == 201, kept.text
        added = run_openncii("partners", "add", "Acme", "--json", "--database-url", database_url)
        assert added.returncode == 0, added.stderr
        key = json.loads(added.stdout)["key"]

        tx = ThreatExchangeCLI(tmp_path / "tx-state", server.base_url, key)
        loaded = tx("config", "extensions", "add", EXTENSION)
        assert "openncii" in loaded and "openncii_vpdq" in loaded
        tx("config", "collab", "edit", "openncii", "ncii", "--create", "--server", server.base_url)
        tx("config", "collab", "edit", "stop_ncii", "stock", "--create")
        tx("fetch")

        assert _matches(tx("match", "photo", str(photo))) == {("pdq", "ncii"), ("pdq", "stock")}
        assert _matches(tx("match", "video", str(video))) == {
            ("video_md5", "ncii"),
            ("video_md5", "stock"),
            ("openncii_vpdq", "ncii"),  # the stock adapter skips VideoPDQ records
        }

        # Feedback through the exchange: `label` reports a true positive, the case shows it.
        signal = tmp_path / "photo.pdq"
        signal.write_text(photo_hashes.pdq)
        tx("label", "-H", "pdq", "-l", "reviewed", "ncii", "photo", str(signal))
        status = http.post(STATUS, json={"case_number": case["case_number"], "pin": case["pin"]})
        outcomes = [o for h in status.json()["hashes"] for o in h.get("outcomes", [])]
        assert {(o["partner"], o["outcome"]) for o in outcomes} == {("Acme", "Blocked")}

        withdrawn = http.post(
            WITHDRAW, json={"case_number": case["case_number"], "pin": case["pin"]}
        )
        assert withdrawn.status_code == 200, withdrawn.text
        tx("fetch")

        # The OpenNCII exchange deleted the withdrawn hashes; the stock adapter kept them.
        assert _matches(tx("match", "photo", str(photo))) == {("pdq", "stock")}
        assert _matches(tx("match", "video", str(video))) == {("video_md5", "stock")}
        # The case nobody withdrew still matches in both.
        assert _matches(tx("match", "photo", str(others[0]))) == {("pdq", "ncii"), ("pdq", "stock")}
        assert ("openncii_vpdq", "ncii") in _matches(tx("match", "video", str(other_video)))
