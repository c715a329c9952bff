"""Case service benchmark: case creations and status checks with N concurrent clients.

Starts ``openncii serve`` (production argon2id: 19 MiB, t=2, p=1; rate limits lifted) on a fresh
database, or targets ``--server``, then runs two timed phases with ``--clients`` concurrent
HTTP clients (asyncio + httpx, one keep-alive connection each):

1. ``POST /api/v1/cases`` with 3 random PDQ hashes each (``--creates`` requests);
2. ``POST /api/v1/cases/status`` with the right PIN of a random created case (``--statuses``).

PIN hashing has its own bounded pool (``openncii.cases.pins.PinSlots``): requests beyond its
queue get 503 + ``Retry-After`` at once. Clients here do not wait: a refused request is counted
as *shed* and the client sends its next one at once (hammering); a phase ends after its number of
*accepted* answers. While the status phase runs, a probe fetches ``/healthz`` and the static
page ``/index.html`` ten times a second: their p99 is the goal of issue 13 (/healthz <= 50 ms,
static <= 100 ms, accepted status checks <= 2 s with 50 clients).

Prints requests/s and latency percentiles per phase (``--markdown`` for a table row). Note the
load generator runs on the same machine as the server and takes part of its CPU.

    .venv/bin/python bench/api.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx

from openncii.settings import Settings
from openncii.testing import ServerProcess, create_schema, start_server

ELIGIBLE = dict.fromkeys(
    ("in_image", "adult_when_taken", "adult_now", "has_content", "intimate"), True
)


@dataclass
class Phase:
    name: str
    latencies: list[float]  # of accepted answers (anything but 503)
    wall: float
    errors: dict[int | str, int]
    server_cpu: float | None = None  # CPU seconds the server's processes used in the phase
    shed: int = 0  # 503 answers (PIN hashing at capacity)

    @property
    def shed_rate(self) -> float:
        return self.shed / max(1, self.shed + len(self.latencies))

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:8s} {len(self.latencies):6d} req  {self.rate:7.1f} req/s  "
            f"p50 {self.pct(0.50):6.1f} ms  p90 {self.pct(0.90):6.1f} ms  "
            f"p99 {self.pct(0.99):6.1f} ms  mean {statistics.mean(self.latencies) * 1000:6.1f} ms"
            f"  shed {self.shed} ({self.shed_rate:.0%})  errors {self.errors or 'none'}"
            + (
                f"  server CPU {self.server_cpu / len(self.latencies) * 1000:.1f} ms/req"
                if self.server_cpu is not None
                else ""
            )
        )


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of ``pid`` and its live children (Linux /proc), or None."""
    if pid is None:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
        total = 0.0
        for one in pids:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError):
        return None
    return total


def _argon2_ms(memory_kib: int, time_cost: int) -> float:
    """Median time of one argon2id hash with these parameters on this machine, now."""
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
    )
    samples = []
    for _ in range(7):
        start = time.perf_counter()
        hasher.hash("12345678")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


