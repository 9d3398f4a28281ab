#!/usr/bin/env python3
"""Benchmark: archiver capture against wget --warc-file on a latency-bound fake web, in the same run.

The fake web (scripts/fakeweb.py) is many invented hosts behind one HTTP proxy on 127.0.0.1,
each answering after its own latency (5-150 ms). archiver is given the articles and finds
and fetches their citations at its defaults (per-host limit 2); wget is given the flat list
of every URL and fetches it sequentially. Rounds alternate (wget, archiver, wget, ...) so a
busy machine slows both alike; the figures that matter are the ratios and archiver's CPU
seconds per URL (user+sys of the process and its extraction workers), which load barely moves.

After every archiver round the database is checked: each URL has a captures row, HTTP 200,
and the SHA-256 of the bytes the fake web served.

    python scripts/bench_capture.py                  # the issue's web: 1 article x 80 citations, 12 hosts
    python scripts/bench_capture.py --web wide       # 4 articles x 80 citations over 16 hosts
    python scripts/bench_capture.py --web large      # 100 articles x 40 citations over 200 hosts
    python scripts/bench_capture.py --web big-body   # 1,000 small sources and one 2 GiB body (memory)
    python scripts/bench_capture.py --before DIR     # also an earlier archiver (git archive COMMIT | tar -x -C DIR)

On the large web wget fetches a random sample of the URLs (--wget-sample, default 300): it
fetches one URL after another, so its rate on a sample is its rate on the whole list.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakeweb import FakeWeb, big_body_sha256

ROOT = Path(__file__).resolve().parents[1]
BIG = 2 << 30

WEBS = {
    # name: (articles, citations per article, hosts, share of citations repeated across articles)
    "small": (1, 80, 12, 0.0),
    "wide": (4, 80, 16, 0.0),
    "large": (100, 40, 200, 0.08),
    "big-body": (10, 100, 100, 0.0),
}


@dataclass
class Run:
    wall: float
    cpu: float  # user+sys of the process and the children it waited for
    max_rss: int  # KiB, the largest single process (ru_maxrss)
    peak_pss: int  # KiB, the largest sum of proportional set sizes over the process tree, sampled
    status: int


def tree_pss(pid: int) -> int:
    """Sum of Pss (KiB) over ``pid`` and its descendants (shared pages counted once, in shares)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
            for task in os.listdir(f"/proc/{p}/task"):
                stack += [int(c) for c in open(f"/proc/{p}/task/{task}/children").read().split()]
        except (OSError, ValueError):
            continue
    return total


def timed(cmd: list[str], cwd: Path) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_pss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1) or (code and b"Traceback" in stderr):
        sys.stderr.write(stderr.decode("utf-8", "replace")[-2000:])
    return Run(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, peak[0], code)


