"""The database as Datasette and sqlite-utils show it: views for the common questions, a foreign
key from captures to their WARC file, and labels, so that foreign keys show URLs, not ids."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from archiver.db.schema import MIGRATIONS
from archiver.db.store import Store
from archiver.sample import ARTICLE_URL, INTERVIEW_URL
from tests.conftest import Cli
from tests.helpers import build_sample

VIEWS = ("sources_gone", "changes_this_week", "quotations_altered", "article_status")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("datasette") / "archive", (1, 2))


def rows(archive: Path, sql: str) -> list[dict]:
    conn = sqlite3.connect(archive / "archive.db")
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute(sql)]


def test_views_answer_the_common_questions(archive):
    report = json.loads(Cli(archive)("report", ARTICLE_URL, "--format", "json").stdout)
    by_status = {}
    for entry in report["citations"]:
        by_status.setdefault(entry["status"], set()).add(entry["url"])

    gone = rows(archive, "SELECT * FROM sources_gone WHERE article = :a".replace(":a", repr(ARTICLE_URL)))
    assert {(r["url"], r["state"]) for r in gone} == {(u, s) for s in ("gone", "soft_404") for u in by_status.get(s, ())}
    assert all(r["gone_since"] and r["anchor_text"] for r in gone)
    # A source cited by two articles is listed once for each: the view answers "which articles are hurt".
    assert len(rows(archive, "SELECT DISTINCT article FROM sources_gone")) == 2

    week = rows(archive, "SELECT * FROM changes_this_week")
    assert len(week) == report["summary"]["change_events"] > 0
    assert rows(archive, "SELECT COUNT(*) AS n FROM changes_this_week WHERE detected_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')")[0]["n"] == 0

    altered = rows(archive, "SELECT * FROM quotations_altered")
    assert [r["source"] for r in altered] == [INTERVIEW_URL]
    assert altered[0]["status"] in ("altered", "missing") and altered[0]["article"] == ARTICLE_URL

    [status] = [r for r in rows(archive, "SELECT * FROM article_status") if r["article"] == ARTICLE_URL]
    sources, quotes = report["summary"]["sources"], report["summary"]["quotations"]
    assert (status["sources"], status["captured"], status["gone"], status["soft_404"]) == (
        sources["cited"], sources["captured"], sources["gone"], sources["soft_404"])
    assert status["changed"] >= sources["changed"] > 0
    assert (status["quotations"], status["quotations_altered"], status["quotations_missing"]) == (
        quotes["total"], quotes["altered"], quotes["missing"])


def test_captures_point_at_their_warc_file_by_foreign_key(archive):
    db = sqlite_utils.Database(archive / "archive.db")
    keys = {(fk.column, fk.other_table, fk.other_column) for fk in db["captures"].foreign_keys}
    assert ("warc_file_id", "warc_files", "id") in keys
    assert set(VIEWS) <= set(db.view_names())
    mismatched = rows(archive, """SELECT c.id FROM captures c LEFT JOIN warc_files w ON w.id = c.warc_file_id
                                  WHERE (c.warc_file IS NULL) != (c.warc_file_id IS NULL) OR w.path != c.warc_file""")
    assert mismatched == []
    assert rows(archive, "SELECT COUNT(*) AS n FROM captures WHERE warc_file_id IS NOT NULL")[0]["n"] > 10


def test_migration_fills_the_foreign_key_of_an_older_archive(tmp_path):
    path = tmp_path / "archive.db"
    conn = sqlite3.connect(path)
    number = MIGRATIONS.index(next(m for m in MIGRATIONS if isinstance(m, str) and "warc_file_id" in m))
    for migration in MIGRATIONS[:number]:
        conn.executescript(migration)
    conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO runs (id, command, args, software, started_at) VALUES (1, 'capture', '{}', 'archiver', '2026-01-01T00:00:00.000Z')")
    conn.execute("INSERT INTO urls (id, url, host, first_seen) VALUES (1, 'http://a.example/', 'a.example', '2026-01-01T00:00:00.000Z')")
    conn.execute("INSERT INTO warc_files (id, path, created_at) VALUES (7, 'warcs/old.warc.gz', '2026-01-01T00:00:00.000Z')")
    conn.execute("""INSERT INTO captures (id, url_id, run_id, requested_url, fetched_at, warc_file, warc_offset, warc_length)
                    VALUES (1, 1, 1, 'http://a.example/', '2026-01-01T00:00:00.000Z', 'warcs/old.warc.gz', 0, 10)""")
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        store.migrate()
        assert store.value("SELECT warc_file_id FROM captures WHERE id = 1") == 7
    finally:
        store.close()


def test_datasette_shows_urls_and_paths_for_foreign_keys(archive, tmp_path):
    datasette = pytest.importorskip("datasette.app", reason="Datasette is a test dependency (pip install -e '.[test]')")
    result = Cli(archive)("datasette-metadata")
    assert result.exit_code == 0
    metadata = json.loads(result.stdout)

    async def fetch(path: str):
        ds = datasette.Datasette([str(archive / "archive.db")], metadata=metadata)
        response = await ds.client.get(path)
        assert response.status_code == 200, path
        return response.json()

    [capture] = asyncio.run(fetch("/archive/captures.json?_labels=on&_shape=array&_size=1&warc_file_id__notblank=1"))
    assert capture["url_id"]["label"].startswith("http://")
    assert capture["warc_file_id"]["label"] == capture["warc_file"]
    [citation] = asyncio.run(fetch("/archive/citations.json?_labels=on&_shape=array&_size=1&url_id__notblank=1"))
    assert citation["url_id"]["label"].startswith("http") and citation["article_id"]["label"] == "The bridge that wasn't"
    status = asyncio.run(fetch("/archive/article_status.json?_shape=array"))
    assert any(r["article"] == ARTICLE_URL for r in status)
