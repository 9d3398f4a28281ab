#!/usr/bin/env python3
"""Benchmark: archiver capture against wget --warc-file on the same URL list, in the same run.

A local server on 127.0.0.1 serves N pages (with a small per-request latency, as a remote
server would have). Both tools fetch the same list into WARC files; the script prints wall
time, peak memory and WARC bytes for each and the ratios archiver/wget.

    python scripts/bench_capture.py [--pages 200] [--size 40000] [--latency 0.03]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_server(pages: int, size: int, latency: float) -> ThreadingHTTPServer:
    rng = random.Random(7)
    words = "bridge council repair budget minister transcript report river ferry toll engineer".split()
    bodies = {}
    for i in range(pages):
        text = " ".join(rng.choice(words) for _ in range(size // 7))
        bodies[f"/page/{i}"] = f"<html><head><title>Page {i}</title></head><body><p>{text}</p></body></html>".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            time.sleep(latency)
            body = bodies.get(self.path.split("?")[0])
            status = 200 if body else 404
            body = body or b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit status) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def warc_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*.warc.gz"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--size", type=int, default=40_000, help="approximate bytes per page")
    parser.add_argument("--latency", type=float, default=0.03, help="seconds the server waits before each answer")
    args = parser.parse_args()
    if not shutil.which("wget"):
        print("SKIPPED: wget is not installed (the baseline); apt-get install wget", file=sys.stderr)
        return 0
    server = make_server(args.pages, args.size, args.latency)
    base = f"http://127.0.0.1:{server.server_port}"
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-"))
    try:
        urls = [f"{base}/page/{i}" for i in range(args.pages)]
        (work / "urls.txt").write_text("\n".join(urls) + "\n")
        wget_dir = work / "wget"
        wget_dir.mkdir()
        wget = timed(["wget", "--quiet", "--input-file", str(work / "urls.txt"), "--warc-file", "bench",
                      "--no-warc-keep-log", "--delete-after", "--tries", "1", "-e", "robots=off"], wget_dir)
        arch_dir = work / "archive"
        archiver = timed([sys.executable, "-m", "archiver.cli", "--archive", str(arch_dir), "capture",
                          str(work / "urls.txt"), "--allow-private", "--retries", "0"], work)
        rows = [
            ("wall time (s)", wget[0], archiver[0]),
            ("peak RSS (MiB)", wget[1] / 1024, archiver[1] / 1024),
            ("WARC bytes", warc_bytes(wget_dir), warc_bytes(arch_dir)),
        ]
        print(f"{args.pages} pages of ~{args.size} bytes, {args.latency * 1000:.0f} ms server latency; exit wget={wget[2]} archiver={archiver[2]}")
        print(f"{'':16} {'wget':>12} {'archiver':>12} {'archiver/wget':>14}")
        for name, a, b in rows:
            print(f"{name:16} {a:12.2f} {b:12.2f} {b / a if a else float('nan'):14.2f}")
        print("archiver also extracts main text, finds citations and records provenance rows; wget fetches sequentially.")
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