def check_archive(archive: Path, expected: dict[str, str]) -> tuple[int, list[str]]:
    """(captures rows, URLs missing or with a wrong status or hash)."""
    db = sqlite3.connect(f"file:{archive / 'archive.db'}?mode=ro", uri=True)
    try:
        rows = {url: (status, sha) for url, status, sha in db.execute(
            "SELECT u.url, c.http_status, c.payload_sha256 FROM captures c JOIN urls u ON u.id = c.url_id")}
        count = db.execute("SELECT count(*) FROM captures").fetchone()[0]
    finally:
        db.close()
    bad = [url for url, sha in expected.items() if rows.get(url) != (200, sha)]
    return count, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--web", choices=sorted(WEBS), default="small")
    parser.add_argument("--rounds", type=int, default=3, help="archiver rounds (each between two wget rounds)")
    parser.add_argument("--wget-sample", type=int, default=300, help="URLs wget fetches per round on the large web")
    parser.add_argument("--no-wget", action="store_true", help="archiver only (no baseline, no ratios)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--before", type=Path, help="also time the archiver whose source tree is here (say, an earlier "
                        "commit: git archive COMMIT | tar -x -C DIR), in the same alternation")
    parser.add_argument("archiver_args", nargs="*", help="extra capture options, after --")
    args = parser.parse_args()
    if not args.no_wget and not shutil.which("wget"):
        print("SKIPPED: wget is not installed (the baseline); apt-get install wget, or --no-wget", file=sys.stderr)
        return 0
    articles, citations, hosts, shared = WEBS[args.web]
    web = FakeWeb(articles, citations, hosts, shared=shared).start()
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-"))
    try:
        urls = web.urls()
        expected = {u: web.sha256(u) for u in urls}
        targets = list(web.articles)
        if args.web == "big-body":
            big = f"http://{web.articles[0].split('/')[2]}/big/{BIG}"
            expected[big] = big_body_sha256(BIG)
            urls.append(big)
            # The 2 GiB body is cited like any source (a raw data file in a Sources list).
            first = web.pages[web.articles[0]]
            web.pages[web.articles[0]] = type(first)(first.url, first.body.replace(b"<h2>Sources</h2><ol>", f'<h2>Sources</h2><ol><li><a href="{big}">The raw data</a>, as published.</li>'.encode()))
            expected[web.articles[0]] = web.sha256(web.articles[0])
        wget_urls = urls
        if args.web == "large" and args.wget_sample < len(urls):
            wget_urls = random.Random(1).sample(urls, args.wget_sample)
        (work / "urls.txt").write_text("\n".join(wget_urls) + "\n")
        print(f"fake web '{args.web}': {len(web.articles)} articles, {len(urls)} URLs over {len(web.latency)} hosts, "
              f"latency {min(web.latency.values()) * 1000:.0f}-{max(web.latency.values()) * 1000:.0f} ms; "
              f"wget fetches {len(wget_urls)} URLs per round", flush=True)

        def wget_round(i: int) -> Run:
            directory = work / f"wget-{i}"
            directory.mkdir()
            run = timed(["wget", "--quiet", "-e", "robots=off", "-e", "use_proxy=on", "-e", f"http_proxy={web.proxy_url}",
                         "--input-file", str(work / "urls.txt"), "--warc-file", "bench", "--no-warc-keep-log",
                         "--delete-after", "--tries", "1"], directory)
            shutil.rmtree(directory, ignore_errors=True)
            print(f"  wget     round {i}: {run.wall:7.2f} s  {len(wget_urls) / run.wall:7.1f} URLs/s", flush=True)
            return run

        def archiver_round(i: int, source: Path | None = None) -> Run:
            archive = work / f"archive-{i}{'-before' if source else ''}"
            extra = ["--max-bytes", str(BIG + (1 << 20))] if args.web == "big-body" else []
            cmd = [sys.executable, "-m", "archiver", "--archive", str(archive), "capture", *targets, "--proxy", web.proxy_url, *extra, *args.archiver_args]
            if source:
                cmd[1:3] = ["-c", f"import sys; sys.path.insert(0, {str(source.resolve())!r}); import runpy; runpy.run_module('archiver', run_name='__main__')"]
            run = timed(cmd, work)
            count, bad = check_archive(archive, expected)
            print(f"  {'before' if source else 'archiver'} round {i}: {run.wall:7.2f} s  {len(urls) / run.wall:7.1f} URLs/s  "
                  f"CPU {run.cpu * 1000 / len(urls):5.2f} ms/URL  largest process {run.max_rss / 1024:5.0f} MiB  "
                  f"tree PSS {run.peak_pss / 1024:5.0f} MiB  rows {count}  wrong {len(bad)}  exit {run.status}", flush=True)
            if bad:
                print("    wrong or missing:", ", ".join(bad[:5]), flush=True)
            if not args.keep:
                shutil.rmtree(archive, ignore_errors=True)
            return run

        wgets: list[Run] = []
        arch: list[Run] = []
        before: list[Run] = []
        if not args.no_wget:
            wgets.append(wget_round(0))
        for i in range(args.rounds):
            arch.append(archiver_round(i))
            if args.before:
                before.append(archiver_round(i, args.before))
            if not args.no_wget:
                wgets.append(wget_round(i + 1))

        a_rate = statistics.median(len(urls) / r.wall for r in arch)
        print()
        print(f"archiver: median {a_rate:.1f} URLs/s, CPU {statistics.median(r.cpu for r in arch) * 1000 / len(urls):.2f} ms/URL, "
              f"largest process {max(r.max_rss for r in arch) / 1024:.0f} MiB, tree PSS {max(r.peak_pss for r in arch) / 1024:.0f} MiB")
        if before:
            b_rate = statistics.median(len(urls) / r.wall for r in before)
            print(f"before:   median {b_rate:.1f} URLs/s, CPU {statistics.median(r.cpu for r in before) * 1000 / len(urls):.2f} ms/URL, "
                  f"largest process {max(r.max_rss for r in before) / 1024:.0f} MiB, tree PSS {max(r.peak_pss for r in before) / 1024:.0f} MiB; "
                  f"archiver/before {a_rate / b_rate:.1f}x")
        if wgets:
            w_rate = statistics.median(len(wget_urls) / r.wall for r in wgets)
            print(f"wget:     median {w_rate:.1f} URLs/s, CPU {statistics.median(r.cpu for r in wgets) * 1000 / len(wget_urls):.2f} ms/URL, "
                  f"largest process {max(r.max_rss for r in wgets) / 1024:.0f} MiB")
            print(f"throughput archiver/wget: {a_rate / w_rate:.1f}x (rounds alternated; archiver also extracts texts, "
                  "finds citations and writes provenance rows)")
    finally:
        web.stop()
        if args.keep:
            print("work directory:", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
