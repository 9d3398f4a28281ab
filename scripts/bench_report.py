#!/usr/bin/env python3
"""Benchmark: one article's report, and the common queries, on a database of a million captures.

Builds a synthetic archive database with archiver's own schema (migrations and all): 1,000
articles citing 40 sources each, 1,000,000 captures spread over 50,000 URLs and 1,000 runs,
100,000 change events, texts and quotations. Then times the report of one article (median
of several) and prints SQLite's plan for `changes --since`, the recheck schedule, and every
query of docs/querying.md (its SQL blocks, the SELECTs of its `archiver query` and
`sqlite-utils query` examples, and the views it names, read from the file itself so the
benchmark follows the documentation): each must SEARCH by an index, never SCAN a large table.

    python scripts/bench_report.py [--captures 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import re
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
    "an article's quotations": "SELECT * FROM quotes WHERE article_id = 7 ORDER BY position",
    "what is due for recheck": "SELECT id FROM urls WHERE next_check_at <= '2026-12-01T00:00:00.000Z'",
}


# Scans that are the question itself: "which citations were never captured" looks at every
# citation once (each with an indexed lookup of its captures); it grows with the articles'
# citations, not with the captures.
ALLOWED_SCANS = {"docs: Sources never captured, and why": "c"}

DOCS = Path(__file__).resolve().parents[1] / "docs" / "querying.md"


def documented_queries(path: Path = DOCS) -> dict[str, str]:
    """Every query docs/querying.md shows: its ```sql blocks (named by the sentence before them),
    the SELECTs quoted in its shell examples, and a SELECT * of each view it names."""
    found: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for match in re.finditer(r"([^\n]+)\n\n```sql\n(.*?)```", text, re.S):
        found[f"docs: {match.group(1).strip().rstrip(':')}"] = match.group(2).strip().rstrip(";")
    for match in re.finditer(r"```sh\n(.*?)```", text, re.S):
        for line in match.group(1).splitlines():
            quoted = re.search(r'(?:archiver .*query|sqlite-utils query \S+) "(SELECT[^"]*)"', line)
            if quoted:
                found[f"docs: {quoted.group(1)[:60]}"] = quoted.group(1)
    for view in re.findall(r"^\| `(\w+)` \|", text, re.M):
        found[f"docs: view {view}"] = f"SELECT * FROM {view}"
    return found


def common_queries(store: Store) -> dict[str, str]:
    """QUERIES with `changes --since` as archiver runs it (its SQL traced), and the documented ones."""
    from archiver.db.queries import change_events

    traced: list[str] = []
    store.conn.set_trace_callback(traced.append)
    try:
        change_events(store, since="2026-12-30")
    finally:
        store.conn.set_trace_callback(None)
    return {**QUERIES, "changes --since": next(sql for sql in traced if "FROM changes" in sql), **documented_queries()}


def query_plan(conn, name: str, sql: str) -> tuple[bool, list[str], list[str]]:
    """(whether the query reads every row by design, its plan's lines, the lines that scan a table they should not)."""
    views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    # A query of a table with no condition reads every row by design (SELECT * FROM runs): its scan is its answer.
    target = re.search(r"\bFROM\s+(\w+)", sql, re.I)
    whole = not re.search(r"\b(WHERE|JOIN)\b", sql, re.I) and not (target and target.group(1) in views)
    plan = [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    bad = []
    for detail in plan:
        # Scanning the articles table (one row per article) is fine; nothing bigger may be scanned.
        scanned = detail.split()[1] if detail.startswith("SCAN") else None
        if not whole and scanned and scanned not in ("a", "articles", *views) and ALLOWED_SCANS.get(name) != scanned:
            bad.append(detail)
    return whole, plan, bad


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
    # No ANALYZE: archiver never runs it, so the plans printed are the ones a real archive gets.
    # (With sqlite_stat1, a column like urls.state, almost always 'ok', looks unselective for its
    # rare values and the planner would scan urls for "sources gone".)
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
        scans: list[str] = []
        for name, sql in common_queries(store).items():
            whole, plan, bad = query_plan(store.conn, name, sql)
            print(f"\n{name}{' (reads every row by design)' if whole else ''}: EXPLAIN QUERY PLAN")
            for detail in plan:
                print("   ", detail)
            scans += [f"{name}: {detail}" for detail in bad]
        print(f"\nfull scans of a table other than articles, in queries with a condition: {len(scans)}")
        for line in scans:
            print("   ", line)
        store.conn.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
