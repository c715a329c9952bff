"""The matcher service hashes a bounded number of uploads at once and sheds the rest with 503.

A real `openncii matcher serve` process with one hashing slot receives three uploads of a
49-megapixel image (each hashing takes ~250 MB) at the same moment. The first is hashed; the
others wait the configured 0.3 s, get 503 with Retry-After, retry as told, and are hashed in
turn. The server's peak memory (the kernel's high-water mark) grows by one hashing, not three.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from media_memory_helpers import MB, write_png
from openncii.partner import PartnerStore
from openncii.partner.admission import HASH_MEMORY_BYTES, HashSlots, default_hash_slots
from openncii.testing import ServerProcess, start_on_a_free_port, start_openncii
from partner_helpers import store_page

GiB = 1024**3


def test_slots_follow_cores_and_memory() -> None:
    assert default_hash_slots(cpus=2, memory_bytes=24 * GiB) == 2
    assert default_hash_slots(cpus=16, memory_bytes=2 * GiB) == 3  # 1 GiB / 320 MB
    assert default_hash_slots(cpus=4, memory_bytes=256 * MB) == 1  # never zero
    assert default_hash_slots(cpus=1, memory_bytes=64 * GiB) == 1
    assert HASH_MEMORY_BYTES >= 300 * MB
    with pytest.raises(ValueError, match="slot"):
        HashSlots(0, 1.0)


def _high_water_mark(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _peak_growth(pid: int, work: Callable[[], None]) -> int:
    """How far the resident memory of process ``pid`` rose above its resting size during
    ``work`` (the kernel's high-water mark, reset first)."""
    rest = _rss(pid)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak restarts from here
    work()
    return _high_water_mark(pid) - rest


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def matcher(tmp_path: Path) -> Iterator[ServerProcess]:
    store = tmp_path / "bank.sqlite3"
    with PartnerStore.open(store) as opened:
        store_page(opened, [], now=datetime.now(UTC))  # synced (empty): /healthz is 200
    env = {
        "OPENNCII_MATCHER_MAX_CONCURRENT_HASHES": "1",
        "OPENNCII_MATCHER_HASH_WAIT_SECONDS": "0.3",
    }
    args = ("matcher", "serve", "--store", str(store))
    with start_on_a_free_port(
        lambda port: start_openncii(
            *args, "--port", str(port), port=port, env=env, log_dir=tmp_path
        )
    ) as server:
        yield server


@dataclass
class _Client:
    statuses: list[int] = field(default_factory=list)
    retry_after: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    error: BaseException | None = None


def _upload_until_hashed(url: str, data: bytes, client: _Client, start: threading.Event) -> None:
    try:
        start.wait()
        with httpx.Client(timeout=300) as http:
            for _ in range(60):
                response = http.post(f"{url}/match", files={"file": ("big.png", data)})
                client.statuses.append(response.status_code)
                if response.status_code != 503:
                    return
                client.retry_after.append(response.headers.get("retry-after", ""))
                client.codes.append(response.json()["code"])
                time.sleep(float(response.headers["retry-after"]))
    except BaseException as exc:  # handed to the test thread
        client.error = exc


@pytest.mark.slow
def test_concurrent_uploads_are_hashed_one_at_a_time_and_shed_with_503(
    matcher: ServerProcess, tmp_path: Path
) -> None:
    url, process = matcher.base_url, matcher.process
    data = write_png(tmp_path / "big.png", 7000, 7000, channels=3).read_bytes()
    metrics = httpx.get(f"{url}/metrics").text
    assert "openncii_matcher_hash_slots 1.0" in metrics

    # A first small upload loads the decoders (Pillow's plugins, libheif): the resting size of
    # a matcher that has hashed. Then one big upload alone: the peak of one hashing here, the
    # yardstick of the three below.
    small = write_png(tmp_path / "small.png", 96, 64, channels=3).read_bytes()
    assert httpx.post(f"{url}/match", files={"file": ("s.png", small)}).status_code == 200

    def one_upload() -> None:
        answer = httpx.post(f"{url}/match", files={"file": ("big.png", data)}, timeout=300)
        assert answer.status_code == 200

    one = _peak_growth(process.pid, one_upload)
    clients = [_Client() for _ in range(3)]

    def three_uploads() -> None:
        start = threading.Event()
        threads = [
            threading.Thread(target=_upload_until_hashed, args=(url, data, c, start))
            for c in clients
        ]
        for thread in threads:
            thread.start()
        start.set()
        for thread in threads:
            thread.join(timeout=600)

    growth = _peak_growth(process.pid, three_uploads)

    assert [c.error for c in clients] == [None, None, None]
    assert all(c.statuses[-1] == 200 for c in clients), [c.statuses for c in clients]
    shed = [status for c in clients for status in c.statuses if status == 503]
    assert len(shed) >= 2  # the two that found the slot taken, at least once each
    assert {value for c in clients for value in c.retry_after} == {"1"}
    assert {code for c in clients for code in c.codes} == {"unavailable"}
    # One hashing at a time: the peak is that of one upload, not of three, nor of two (1.5
    # lies halfway). On top of one hashing, what the shed requests cost meanwhile (their bodies,
    # the first upload's matching while the next one hashes) moves with the machine's load:
    # 4 to 40 MB measured, against 263-265 MB for one upload alone.
    assert one <= HASH_MEMORY_BYTES, f"one upload alone: the matcher grew by {one / MB:.0f} MB"
    assert growth <= 1.5 * one, f"the matcher grew by {growth / MB:.0f} MB ({one / MB:.0f} alone)"
    print(f"matcher, 49 MP: peak growth {one / MB:.0f} MB alone, {growth / MB:.0f} MB for three")
    metrics = httpx.get(f"{url}/metrics").text
    assert (
        f'openncii_matcher_requests_total{{input="file",outcome="shed"}} {len(shed)}.0' in metrics
    )
    assert 'openncii_matcher_requests_total{input="file",outcome="ok"} 5.0' in metrics
    assert "openncii_matcher_hashing_uploads 0.0" in metrics
