"""Start-up of the command line: ``openncii --help`` and ``--version``, this tree against a
git revision (default ``a0b55ca``, before the light package face), interleaved.

The revision's ``src/`` is exported with ``git archive`` into a temporary folder (with this
tree's built ``_mih`` extension) and run by the same interpreter through ``PYTHONPATH``; each
round runs every command once, in turn, so that a change of machine load hits both sides alike.
Prints per command the median wall time and the median CPU time (user + system) of the child,
and the ratios.

    .venv/bin/python bench/startup.py --rounds 40
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export(revision: str, folder: Path) -> Path:
    """``src/`` of ``revision`` in ``folder``, with the built extension modules of this tree."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    for built in (ROOT / "src").rglob("*.so"):
        target = folder / built.relative_to(ROOT)
        if target.parent.is_dir():
            shutil.copy2(built, target)
    return folder / "src"


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and child CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="a0b55ca", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    openncii = str(Path(sys.executable).with_name("openncii"))
    with tempfile.TemporaryDirectory(prefix="openncii-startup-") as tmp:
        base_src = export(args.base, Path(tmp))
        clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        base_env = {**clean, "PYTHONPATH": str(base_src)}
        commands = {
            f"{args.base}: openncii --help": ([openncii, "--help"], base_env),
            "this tree: openncii --help": ([openncii, "--help"], clean),
            f"{args.base}: openncii --version": ([openncii, "--version"], base_env),
            "this tree: openncii --version": ([openncii, "--version"], clean),
            "floor: python -c pass": ([sys.executable, "-c", "pass"], clean),
        }
        for command, env in commands.values():  # warm-up: imports, file cache
            run_once(command, env)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, (command, env) in commands.items():
                wall, cpu = run_once(command, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    load = os.getloadavg()[0]
    print(f"# {args.rounds} interleaved rounds; load average after: {load:.1f}")
    print("| command | median wall (ms) | median CPU (ms) |")
    print("|---|---:|---:|")
    for name in commands:
        wall = statistics.median(walls[name]) * 1000
        cpu = statistics.median(cpus[name]) * 1000
        print(f"| {name} | {wall:.0f} | {cpu:.0f} |")
    for flag in ("--help", "--version"):
        before = statistics.median(walls[f"{args.base}: openncii {flag}"])
        after = statistics.median(walls[f"this tree: openncii {flag}"])
        before_cpu = statistics.median(cpus[f"{args.base}: openncii {flag}"])
        after_cpu = statistics.median(cpus[f"this tree: openncii {flag}"])
        print(
            f"{flag}: {before / after:.1f}x faster (median wall), "
            f"{before_cpu / after_cpu:.1f}x less CPU"
        )


if __name__ == "__main__":
    main()
