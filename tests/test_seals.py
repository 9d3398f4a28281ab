"""Seals: every edit to the rows a report states (texts, citations, quotations, changes, articles, the
captures columns outside the chain, ...) after its run ended is caught by verify and named row by row."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers import FAST, build_sample


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("seals") / "archive", (1, 2))


@pytest.fixture
def archive(pristine, tmp_path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(pristine, copy)
    return copy


def db(archive: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(archive / "archive.db")
    conn.row_factory = sqlite3.Row
    return conn


def verify(archive: Path, *args: str) -> dict:
    return json.loads(Cli(archive)("verify", "--json", *args).stdout)


def first(archive: Path, sql: str) -> int:
    row = db(archive).execute(sql).fetchone()
    assert row is not None, sql
    return row[0]


def test_every_run_ends_with_a_seal_and_a_clean_archive_passes(pristine):
    conn = db(pristine)
    runs = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
    seals = conn.execute("SELECT * FROM seals ORDER BY id").fetchall()
    assert [s["run_id"] for s in seals] == runs and all(s["reason"] == "run" for s in seals)
    last = seals[-1]
    assert last["chain_head"] == conn.execute("SELECT chain_hash FROM captures ORDER BY id DESC LIMIT 1").fetchone()[0]
    doc = verify(pristine)
    assert doc["ok"], doc["problems"]
    assert doc["seal_head"] == last["seal_hash"]
    assert verify(pristine, "--head", seals[0]["seal_hash"])["ok"]  # an earlier seal stays in the chain


# (what is tampered, the table, SQL to find the row, SQL to tamper with it, what verify says)
TAMPERING = [
    ("change kind", "changes", "SELECT id FROM changes LIMIT 1", "UPDATE changes SET kind = 'unchanged' WHERE id = ?", "edited"),
    ("change deleted", "changes", "SELECT id FROM changes LIMIT 1", "DELETE FROM changes WHERE id = ?", "deleted"),
    ("change similarity", "changes", "SELECT id FROM changes WHERE similarity IS NOT NULL LIMIT 1", "UPDATE changes SET similarity = 0.999 WHERE id = ?", "edited"),
    ("quote status", "quotes", "SELECT id FROM quotes LIMIT 1", "UPDATE quotes SET status = CASE status WHEN 'present' THEN 'missing' ELSE 'present' END WHERE id = ?", "edited"),
    ("quote text", "quotes", "SELECT id FROM quotes LIMIT 1", "UPDATE quotes SET text = text || ' (sic)' WHERE id = ?", "edited"),
    ("quote check excerpt", "quote_checks", "SELECT id FROM quote_checks LIMIT 1", "UPDATE quote_checks SET excerpt = 'never said' WHERE id = ?", "edited"),
    ("quote check deleted", "quote_checks", "SELECT id FROM quote_checks ORDER BY id DESC LIMIT 1", "DELETE FROM quote_checks WHERE id = ?", "deleted"),
    ("text rewritten", "texts", "SELECT capture_id FROM texts LIMIT 1", "UPDATE texts SET text = 'Something else entirely.' WHERE capture_id = ?", "edited"),
    ("text title", "texts", "SELECT capture_id FROM texts WHERE title IS NOT NULL LIMIT 1", "UPDATE texts SET title = 'Forged' WHERE capture_id = ?", "edited"),
    ("citation anchor", "citations", "SELECT id FROM citations LIMIT 1", "UPDATE citations SET anchor_text = 'a forged anchor' WHERE id = ?", "edited"),
    ("citation context", "citations", "SELECT id FROM citations WHERE context IS NOT NULL LIMIT 1", "UPDATE citations SET context = 'never written' WHERE id = ?", "edited"),
    ("citation deleted", "citations", "SELECT id FROM citations LIMIT 1", "DELETE FROM citations WHERE id = ?", "deleted"),
    ("citation inserted", "citations", "SELECT MAX(id) + 1 FROM citations",
     "INSERT INTO citations (id, article_id, href, position, cited) VALUES (?, 1, 'https://forged.example/', 999, 1)", "added"),
    ("captures title", "captures", "SELECT id FROM captures WHERE title IS NOT NULL LIMIT 1", "UPDATE captures SET title = 'Forged title' WHERE id = ?", "edited"),
    ("captures text_sha256", "captures", "SELECT id FROM captures WHERE text_sha256 IS NOT NULL LIMIT 1", "UPDATE captures SET text_sha256 = '00' WHERE id = ?", "edited"),
    ("captures ip_address", "captures", "SELECT id FROM captures WHERE record_type = 'response' LIMIT 1", "UPDATE captures SET ip_address = '203.0.113.9' WHERE id = ?", "edited"),
    ("article published", "articles", "SELECT id FROM articles LIMIT 1", "UPDATE articles SET published = '1999-01-01' WHERE id = ?", "edited"),
    ("unlinked reference", "unlinked_references", "SELECT id FROM unlinked_references LIMIT 1", "UPDATE unlinked_references SET text = 'forged' WHERE id = ?", "edited"),
    ("url baseline", "urls", "SELECT id FROM urls WHERE baseline_capture_id IS NOT NULL LIMIT 1", "UPDATE urls SET baseline_capture_id = baseline_capture_id + 1 WHERE id = ?", "edited"),
]


@pytest.mark.parametrize("what,table,find,tamper,verb", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_each_kind_of_tampering_is_named(archive, what, table, find, tamper, verb):
    key = first(archive, find)
    with db(archive) as conn:
        changed = conn.execute(tamper, (key,)).rowcount
    if not changed:
        pytest.skip(f"the sample has no row to tamper with for {what}")
    doc = verify(archive)
    assert not doc["ok"]
    messages = [p["message"] for p in doc["problems"] if p["kind"] == "sealed_row"]
    assert any(m.startswith(f"{table} row {key} was {verb or ''}") for m in messages), doc["problems"]


def test_url_state_edit_is_caught(archive):
    url_id = first(archive, "SELECT id FROM urls WHERE state = 'ok' LIMIT 1")
    with db(archive) as conn:
        conn.execute("UPDATE urls SET state = 'gone' WHERE id = ?", (url_id,))
    messages = [p["message"] for p in verify(archive)["problems"]]
    assert any(m.startswith(f"urls row {url_id} was edited") for m in messages)


def test_resealing_without_the_chain_is_caught(archive):
    """Editing the row and its sealed hash: the seal's digest no longer adds up."""
    text_id = first(archive, "SELECT capture_id FROM texts LIMIT 1")
    with db(archive) as conn:
        conn.execute("UPDATE texts SET text = 'forged' WHERE capture_id = ?", (text_id,))
        from archiver.db.seal import SEALED, row_hash

        key, columns = SEALED["texts"]
        values = conn.execute(f"SELECT {', '.join(columns)} FROM texts WHERE capture_id = ?", (text_id,)).fetchone()
        conn.execute(
            "UPDATE sealed_rows SET sha256 = ? WHERE table_name = 'texts' AND row_key = ?",
            (row_hash("texts", text_id, tuple(values)), str(text_id)),
        )
    doc = verify(archive)
    assert not doc["ok"]
    assert any(p["kind"] == "seal" and "no longer add up" in p["message"] for p in doc["problems"]), doc["problems"]


