#!/usr/bin/env python3
"""Benchmark: one article's report, and the common queries, on a database of a million captures.

Builds a synthetic archive database with archiver's own schema (migrations and all): 1,000
articles citing 40 sources each, 1,000,000 captures spread over 50,000 URLs and 1,000 runs,
100,000 change events, texts and quotations. Then times the report of one article (median
of several) and prints SQLite's plan for `changes --since` and the queries of
docs/querying.md: each must SEARCH by an index, never SCAN a large table.

    python scripts/bench_report.py [--captures 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.db.chain import chain_hash
from archiver.db.store import Store

QUERIES = {
    "changes --since": None,  # taken from archiver.db.queries.change_events, see below
    "sources gone, with the articles citing them": """
        SELECT u.url, u.state, u.last_checked_at, au.url AS cited_by
          FROM urls u JOIN citations c ON c.url_id = u.id AND c.cited = 1
          JOIN articles a ON a.id = c.article_id JOIN urls au ON au.id = a.url_id
         WHERE u.state IN ('gone', 'soft_404') ORDER BY u.url""",
    "changes detected this week": """
        SELECT ch.detected_at, ch.kind, u.url, ch.similarity
          FROM changes ch JOIN urls u ON u.id = ch.url_id
         WHERE ch.detected_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days') ORDER BY ch.detected_at""",
    "quotations altered or missing": """
        SELECT au.url AS article, a.title, q.status, q.similarity, su.url AS source, q.text
          FROM quotes q JOIN articles a ON a.id = q.article_id JOIN urls au ON au.id = a.url_id
          LEFT JOIN urls su ON su.id = q.url_id
         WHERE q.status IN ('altered', 'missing') ORDER BY au.url, q.position""",
    "every capture of one URL": """
        SELECT c.id, c.fetched_at, c.http_status, c.record_type, c.payload_sha256, c.warc_file, c.warc_offset
          FROM captures c JOIN urls u ON u.id = c.url_id
         WHERE u.url = 'http://site-7.example/doc/7' ORDER BY c.id""",
    "an article's quotations": "SELECT * FROM quotes WHERE article_id = 7 ORDER BY position",
    "what is due for recheck": "SELECT id FROM urls WHERE next_check_at <= '2026-12-01T00:00:00.000Z'",
}


def stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1_764_547_200 + seconds))


