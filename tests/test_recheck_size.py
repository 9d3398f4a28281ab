"""What a recheck keeps of a page that did not change: every served byte, and no second copy of what is derived.

How many bytes a recheck adds is measured in scripts/bench_recheck.py; here we check what
holds whatever the sizes: which records and rows a recheck writes, and that every reader still
finds a capture's text.
"""

from __future__ import annotations

import itertools
import sqlite3

from archiver.db.queries import text_of_capture
from archiver.db.store import Store
from tests.helpers import FAST_LOCAL
from tests.warccheck import read_at

ARTICLE = "<p>The council approved the repair budget of four million on Tuesday, after a long hearing.</p>"


def _token_page(counter: itertools.count):
    """A page whose bytes change on every request only in what no reader sees: a nonce and a CSRF token."""
    from tests import webserver as ws

    def handler(h) -> None:
        n = next(counter)
        body = ws.page("Budget", ARTICLE).replace(
            b"<head>", f'<head><meta name="csrf-token" content="tok-{n:08d}"><script nonce="n{n:06d}">var x = {n};</script>'.encode()
        )
        ws.send(h, 200, body)

    return handler


def _stamp_page(counter: itertools.count):
    """A page whose visible text changes on every request: a 'generated at' line."""
    from tests import webserver as ws

    def handler(h) -> None:
        n = next(counter)
        ws.send(h, 200, ws.page("Budget", ARTICLE + f"<footer><p>Page generated at request {n}</p></footer>"))

    return handler


def _capture_and_recheck(cli, server, tmp_path, path: str, rechecks: int = 2) -> None:
    article = tmp_path / "post.md"
    article.write_text(f"# Post\n\nAs [the council said]({server.url(path)}), the bridge is to be repaired.\n")
    cli.json("capture", str(article), *FAST_LOCAL)
    for _ in range(rechecks):
        outcome = cli.json("recheck", "--all", *FAST_LOCAL)
        assert outcome["changes"] == [], outcome["changes"]


def test_page_changing_only_in_invisible_tokens_keeps_each_answer_and_one_text(cli, server, tmp_path, archive_dir):
    server.route("/budget", _token_page(itertools.count()))
    _capture_and_recheck(cli, server, tmp_path, "/budget")
    db = sqlite3.connect(archive_dir / "archive.db")
    db.row_factory = sqlite3.Row
    rows = db.execute(
        "SELECT c.* FROM captures c JOIN urls u ON u.id = c.url_id WHERE u.url = ? ORDER BY c.id", (server.url("/budget"),)
    ).fetchall()
    assert len(rows) == 3
    # Every answer is evidence: each is a full response record, with its own bytes and digest.
    assert [r["record_type"] for r in rows] == ["response"] * 3
    assert len({r["warc_payload_digest"] for r in rows}) == 3
    for r in rows:
        record = read_at(archive_dir / r["warc_file"], r["warc_offset"], r["warc_length"])
        assert b"csrf-token" in record.content_stream().read()
    # What is derived from them is the same: one texts row, which the later captures share.
    assert len({r["text_sha256"] for r in rows}) == 1
    holders = [r[0] for r in db.execute("SELECT capture_id FROM texts WHERE capture_id IN (?, ?, ?)", [r["id"] for r in rows])]
    assert holders == [rows[0]["id"]]
    store = Store(archive_dir / "archive.db")
    try:
        for r in rows:
            found = text_of_capture(store, r["id"])
            assert found is not None and found[0] == rows[0]["id"] and "repair budget" in found[1]
    finally:
        store.close()
    # A later capture reads its text from the shared row: diff, search and the deep check agree.
    diffed = cli.json("diff", server.url("/budget"), "--json")
    assert (diffed["from_capture_id"], diffed["to_capture_id"]) == (rows[1]["id"], rows[2]["id"])
    assert diffed["identical"] and "repair budget" in diffed["new_text"]
    verified = cli.json("verify", "--deep", code=None)
    assert verified["ok"], verified["problems"]


def test_page_whose_visible_text_moves_keeps_its_own_rows(cli, server, tmp_path, archive_dir):
    server.route("/stamped", _stamp_page(itertools.count()))
    _capture_and_recheck(cli, server, tmp_path, "/stamped", rechecks=1)
    db = sqlite3.connect(archive_dir / "archive.db")
    ids = [r[0] for r in db.execute(
        "SELECT c.id FROM captures c JOIN urls u ON u.id = c.url_id WHERE u.url = ? AND c.record_type = 'response' ORDER BY c.id",
        (server.url("/stamped"),),
    )]
    assert len(ids) >= 2
    # What the page showed differs (its features hold the visible page text): nothing is shared.
    with_rows = [r[0] for r in db.execute(f"SELECT capture_id FROM texts WHERE capture_id IN ({','.join('?' * len(ids))})", ids)]
    assert with_rows == ids
    verified = cli.json("verify", "--deep", code=None)
    assert verified["ok"], verified["problems"]