def test_a_reforged_seal_chain_fails_against_a_published_head(archive):
    """Rewriting the rows and sealing again from scratch passes on its own; the head published earlier does not."""
    published = verify(archive)["seal_head"]
    text_id = first(archive, "SELECT capture_id FROM texts LIMIT 1")
    with db(archive) as conn:
        conn.execute("UPDATE texts SET text = 'forged' WHERE capture_id = ?", (text_id,))
        conn.execute("DELETE FROM sealed_rows")
        conn.execute("DELETE FROM seals")
        from archiver.db.seal import seal

        seal(conn, None, "run")
    assert verify(archive)["ok"]  # a complete forgery is consistent in itself...
    doc = verify(archive, "--head", published)
    assert not doc["ok"] and any("published head" in p["message"] for p in doc["problems"])  # ...but not with what was published


def test_seal_row_edited_is_caught(archive):
    with db(archive) as conn:
        conn.execute("UPDATE seals SET sealed_at = '2020-01-01T00:00:00.000Z' WHERE id = 1")
    doc = verify(archive)
    assert any(p["kind"] == "seal" and p["message"].startswith("seal 1: seal hash does not match") for p in doc["problems"])


def test_later_runs_seal_their_own_changes(archive):
    """Rows a recheck legitimately updates (quotations' status, URL state) are sealed at its end, not flagged."""
    from archiver.sample import SampleWeb

    with SampleWeb(hang_seconds=0.5) as web:
        web.version = 3
        result = Cli(archive)("recheck", "--all", "--proxy", web.proxy_url, *FAST)
        assert result.exit_code == 0, result.output
    doc = verify(archive)
    assert doc["ok"], doc["problems"]
    assert db(archive).execute("SELECT COUNT(*) FROM seals").fetchone()[0] == 3


