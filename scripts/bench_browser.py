#!/usr/bin/env python3
"""Benchmark: browser capture (--browser) beside plain capture of the bundled sample web, in the same run.

The sample web (an article citing ~10 sources on invented hosts) is served through its local
proxy; archiver captures it into a fresh archive per repetition, once per mode. Printed per
mode: pages captured per second (article and sources, wall time of the whole command,
Chromium's start included) and peak RSS of the whole process tree (archiver, Playwright's
driver and every Chromium process, PSS summed, sampled every 20 ms), then browser/plain ratios.

    python scripts/bench_browser.py [--repeat 3]

Needs Chromium on PATH (apt-get install chromium) and Playwright (pip install -e '.[browser]').
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.net.browser import BrowserMissing, find_browser  # noqa: E402
from archiver.sample import ARTICLE_URL, SampleWeb  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _pss(pid: int) -> int | None:
    """Proportional set size: shared pages divided among the processes sharing them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def tree_rss(root: int) -> int:
    """Memory of ``root`` and all its descendants, from /proc: summed PSS (RSS where PSS is unreadable),
    so that libraries shared by Chromium's processes count once, not once per process."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/statm", "rb") as fh:
                resident = int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents[int(entry)] = int(stat[1])
        rss[int(entry)] = resident * PAGE_SIZE
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(_pss(pid) or rss.get(pid, 0) for pid in tree)


def measured(cmd: list[str]) -> tuple[float, int, dict]:
    """(seconds, peak tree RSS in bytes, JSON output) of one archiver command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"archiver exited {proc.returncode}: {' '.join(cmd)}")
    return seconds, peak, json.loads(out)


def pages_of(outcome: dict) -> int:
    return sum(1 + len(a["sources"]) for a in outcome["articles"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="captures per mode (medians are printed)")
    args = parser.parse_args()
    try:
        chromium = find_browser()
    except BrowserMissing as exc:
        print(f"SKIPPED: {exc}", file=sys.stderr)
        return 0
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-browser-"))
    modes = {"plain": [], "browser": ["--browser", "--browser-path", chromium]}
    results: dict[str, list[tuple[float, int, int]]] = {m: [] for m in modes}
    try:
        with SampleWeb(hang_seconds=2) as web:
            for repetition in range(args.repeat):
                for mode, extra in modes.items():  # interleaved, so load on the machine hits both alike
                    archive = work / f"{mode}-{repetition}"
                    cmd = [sys.executable, "-m", "archiver.cli", "--archive", str(archive), "capture", ARTICLE_URL,
                           "--proxy", web.proxy_url, "--timeout", "2", "--deadline", "6", "--retries", "0", "--json", *extra]
                    seconds, peak, outcome = measured(cmd)
                    results[mode].append((seconds, peak, pages_of(outcome)))
                    shutil.rmtree(archive, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    summary = {}
    for mode, runs in results.items():
        summary[mode] = {
            "pages": runs[0][2],
            "seconds": statistics.median(r[0] for r in runs),
            "pages_per_s": statistics.median(r[2] / r[0] for r in runs),
            "peak_rss_mib": max(r[1] for r in runs) / 2**20,
        }
    plain, browser = summary["plain"], summary["browser"]
    print(f"sample web: {ARTICLE_URL} and its sources, {args.repeat} captures per mode, medians (peak RSS: the largest)")
    print(f"{'':18} {'plain':>10} {'--browser':>10} {'browser/plain':>14}")
    for key, label in (("pages", "pages captured"), ("seconds", "wall time (s)"), ("pages_per_s", "pages/s"), ("peak_rss_mib", "peak RSS (MiB)")):
        ratio = browser[key] / plain[key] if plain[key] else float("nan")
        print(f"{label:18} {plain[key]:10.2f} {browser[key]:10.2f} {ratio:14.2f}")
    print("peak RSS is the whole process tree (PSS summed): archiver, and under --browser Playwright's driver and every Chromium process.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