async def _run_phase(
    name: str,
    base: str,
    clients: int,
    total: int,
    make_body: Any,
    keep: list[Any] | None,
    server_pid: int | None = None,
    honour_retry_after: bool = False,
) -> Phase:
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    shed = 0
    remaining = total
    path = "/api/v1/cases" if name == "create" else "/api/v1/cases/status"

    async def worker() -> None:
        nonlocal remaining, shed
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while remaining > 0:
                body = make_body()
                start = time.perf_counter()
                try:
                    response = await client.post(path, json=body)
                except httpx.TransportError as exc:  # counted, not fatal: the run goes on
                    remaining -= 1
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                if response.status_code == 503:  # shed at once: hammer on (or wait as told)
                    shed += 1
                    if honour_retry_after:
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                remaining -= 1
                latencies.append(time.perf_counter() - start)
                if response.status_code >= 300:
                    errors[response.status_code] = errors.get(response.status_code, 0) + 1
                elif keep is not None:
                    created = response.json()
                    keep.append({"case_number": created["case_number"], "pin": created["pin"]})

    cpu_before = _cpu_seconds(server_pid)
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - start
    cpu_after = _cpu_seconds(server_pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Phase(name, latencies, wall, errors, cpu, shed)


def _probe(base: str, path: str, stop: Any, results: Any) -> None:
    """GET ``path`` ten times a second (one connection) until ``stop`` is set; runs in a
    process of its own, so that the load generator's event loop does not delay its timings."""
    latencies: list[float] = []
    failures: list[int] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            start = time.perf_counter()
            response = client.get(path)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                failures.append(response.status_code)
            time.sleep(0.1)
    results.put((path, latencies, failures))


class _Probes:
    """Probe processes for ``/healthz`` and a static page while a phase runs."""

    PATHS: ClassVar[dict[str, str]] = {"/healthz": "healthz", "/index.html": "static"}

    def __init__(self, base: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.results = context.Queue()
        self.started = time.perf_counter()
        self.processes = [
            context.Process(target=_probe, args=(base, path, self.stop, self.results))
            for path in self.PATHS
        ]
        for process in self.processes:
            process.start()

    def finish(self) -> list[Phase]:
        self.stop.set()
        wall = time.perf_counter() - self.started
        phases = []
        for _ in self.processes:
            path, latencies, failures = self.results.get(timeout=120)
            errors: dict[int | str, int] = {}
            for code in failures:
                errors[code] = errors.get(code, 0) + 1
            phases.append(Phase(self.PATHS[path], latencies, wall, errors))
        for process in self.processes:
            process.join(30)
        return sorted(phases, key=lambda p: p.name)


def _case_body() -> dict[str, Any]:
    hashes = [
        {"type": "pdq", "value": f"{random.getrandbits(256):064x}", "quality": 90} for _ in range(3)
    ]
    return {"eligibility": ELIGIBLE, "hashes": hashes}


async def bench(
    base: str,
    clients: int,
    creates: int,
    statuses: int,
    server_pid: int | None,
    honour_retry_after: bool = False,
) -> list[Phase]:
    # Warm-up: connections, the server's first-use secrets and caches.
    warm: list[Any] = []
    await _run_phase("warm-up", base, min(clients, 10), 20, _case_body, warm)
    created: list[Any] = []
    create = await _run_phase(
        "create", base, clients, creates, _case_body, created, server_pid, honour_retry_after
    )
    credentials = created or warm
    probes = _Probes(base)
    await asyncio.sleep(2)  # the probe processes start
    status = await _run_phase(
        "status",
        base,
        clients,
        statuses,
        lambda: random.choice(credentials),
        None,
        server_pid,
        honour_retry_after,
    )
    return [create, status, *probes.finish()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--server", help="benchmark a running server instead of starting one")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--statuses", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--markdown", action="store_true", help="print markdown table rows")
    parser.add_argument(
        "--argon2-memory-kib", type=int, help="override (default: production 19456 KiB)"
    )
    parser.add_argument("--argon2-time-cost", type=int, help="override (default: production 2)")
    parser.add_argument("--pin-hash-queue", type=int, help="override (default: 4 per core)")
    parser.add_argument(
        "--honour-retry-after",
        action="store_true",
        help="clients wait Retry-After after a 503, as the web app and the CLI do (default: "
        "they hammer on)",
    )
    args = parser.parse_args()

    server: ServerProcess | None = None
    base = args.server
    label = "server " + str(args.server)
    if base is None:
        url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        if backend == "PostgreSQL":
            url = create_schema(url, f"bench_{os.getpid()}_{int(time.time())}")
        extra: dict[str, str] = {}
        if args.argon2_memory_kib:
            extra["OPENNCII_ARGON2_MEMORY_KIB"] = str(args.argon2_memory_kib)
        if args.argon2_time_cost:
            extra["OPENNCII_ARGON2_TIME_COST"] = str(args.argon2_time_cost)
        argon2 = (
            f"argon2 m={args.argon2_memory_kib} KiB t={args.argon2_time_cost}"
            if extra
            else "argon2id 19 MiB t=2 p=1"
        )
        label = f"{backend}, {args.workers} worker(s), {argon2}"
        if args.honour_retry_after:
            label += ", clients honour Retry-After"
        if args.pin_hash_queue is not None:
            extra[Settings.env_name("pin_hash_queue")] = str(args.pin_hash_queue)
            label += f", PIN queue {args.pin_hash_queue}"
        # Production argon2 unless overridden; rate limits out of the way; a larger pool.
        extra[Settings.env_name("database_pool_size")] = "20"
        server = start_server(
            url, extra, fast=False, workers=args.workers, log_level="warning", timeout=60
        )
        base = server.base_url
    load_before = os.getloadavg()[0]
    try:
        pid = server.process.pid if server is not None else None
        phases = asyncio.run(
            bench(base, args.clients, args.creates, args.statuses, pid, args.honour_retry_after)
        )
    finally:
        if server is not None:
            server.stop()
    load = os.getloadavg()[0]
    argon2_now = _argon2_ms(args.argon2_memory_kib or 19456, args.argon2_time_cost or 2)
    print(
        f"# {label}, {args.clients} concurrent clients "
        f"(load average before: {load_before:.1f}, after: {load:.1f})"
    )
    print(f"# one argon2 hash on this machine right after the run: {argon2_now:.1f} ms")
    for phase in phases:
        print(phase.line())
    if args.markdown:
        for phase in phases:
            print(
                f"| {label} | {phase.name} | {args.clients} | {len(phase.latencies)} | "
                f"{phase.rate:.1f} | {phase.pct(0.5):.0f} | {phase.pct(0.99):.0f} | "
                f"{(phase.server_cpu or 0) / len(phase.latencies) * 1000:.0f} | "
                f"{phase.shed_rate:.0%} | "
                f"{sum(phase.errors.values())} | {load:.1f} | {argon2_now:.0f} |"
            )


if __name__ == "__main__":
    main()