def test_rows_of_a_run_in_progress_are_a_note(archive):
    """verify beside a writing run: the rows it has written so far are not yet sealed, and not tampering."""
    with db(archive) as conn:
        conn.execute("INSERT INTO runs (command, args, software, started_at) VALUES ('recheck', '{}', 'test', '2026-12-01T00:00:00.000Z')")
        conn.execute("UPDATE quotes SET status = 'missing'")
    doc = verify(archive)
    assert doc["ok"], doc["problems"]
    assert any("a run is still writing" in n for n in doc["notes"])


def test_crash_recovery_seals_and_says_so(archive):
    import archiver

    with db(archive) as conn:
        conn.execute("INSERT INTO runs (command, args, software, started_at) VALUES ('recheck', '{}', 'test', '2026-12-01T00:00:00.000Z')")
        conn.execute("UPDATE quotes SET status = 'missing'")
    archiver.Archive(archive).close()  # opening for writing repairs the killed run
    doc = verify(archive)
    assert doc["ok"], doc["problems"]
    assert any("made by crash recovery" in n for n in doc["notes"])


# -- verify --deep: rows re-derived from the WARC records ---------------------------------------


@pytest.fixture(scope="module")
def rechecked(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("deep") / "archive", (1, 2, 3))


def test_deep_verify_of_a_clean_archive_finds_nothing(rechecked):
    doc = verify(rechecked, "--deep")
    assert doc["ok"], doc["problems"]
    note = next(n for n in doc["notes"] if n.startswith("deep:"))
    kinds = dict(db(rechecked).execute("SELECT kind, COUNT(*) FROM changes GROUP BY kind").fetchall())
    assert {"gone", "soft_404", "content_changed", "moved", "restored"} <= set(kinds)  # every verdict path was re-judged
    assert f"{sum(kinds.values())} changes rows" in note and "49 citations rows" in note


def test_deep_verify_keeps_what_a_site_template_overturned(tmp_path):
    """The seed article's template links were judged with its sibling pages as evidence, which its
    own record does not hold: --deep accepts that judgement instead of calling the rows forged."""
    from dataclasses import replace

    from archiver import Archive, CaptureOptions
    from archiver.sample import SEED_ARTICLE_URL, SampleWeb
    from tests.helpers import FAST_FETCH

    archive = tmp_path / "archive"
    with SampleWeb(hang_seconds=0.5) as web, Archive(archive, create=True) as opened:
        assert opened.capture([SEED_ARTICLE_URL], CaptureOptions(fetch=replace(FAST_FETCH, proxy=web.proxy_url))).ok
    templated = db(archive).execute("SELECT COUNT(*) FROM citations WHERE evidence = 'site template'").fetchone()[0]
    assert templated >= 3
    doc = verify(archive, "--deep")
    assert doc["ok"], doc["problems"]


