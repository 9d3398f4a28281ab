"""Measure ``archiver verify --deep`` on the real pages of the shared test corpus.

What is measured: whether re-deriving texts, citations, quotations and change events from
the WARC records gives back exactly the rows capture and recheck wrote (every difference
on an untouched archive is a false alarm), and what the deep check costs.

    serve on 127.0.0.1: every corpus article page (AEB, trafilatura-eval) at /a/NAME.html,
        and an index article at /index.html citing /v/PAIR.html, each page-versions pair
    capture every article (--max-sources 0: their own links lead to the internet), then the
        index with its sources (version a of each pair)
    switch every pair to version b; recheck --all (change events on real pages)
    verify, then verify --deep: differences found, rows checked, seconds

Baseline (same run): plain ``verify`` time; deep time is reported as a ratio to it. Then each
kind of row is tampered with on a copy (and re-sealed, so only --deep can see it) to confirm
that the same run catches it.

Usage: python scripts/measure_deep_verify.py [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sqlite3
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner

from archiver.cli import main

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FAST = ["--allow-private", "--timeout", "5", "--deadline", "20", "--retries", "0"]


def pages(limit: int | None) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for path in sorted((CORPUS / "articles" / "aeb" / "html").glob("*.html.gz")):
        found[f"aeb-{path.name[:-8]}"] = gzip.decompress(path.read_bytes())
    for path in sorted((CORPUS / "articles" / "trafilatura-eval" / "html").glob("*.html")):
        found[f"traf-{path.stem}"] = path.read_bytes()
    names = sorted(found)[:limit] if limit else sorted(found)
    return {name: found[name] for name in names}


def pairs() -> dict[str, tuple[bytes, bytes]]:
    found = {}
    base = CORPUS / "page-versions" / "wm-processing-archives"
    for before in sorted(base.glob("*-a.html")):
        after = before.with_name(before.name[:-7] + "-b.html")
        if after.exists():
            found[before.name[:-7]] = (before.read_bytes(), after.read_bytes())
    return found


class Site:
    def __init__(self, articles: dict[str, bytes], versions: dict[str, tuple[bytes, bytes]]) -> None:
        self.articles, self.versions, self.version = articles, versions, 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                body = site.body(self.path)
                self.send_response(200 if body is not None else 404)
                body = body if body is not None else b"<html><body><h1>Not found</h1></body></html>"
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def body(self, path: str) -> bytes | None:
        if path == "/index.html":
            items = "".join(
                f'<li>On the changes to <a href="/v/{name}.html">{name.replace("-", " ")}</a>, as reported that week.</li>'
                for name in self.versions
            )
            return (
                "<html><head><title>Sources we watch</title></head><body><article><h1>Sources we watch</h1>"
                f"<p>The pages below were cited in our reporting.</p><ul>{items}</ul></article></body></html>"
            ).encode()
        if path.startswith("/a/") and path[3:-5] in self.articles:
            return self.articles[path[3:-5]]
        if path.startswith("/v/") and path[3:-5] in self.versions:
            return self.versions[path[3:-5]][self.version]
        return None


def cli(archive: Path, *args: str):
    result = CliRunner().invoke(main, ["--archive", str(archive), *args], catch_exceptions=False)
    return result


def timed_verify(archive: Path, *args: str) -> tuple[dict, float]:
    started = time.perf_counter()
    result = cli(archive, "verify", "--json", *args)
    return json.loads(result.stdout), time.perf_counter() - started


TAMPER = [
    ("texts.text", "UPDATE texts SET text = text || ' Forged.' WHERE capture_id = (SELECT MIN(capture_id) FROM texts)"),
    ("captures.title", "UPDATE captures SET title = 'Forged' WHERE id = (SELECT MIN(id) FROM captures WHERE title IS NOT NULL)"),
    ("citations.anchor_text", "UPDATE citations SET anchor_text = 'forged' WHERE id = (SELECT MIN(id) FROM citations WHERE cited = 1)"),
    ("citations deleted", "DELETE FROM citations WHERE id = (SELECT MIN(id) FROM citations WHERE cited = 1)"),
    ("changes.kind", "UPDATE changes SET kind = CASE kind WHEN 'moved' THEN 'gone' ELSE 'moved' END WHERE id = (SELECT MIN(id) FROM changes)"),
    ("changes.similarity", "UPDATE changes SET similarity = 0.123 WHERE id = (SELECT MIN(id) FROM changes WHERE similarity IS NOT NULL)"),
]


def main_(limit: int | None) -> None:
    if not CORPUS.is_dir():
        raise SystemExit(f"no corpus at {CORPUS}")
    from archiver.db.seal import seal

    articles, versions = pages(limit), pairs()
    site = Site(articles, versions)
    work = Path(tempfile.mkdtemp(prefix="deep-verify-"))
    archive = work / "archive"
    try:
        urls = [f"{site.base}/a/{name}.html" for name in articles]
        started = time.perf_counter()
        for start in range(0, len(urls), 50):
            cli(archive, "capture", *urls[start:start + 50], "--max-sources", "0", *FAST)
        capture_s = time.perf_counter() - started
        cli(archive, "capture", f"{site.base}/index.html", *FAST)
        site.version = 1
        cli(archive, "recheck", "--all", *FAST)
        conn = sqlite3.connect(archive / "archive.db")
        counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("captures", "texts", "citations", "quotes", "changes")}
        conn.close()
        conn = sqlite3.connect(archive / "archive.db")
        started = time.perf_counter()
        with conn:
            seal(conn, None, "run")  # what every run's end adds: hashing every covered row
        seal_s = time.perf_counter() - started
        conn.close()
        plain, plain_s = timed_verify(archive)
        deep, deep_s = timed_verify(archive, "--deep")
        false_alarms = [p["message"] for p in deep["problems"]]
        print(f"corpus pages captured: {len(articles)} articles + {len(versions)} page-version pairs")
        print("rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(f"capture of the articles: {capture_s:.1f} s (baseline for the seal); one seal at a run's end: {seal_s:.3f} s = {100 * seal_s / capture_s:.2f}% of it")
        print(f"plain verify: ok={plain['ok']} in {plain_s:.2f} s (baseline)")
        print(f"deep verify:  ok={deep['ok']} in {deep_s:.2f} s = {deep_s / plain_s:.1f}x the baseline")
        print(next(n for n in deep["notes"] if n.startswith("deep:")))
        print(f"false differences on the untouched archive: {len(false_alarms)}")
        for message in false_alarms[:20]:
            print("  ", message[:300])
        caught = 0
        for name, sql in TAMPER:
            copy = work / f"tampered-{len(name)}-{caught}"
            shutil.copytree(archive, copy)
            conn = sqlite3.connect(copy / "archive.db")
            with conn:
                changed = conn.execute(sql).rowcount
                seal(conn, None, "run")
            conn.close()
            doc, _ = timed_verify(copy, "--deep")
            found = changed and len(doc["problems"]) > len(false_alarms)
            caught += bool(found)
            print(f"tampered {name}: {'caught' if found else 'MISSED'} ({len(doc['problems'])} differences)")
            shutil.rmtree(copy)
        print(f"tampering caught by --deep after re-sealing: {caught} of {len(TAMPER)}")
    finally:
        site.httpd.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N article pages")
    main_(parser.parse_args().limit)
