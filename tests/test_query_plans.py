"""`changes --since`, the recheck schedule and every query docs/querying.md shows go through indexes.

SQLite's plan depends on the schema, not on the data (archiver never runs ANALYZE), so an empty
archive gives the plans a large one gets; scripts/bench_report.py prints them on a million
captures and times the report.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from archiver.db.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _bench_report():
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "scripts" / "bench_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documented_queries_are_found_in_the_docs():
    queries = _bench_report().documented_queries()
    names = " ".join(queries)
    for expected in ("Sources that are gone", "Changes detected this week", "quoted passages changed", "Every capture of one URL",
                     "view sources_gone", "view article_status", "view quotations_altered", "view changes_this_week"):
        assert expected in names, f"{expected!r} not read from docs/querying.md"


def test_common_queries_search_by_index(tmp_path):
    bench = _bench_report()
    store = Store(tmp_path / "archive.db")
    try:
        store.migrate()
        problems = {}
        queries = bench.common_queries(store)
        assert "FROM changes" in queries["changes --since"]
        for name, sql in queries.items():
            _whole, plan, bad = bench.query_plan(store.conn, name, sql)
            assert plan, name
            if bad:
                problems[name] = bad
        assert not problems, problems
    finally:
        store.close()