# A forger who writes the rows and seals them again gets past the seals; --deep re-derives the rows.
DEEP_TAMPERING = [
    ("text", "SELECT capture_id FROM texts WHERE kind = 'html' LIMIT 1", "UPDATE texts SET text = text || ' And a forged sentence.' WHERE capture_id = ?", "captures row {key}", "texts.text"),
    ("title", "SELECT id FROM captures WHERE title IS NOT NULL AND record_type = 'response' LIMIT 1", "UPDATE captures SET title = 'Forged' WHERE id = ?", "captures row {key}", "captures.title"),
    ("text_sha256", "SELECT id FROM captures WHERE text_sha256 IS NOT NULL AND record_type = 'response' LIMIT 1", "UPDATE captures SET text_sha256 = 'ab' WHERE id = ?", "captures row {key}", "captures.text_sha256"),
    ("citation anchor", "SELECT id FROM citations WHERE cited = 1 LIMIT 1", "UPDATE citations SET anchor_text = 'forged' WHERE id = ?", "citations row {key}", "anchor_text"),
    ("citation deleted", "SELECT id FROM citations WHERE cited = 1 LIMIT 1", "DELETE FROM citations WHERE id = ?", "", "no citations row holds"),
    ("citation target", "SELECT id FROM citations WHERE cited = 1 AND url_id IS NOT NULL LIMIT 1", "UPDATE citations SET url_id = (SELECT MAX(id) FROM urls) WHERE id = ?", "citations row {key}", "points at"),
    ("quote text", "SELECT id FROM quotes LIMIT 1", "UPDATE quotes SET text = 'words never written' WHERE id = ?", "quotes row {key}", "no quotation"),
    ("quote check status", "SELECT id FROM quote_checks LIMIT 1", "UPDATE quote_checks SET status = CASE status WHEN 'present' THEN 'missing' ELSE 'present' END WHERE id = ?", "quote_checks row {key}", "status is"),
    ("quote status", "SELECT id FROM quotes WHERE status IS NOT NULL LIMIT 1", "UPDATE quotes SET status = CASE status WHEN 'present' THEN 'missing' ELSE 'present' END WHERE id = ?", "quotes row {key}", "its latest check says"),
    ("change kind", "SELECT id FROM changes WHERE kind = 'content_changed' LIMIT 1", "UPDATE changes SET kind = 'moved' WHERE id = ?", "changes row {key}", "re-judged"),
    ("change similarity", "SELECT id FROM changes WHERE kind = 'content_changed' LIMIT 1", "UPDATE changes SET similarity = 0.99 WHERE id = ?", "changes row {key}", "similarity is"),
    ("change invented", "SELECT id FROM changes WHERE kind = 'restored' LIMIT 1", "UPDATE changes SET kind = 'gone' WHERE id = ?", "changes row {key}", "re-judged"),
]


@pytest.fixture
def deep_copy(rechecked, tmp_path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(rechecked, copy)
    return copy


@pytest.mark.parametrize("what,find,tamper,where,says", DEEP_TAMPERING, ids=[t[0] for t in DEEP_TAMPERING])
def test_deep_verify_finds_rows_the_records_do_not_support(deep_copy, what, find, tamper, where, says):
    from archiver.db.seal import seal

    key = first(deep_copy, find)
    with db(deep_copy) as conn:
        assert conn.execute(tamper, (key,)).rowcount == 1
        seal(conn, None, "run")  # re-sealed: the seals alone now pass
    assert verify(deep_copy)["ok"]
    doc = verify(deep_copy, "--deep")
    assert not doc["ok"]
    messages = [p["message"] for p in doc["problems"] if p["kind"] == "deep"]
    assert any(where.format(key=key) in m and says in m for m in messages), messages
