"""--mementos and --submit: a local web archive speaking Memento (TimeMap, TimeGate, Wayback URL forms)
and a local save endpoint; mementos fetched into the WARC, compared with archiver's first capture, reported."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, UTC

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests import webserver as ws
from tests.conftest import Cli
from tests.mementoserver import MementoServer

FAST = ["--allow-private", "--timeout", "5", "--deadline", "10", "--retries", "0"]
PUBLISHED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)

NOW = {
    "a": "The committee approved the harbour plan on Monday after a long debate about its cost and the fishing fleet.",
    "b": "Rainfall in the valley was twice the ten-year average, the weather service said in its yearly summary.",
    "c": "The museum will stay open on Sundays through the winter, its director announced to the volunteers.",
    "d": "Bus line 7 will run every ten minutes from March, the transport board decided after the survey.",
}
THEN = {
    "a": "The committee rejected the harbour plan on Monday after a long debate about its cost and the fishing fleet.",
    "b": "Rainfall figures for the valley will be published by the weather service at the end of the year.",
}


def source(key: str, text: str) -> bytes:
    return ws.page(f"Source {key.upper()}", f"<p>{text}</p><p>Filed by the newsroom desk for the regional edition.</p>")


@pytest.fixture
def web(server):
    for key, text in NOW.items():
        server.static(f"/src/{key}", source(key, text))
    links = " ".join(f'<p>As <a href="/src/{k}">source {k.upper()} reported</a>, things happened in the region this week.</p>' for k in NOW)
    article = ws.page("Roundup", links).replace(
        b"<head>", f'<head><meta property="article:published_time" content="{PUBLISHED.isoformat()}">'.encode(), 1
    )
    server.static("/article", article)
    return server


@pytest.fixture
def archive(web, tmp_path):
    mementos = MementoServer(live=lambda uri: source("live", "What the page says on the day it was saved, by the archive."))
    url = web.url
    a, b, c, d = (url(f"/src/{k}") for k in "abcd")
    mementos.add(a, datetime(2026, 1, 9, 12, 0, tzinfo=UTC), source("a", THEN["a"]))
    mementos.add(b, datetime(2025, 6, 1, 8, 0, tzinfo=UTC), source("b", THEN["b"]))
    mementos.add(b, datetime(2026, 1, 12, 8, 0, tzinfo=UTC), source("b", NOW["b"]))
    mementos.add(d, datetime(2026, 1, 8, 7, 30, tzinfo=UTC), source("d", NOW["d"]))
    mementos.broken_timemaps.add(d)
    yield Cli(tmp_path / "archive"), mementos, {"a": a, "b": b, "c": c, "d": d}
    mementos.stop()


def db(cli: Cli) -> sqlite3.Connection:
    conn = sqlite3.connect(cli.archive / "archive.db")
    conn.row_factory = sqlite3.Row
    return conn


def memento_args(mementos: MementoServer) -> list[str]:
    return ["--timemap", mementos.timemap, "--timegate", mementos.timegate, "--save-endpoint", mementos.save]


def test_off_by_default(archive, web):
    cli, mementos, _ = archive
    assert cli("capture", web.url("/article"), *FAST).exit_code == 0
    assert mementos.requests == []  # no archive learnt what was cited
    assert db(cli).execute("SELECT COUNT(*) FROM mementos").fetchone()[0] == 0


def test_capture_with_mementos_finds_compares_and_records(archive, web):
    cli, mementos, urls = archive
    doc = cli.json("capture", web.url("/article"), "--mementos", *memento_args(mementos), *FAST)
    found = {(m["url"], m["role"]): m for m in doc["mementos"]["mementos"]}

    # A: archived the day before publication, said the opposite.
    a = found[(urls["a"], "closest+earlier")]
    assert a["verdict"] == "differs" and a["memento_datetime"] == "2026-01-09T12:00:00.000Z"
    # B: the closest memento (two days after) agrees; the one before publication, months older, does not.
    assert found[(urls["b"], "closest")]["verdict"] == "same" and found[(urls["b"], "closest")]["similarity"] == 1.0
    assert found[(urls["b"], "earlier")]["verdict"] == "differs" and found[(urls["b"], "earlier")]["memento_datetime"].startswith("2025-06-01")
    # C: nothing archived. D: the TimeMap failed, the TimeGate answered.
    assert found[(urls["c"], "none")]["verdict"] == "none"
    assert found[(urls["d"], "closest+earlier")]["verdict"] == "same"

    rows = db(cli).execute("SELECT * FROM mementos ORDER BY id").fetchall()
    assert {r["target_datetime"] for r in rows} == {"2026-01-10T09:00:00.000Z"} and {r["target_source"] for r in rows} == {"published"}
    d_row = next(r for r in rows if r["url_id"] == db(cli).execute("SELECT id FROM urls WHERE url = ?", (urls["d"],)).fetchone()[0])
    assert d_row["lookup_url"] == mementos.timegate + urls["d"]

    # Each memento is in the WARC like any capture: the id_ form, with its Memento-Datetime.
    a_row = next(r for r in rows if r["verdict"] == "differs" and r["role"] == "closest+earlier")
    capture = db(cli).execute("SELECT * FROM captures WHERE id = ?", (a_row["capture_id"],)).fetchone()
    assert capture["requested_url"] == f"{mementos.base}/web/20260109120000id_/{urls['a']}"
    with open(cli.archive / capture["warc_file"], "rb") as fh:
        fh.seek(capture["warc_offset"])
        record = next(iter(ArchiveIterator(fh)))
        assert record.http_headers.get_header("Memento-Datetime") == "Fri, 09 Jan 2026 12:00:00 GMT"
        body = record.content_stream().read()
    assert b"rejected" in body and b"Wayback banner" not in body
    assert json.loads(a_row["detail"])["diff_summary"]["removed"] >= 1

    # verify accounts for every memento record, and --deep re-derives their texts.
    verified = cli.json("verify", "--deep", code=None)
    assert verified["ok"], verified["problems"]


def test_report_shows_mementos_with_robust_links(archive, web):
    cli, mementos, urls = archive
    assert cli("capture", web.url("/article"), "--mementos", *memento_args(mementos), *FAST).exit_code == 0
    report = json.loads(cli("report", web.url("/article"), "--format", "json").stdout)
    by_url = {c["url"]: c for c in report["citations"]}
    a = by_url[urls["a"]]["mementos"]
    assert a["earlier"]["memento_url"] == f"{mementos.base}/web/20260109120000/{urls['a']}"
    assert a["earlier"]["agrees"] is False and a["earlier"]["days_from_citation"] < 0
    link = a["earlier"]["robust_link"]
    assert link["data-versionurl"] == a["earlier"]["memento_url"] and link["data-versiondate"] == "2026-01-09"
    assert link["data-originalurl"] == urls["a"]
    b = by_url[urls["b"]]["mementos"]
    assert b["closest"]["agrees"] is True and b["earlier"]["agrees"] is False
    assert by_url[urls["c"]]["mementos"]["closest"] is None and by_url[urls["c"]]["mementos"]["looked_up"]
    md = cli("report", web.url("/article")).stdout
    assert "differs from archiver's first capture" in md and "20260109120000" in md
    html = cli("report", web.url("/article"), "--format", "html").stdout
    assert f'data-versionurl="{mementos.base}/web/20260109120000/{urls["a"]}"' in html


def test_recheck_with_mementos_only_looks_up_new_sources(archive, web):
    cli, mementos, urls = archive
    assert cli("capture", web.url("/article"), "--mementos", *memento_args(mementos), *FAST).exit_code == 0
    asked = len(mementos.requests)
    doc = cli.json("recheck", "--all", "--mementos", *memento_args(mementos), *FAST)
    assert doc["mementos"]["mementos"] == [] and len(mementos.requests) == asked
    refreshed = cli.json("mementos", "--refresh", *memento_args(mementos), *FAST)
    assert len(refreshed["mementos"]) == 5 and len(mementos.requests) > asked


def test_submit_is_rate_limited_and_recorded(archive, web):
    cli, mementos, urls = archive
    assert cli("capture", web.url("/article"), *FAST).exit_code == 0
    doc = cli.json("mementos", "--no-lookup", "--submit", "--submit-delay", "0.4", *memento_args(mementos), *FAST)
    assert [s["url"] for s in doc["submissions"]] == [urls[k] for k in "abcd"]
    assert all(s["memento_url"].startswith(f"{mementos.base}/web/") and s["memento_url"].endswith(s["url"]) for s in doc["submissions"])
    arrivals = [t for t, _ in mementos.saves]
    assert all(later - earlier >= 0.4 for earlier, later in zip(arrivals, arrivals[1:], strict=False))  # never faster than asked
    rows = db(cli).execute("SELECT * FROM submissions ORDER BY id").fetchall()
    assert len(rows) == 4 and all(r["http_status"] == 302 and r["memento_datetime"] and r["error"] is None for r in rows)
    assert not any("/timemap/" in path for path in mementos.requests)  # --no-lookup: nothing looked up


def test_submit_failures_are_recorded(archive, web):
    cli, mementos, urls = archive
    assert cli("capture", web.url("/article"), *FAST).exit_code == 0
    doc = cli.json("mementos", "--no-lookup", "--submit", "--submit-delay", "0", "--save-endpoint", f"{mementos.base}/nowhere/", *FAST)
    assert all(s["memento_url"] is None and "HTTP 404" in s["error"] for s in doc["submissions"])
    assert db(cli).execute("SELECT COUNT(*) FROM submissions WHERE error IS NOT NULL").fetchone()[0] == 4


def test_unreachable_archive_is_recorded_not_fatal(archive, web):
    cli, mementos, urls = archive
    dead = f"http://127.0.0.1:{ws.closed_port()}/web/"
    doc = cli.json("capture", web.url("/article"), "--mementos", "--timemap", dead + "timemap/link/", "--timegate", dead, *FAST)
    assert doc["ok"] if "ok" in doc else True
    assert all(m["role"] == "error" and "refused" in m["error"] for m in doc["mementos"]["mementos"])
    # The failed lookups are not final: the next run looks again.
    again = cli.json("mementos", *memento_args(mementos), *FAST)
    assert {m["url"] for m in again["mementos"]} == set(urls.values())


def test_article_without_date_uses_its_first_capture(tmp_path, server):
    mementos = MementoServer()
    try:
        server.static("/src", source("s", NOW["a"]))
        body = '<p>As <a href="/src">the source reported</a>, the plan passed after a long debate in the council.</p>' * 2
        server.static("/undated", ws.page("Undated", body + "<p>Nothing else happened in the region this week.</p>"))
        cli = Cli(tmp_path / "archive")
        doc = cli.json("capture", server.url("/undated"), "--mementos", *memento_args(mementos), *FAST)
        assert doc["mementos"]["mementos"][0]["role"] == "none"
        row = db(cli).execute("SELECT target_source, target_datetime FROM mementos").fetchone()
        first = db(cli).execute("SELECT MIN(fetched_at) FROM captures").fetchone()[0]
        assert row["target_source"] == "first_capture" and row["target_datetime"] == first
    finally:
        mementos.stop()
