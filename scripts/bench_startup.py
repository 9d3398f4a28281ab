#!/usr/bin/env python3
"""Benchmark: how long `archiver --help` takes to start, against Python itself in the same run.

Times, alternating and several rounds each (median of wall-clock seconds):
  - ``python -c pass``: the interpreter alone, the floor no command can beat;
  - ``python -c "import click"``: the command-line library alone;
  - ``python -m archiver --help`` and ``python -m archiver capture --help`` of this tree;
  - the same two commands of an earlier revision (``--baseline-rev``, default ``main``),
    unpacked from git into a temporary directory, when git and that revision are there.
The target (issue 12) is under 0.3 s; the ratio to ``python -c pass`` is the figure that holds
from machine to machine.

    python scripts/bench_startup.py [--rounds 15] [--baseline-rev main]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_seconds(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    # From the empty HOME: the current directory comes first on sys.path and must hold no archiver package.
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=env["HOME"], timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def unpack_revision(rev: str, into: Path) -> bool:
    """The archiver package of ``rev`` under ``into`` (False when git or the revision is missing)."""
    try:
        blob = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "archiver"],
                              capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.CalledProcessError):
        return False
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline-rev", default="main", help="git revision to compare with ('' for none)")
    args = parser.parse_args()

    # No user config and no archive: help must need neither, and neither should slow it.
    home = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    base_env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
    here_env = {**base_env, "PYTHONPATH": str(ROOT)}
    py = sys.executable
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([py, "-c", "pass"], base_env),
        "python -c 'import click'": ([py, "-c", "import click"], base_env),
        "archiver --help (this tree)": ([py, "-m", "archiver", "--help"], here_env),
        "archiver capture --help (this tree)": ([py, "-m", "archiver", "capture", "--help"], here_env),
    }
    if args.baseline_rev:
        old = home / "baseline"
        if unpack_revision(args.baseline_rev, old):
            # PYTHONPATH comes before the editable install's finder, so the old package is the one imported.
            old_env = {**base_env, "PYTHONPATH": str(old)}
            cases[f"archiver --help ({args.baseline_rev})"] = ([py, "-m", "archiver", "--help"], old_env)
            cases[f"archiver capture --help ({args.baseline_rev})"] = ([py, "-m", "archiver", "capture", "--help"], old_env)
        else:
            print(f"(no baseline: git revision {args.baseline_rev!r} not available)")

    for argv, env in cases.values():  # warm the page cache and write .pyc files before timing
        run_seconds(argv, env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (argv, env) in cases.items():  # alternating, so a busy moment hits every case alike
            times[name].append(run_seconds(argv, env))

    floor = statistics.median(times["python -c pass"])
    print(f"{'case':<40} {'median s':>9} {'min s':>7} {'x python -c pass':>17}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<40} {median:9.3f} {min(values):7.3f} {median / floor:17.1f}")
    worst = max(statistics.median(v) for n, v in times.items() if "this tree" in n)
    print(f"\nslowest help of this tree: {worst:.3f} s (target: under 0.3 s) -> {'OK' if worst < 0.3 else 'OVER'}")


if __name__ == "__main__":
    main()