def build(path: Path, captures: int, articles: int = 1000, cites: int = 40, urls: int = 50_000) -> None:
    store = Store(path)
    store.migrate()  # archiver's schema, through its migrations
    conn = store.conn
    rng = random.Random(12)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    runs = 1000
    conn.executemany(
        "INSERT INTO runs (id, command, args, software, started_at, finished_at, status) VALUES (?, 'recheck', '{}', 'bench', ?, ?, 'finished')",
        [(i + 1, stamp(i * 3600), stamp(i * 3600 + 60)) for i in range(runs)],
    )
    conn.executemany(
        "INSERT INTO urls (id, url, host, first_seen, state, next_check_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(i + 1, f"http://site-{i % 500}.example/doc/{i}", f"site-{i % 500}.example", stamp(0),
          "gone" if i % 97 == 0 else "ok", stamp(3_600_000 + i)) for i in range(urls)],
    )
    rows = []
    for i in range(captures):
        url_id = i % urls + 1
        rows.append((i + 1, url_id, i % runs + 1, f"http://site-{(url_id - 1) % 500}.example/doc/{url_id - 1}", stamp(i * 3), 200,
                     "text/html", 20_000, f"{rng.getrandbits(256):064x}", f"warcs/bench-{i // 5000:05d}.warc.gz", (i % 5000) * 7000, 7000,
                     "response" if i < urls else "revisit", f"<urn:uuid:{i:032x}>", None if i < urls else url_id))
        if len(rows) == 50_000:
            conn.executemany(
                "INSERT INTO captures (id, url_id, run_id, requested_url, fetched_at, http_status, content_type, content_length, "
                "payload_sha256, warc_file, warc_offset, warc_length, record_type, warc_record_id, revisit_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            rows = []
    if rows:
        conn.executemany(
            "INSERT INTO captures (id, url_id, run_id, requested_url, fetched_at, http_status, content_type, content_length, "
            "payload_sha256, warc_file, warc_offset, warc_length, record_type, warc_record_id, revisit_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    # The tamper-evident chain, as archiver writes it (the report names its head).
    previous = None
    updates = []
    cursor = conn.execute("SELECT * FROM captures ORDER BY id")
    names = [d[0] for d in cursor.description]
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        previous = chain_hash(previous, row)
        updates.append((previous, row["id"]))
    conn.executemany("UPDATE captures SET chain_hash = ? WHERE id = ?", updates)
    del updates
    text = " ".join(["The council said the bridge repair would finish in spring."] * 30)
    conn.executemany("INSERT INTO texts (capture_id, url_id, kind, title, text) VALUES (?, ?, 'html', 'A source', ?)",
                     [(u, u, text) for u in range(1, urls + 1)])
    conn.executemany("UPDATE urls SET baseline_capture_id = ? WHERE id = ?", [(u, u) for u in range(1, urls + 1)])
    article_url_ids = range(urls + 1, urls + articles + 1)
    conn.executemany("INSERT INTO urls (id, url, host, first_seen) VALUES (?, ?, 'paper.example', ?)",
                     [(u, f"http://paper.example/article-{u - urls}.html", stamp(0)) for u in article_url_ids])
    conn.executemany("INSERT INTO articles (id, url_id, title, added_at, capture_id, source) VALUES (?, ?, ?, ?, ?, 'web')",
                     [(a + 1, urls + a + 1, f"Article {a + 1}", stamp(0), a + 1) for a in range(articles)])
    conn.executemany(
        "INSERT INTO citations (article_id, url_id, href, anchor_text, position, cited) VALUES (?, ?, ?, 'a source', ?, 1)",
        [(a + 1, rng.randrange(urls) + 1, "http://x", p) for a in range(articles) for p in range(cites)],
    )
    conn.executemany(
        "INSERT INTO changes (url_id, from_capture_id, to_capture_id, kind, similarity, detected_at, run_id) VALUES (?, ?, ?, 'content_changed', 0.8, ?, ?)",
        [(i % urls + 1, i % urls + 1, captures - i, stamp(i * 30), i % runs + 1) for i in range(captures // 10)],
    )
    conn.executemany(
        "INSERT INTO quotes (article_id, text, position, url_id, status, similarity) VALUES (?, 'the bridge repair would finish in spring', ?, ?, ?, 1.0)",
        [(a + 1, p, rng.randrange(urls) + 1, "present" if p else "altered") for a in range(articles) for p in range(3)],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    store.conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database in this directory")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="archiver-bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "archive.db"
    try:
        if not db.exists():
            start = time.perf_counter()
            build(db, args.captures)
            print(f"built {db} ({args.captures:,} captures) in {time.perf_counter() - start:.0f} s")
        from archiver.db.queries import change_events
        from archiver.outputs.report import build_report

        store = Store(db, readonly=True)
        count = store.value("SELECT count(*) FROM captures")
        article = "http://paper.example/article-7.html"
        times = {}
        for fmt in ("md", "json", "html"):
            samples = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                build_report(store, article, fmt)
                samples.append(time.perf_counter() - start)
            times[fmt] = statistics.median(samples)
        print(f"one article's report with {count:,} captures rows: " + ", ".join(f"{f} {t * 1000:.1f} ms" for f, t in times.items())
              + f" (median of {args.repeat})")
        start = time.perf_counter()
        events = change_events(store, since="2026-12-30")
        print(f"changes --since 2026-12-30: {len(events)} events in {(time.perf_counter() - start) * 1000:.1f} ms")

        # The plans: change_events' own SQL, captured from the connection's trace.
        traced: list[str] = []
        store.conn.set_trace_callback(traced.append)
        change_events(store, since="2026-12-30")
        store.conn.set_trace_callback(None)
        QUERIES["changes --since"] = next(sql for sql in traced if "FROM changes" in sql)
        scans = 0
        for name, sql in QUERIES.items():
            print(f"\n{name}: EXPLAIN QUERY PLAN")
            for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql):
                detail = row[-1]
                print("   ", detail)
                # Scanning the articles table (a thousand rows here) is fine; nothing bigger may be scanned.
                if detail.startswith("SCAN") and detail.split()[1] not in ("a", "articles"):
                    scans += 1
        print(f"\nfull scans of a table other than articles: {scans}")
        store.conn.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
