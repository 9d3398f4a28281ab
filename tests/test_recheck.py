"""Recheck on the bundled sample web: exactly the right events, none for noise or layout, on every run."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from archiver.sample import (ARTICLE_URL, CHANGE_PAGES, CHANGE_SEVERITIES, COMMENTARY_URL, INTERVIEW_URL, LAYOUT_URL,
                             NOISE_URL, STATEMENT_URL)
from tests.helpers import FAST_LOCAL, events_of, expected_events, fetch_args
from tests.warccheck import read_at, warcio_records


@pytest.fixture
def captured(cli, sample_web):
    doc = cli.json("capture", ARTICLE_URL, *fetch_args(sample_web))
    assert doc["articles"][0]["error"] is None
    return sample_web


def test_story_over_three_versions(cli, captured, archive_dir):
    web = captured
    # Nothing changed yet: a recheck is silent, and noise pages stay silent.
    same = cli.json("recheck", "--all", *fetch_args(web))
    assert same["changes"] == [] and same["quotes"] == []

    web.version = 2
    second = cli.json("recheck", "--all", *fetch_args(web))
    assert events_of(second) == expected_events(1, 2)
    assert NOISE_URL not in events_of(second) and LAYOUT_URL not in events_of(second)
    [quote] = second["quotes"]
    assert quote["source"] == INTERVIEW_URL and quote["from"] == "present" and quote["to"] in ("altered", "missing")

    web.version = 3
    third = cli.json("recheck", "--all", *fetch_args(web))
    assert events_of(third) == expected_events(2, 3)

    # Stable: the same web again gives no event at all.
    fourth = cli.json("recheck", "--all", *fetch_args(web))
    assert fourth["changes"] == []

    db = sqlite3.connect(archive_dir / "archive.db")
    kinds = [k for (k,) in db.execute("SELECT kind FROM changes ORDER BY id")]
    assert sorted(kinds) == sorted(list(expected_events(1, 2).values()) + list(expected_events(2, 3).values()))


def test_cron_output_puts_quotations_first_and_is_silent_when_nothing_changed(cli, captured):
    web = captured
    quiet = cli("recheck", "--all", *fetch_args(web))
    assert quiet.exit_code == 0 and quiet.stdout == ""
    web.version = 2
    loud = cli("recheck", "--all", *fetch_args(web))
    lines = loud.stdout.splitlines()
    assert lines[0].startswith("QUOTATION ")
    assert INTERVIEW_URL in lines[1] and ("no longer found in" in lines[1] or "reworded in" in lines[1])
    # Plain words for people; the codes stay in --json and the database.
    for code in ("http_404", "redirect_home", "same_text_new_address", "content_changed", "soft_404 ", "proxy:"):
        assert code not in loud.stdout, code
    assert "the page now answers 404 Not Found" in loud.stdout
    assert "the page now redirects to the site's home page" in loud.stdout
    assert any(line.startswith("gone") for line in lines)
    assert lines[-1].startswith("checked 12 URLs")
    verbose = cli("recheck", "--all", "-v", *fetch_args(web))
    assert verbose.stdout.splitlines()[-1].startswith("checked 12 URLs")


def test_unchanged_pages_become_revisit_records(cli, captured, archive_dir):
    web = captured
    cli.json("recheck", "--all", *fetch_args(web))
    db = sqlite3.connect(archive_dir / "archive.db")
    db.row_factory = sqlite3.Row
    revisits = db.execute("SELECT * FROM captures WHERE record_type = 'revisit'").fetchall()
    profiles = set()
    for row in revisits:
        original = db.execute("SELECT * FROM captures WHERE id = ?", (row["revisit_of"],)).fetchone()
        assert original["record_type"] == "response"
        assert row["payload_sha256"] == original["payload_sha256"]
        record = read_at(archive_dir / row["warc_file"], row["warc_offset"], row["warc_length"])
        assert record.rec_type == "revisit"
        headers = record.rec_headers
        profiles.add(headers.get_header("WARC-Profile").rsplit("/", 1)[-1])
        assert headers.get_header("WARC-Refers-To-Target-URI") == original["final_url"]
        assert headers.get_header("WARC-Refers-To-Date") == original["fetched_at"]
        assert headers.get_header("WARC-Refers-To") == original["warc_record_id"]
        if headers.get_header("WARC-Profile").endswith("server-not-modified"):
            # Empty, so replay serves the original's content (docs/warc.md); no payload digest of its own.
            assert headers.get_header("Content-Length") == "0" and headers.get_header("WARC-Payload-Digest") is None
        else:
            assert headers.get_header("WARC-Payload-Digest") == original["warc_payload_digest"]
    # The sample's static pages carry validators and answer the conditional request with 304.
    assert profiles == {"server-not-modified"}
    # A daily recheck of unchanged pages costs little: revisits are small.
    assert max(r["warc_length"] for r in revisits) < 2000
    for path in (archive_dir / "warcs").glob("*.warc.gz"):
        for record in warcio_records(path):
            assert not record["digest_problems"]


def test_due_schedule_and_article_filter(cli, captured, archive_dir):
    web = captured
    # Just captured: nothing is due for a day.
    due = cli.json("recheck", *fetch_args(web))
    assert due["checked"] == 0
    db = sqlite3.connect(archive_dir / "archive.db")
    db.execute("UPDATE urls SET next_check_at = '2000-01-01T00:00:00.000Z' WHERE url = ?", (INTERVIEW_URL,))
    db.commit()
    due = cli.json("recheck", "--due", *fetch_args(web))
    assert due["checked"] == 1
    interval, = db.execute("SELECT check_interval FROM urls WHERE url = ?", (INTERVIEW_URL,)).fetchone()
    assert interval == 2 * 86400  # unchanged: the interval doubles
    only = cli.json("recheck", "--all", "--article", ARTICLE_URL, *fetch_args(web))
    assert only["checked"] == 12
    missing = cli("recheck", "--all", "--article", "http://nowhere.example/", *fetch_args(web))
    assert missing.exit_code == 2 and "no article" in missing.output


def test_second_run_exits_cleanly_while_first_holds_the_lock(cli, captured, archive_dir):
    from archiver import Archive

    holder = Archive(archive_dir)  # holds the write lock while open
    try:
        second = cli("recheck", "--all", *fetch_args(captured))
        assert second.exit_code == 0
        assert "another archiver run" in second.stderr
        db = sqlite3.connect(archive_dir / "archive.db")
        assert db.execute("SELECT COUNT(*) FROM runs WHERE command = 'recheck'").fetchone()[0] == 0
        # --wait waits for the lock instead.
        timer = threading.Timer(1.0, holder.directory.unlock)
        timer.start()
        waited = cli("recheck", "--all", "--wait", *fetch_args(captured))
        assert waited.exit_code == 0
        assert db.execute("SELECT COUNT(*) FROM runs WHERE command = 'recheck'").fetchone()[0] == 1
    finally:
        holder.close()


def test_changes_and_diff_commands(cli, captured):
    web = captured
    web.version = 2
    cli.json("recheck", "--all", *fetch_args(web))
    listed = json.loads(cli("changes", "--json").stdout)
    assert {e["kind"] for e in listed} == set(expected_events(1, 2).values())
    gone = json.loads(cli("changes", "--kind", "gone", "--json").stdout)
    assert [e["kind"] for e in gone] == ["gone"]
    assert json.loads(cli("changes", "--since", "2999-01-01", "--json").stdout) == []
    assert cli("changes", "--since", "yesterday").exit_code == 2
    text = cli("changes").stdout
    assert "changed" in text and "content_changed" not in text and INTERVIEW_URL in text  # labels, not codes
    shown = cli("diff", INTERVIEW_URL, "--no-color")
    assert shown.exit_code == 0
    assert "[-" in shown.stdout and "{+" in shown.stdout
    coloured = cli("diff", INTERVIEW_URL, "--color")
    assert "\x1b[31m" in coloured.stdout
    assert cli("diff", "http://unknown.example/").exit_code == 2


def test_full_text_search_over_sources(cli, captured, archive_dir):
    import sqlite_utils

    db = sqlite_utils.Database(archive_dir / "archive.db")
    hits = list(db["texts"].search("piling"))
    assert hits, "the sources' text is searchable"


def test_identical_payload_without_validators_is_a_revisit(cli, server, tmp_path, archive_dir):
    from tests import webserver as ws

    server.static("/plain", ws.page("Plain", "<p>A page whose server sends no ETag or Last-Modified.</p>"))
    article = tmp_path / "post.md"
    article.write_text(f"# Post\n\nAs [the plain page]({server.url('/plain')}) says.\n")
    args = FAST_LOCAL
    cli.json("capture", str(article), *args)
    outcome = cli.json("recheck", "--all", *args)
    assert outcome["changes"] == []
    db = sqlite3.connect(archive_dir / "archive.db")
    row = db.execute("SELECT warc_file, warc_offset, warc_length FROM captures WHERE record_type = 'revisit'").fetchone()
    record = read_at(archive_dir / row[0], row[1], row[2])
    assert record.rec_headers.get_header("WARC-Profile").endswith("/identical-payload-digest")
    assert server.hits["/plain"] == 2


# -- what changed, said in plain words (records.example: one kind of change per page) -------------

def test_each_kind_of_change_is_caught_summarised_and_ranked(cli, sample_web, archive_dir):
    web = sample_web
    for url in CHANGE_PAGES:
        doc = cli.json("capture", url, "--max-sources", "0", *fetch_args(web))
        assert doc["articles"][0]["error"] is None, url
    # Same version: silent, the live ticker included (its second look learns the ticker is noise).
    same = cli.json("recheck", "--all", "--noise-delay", "0", *fetch_args(web))
    assert [c for c in same["changes"] if c["url"] in CHANGE_PAGES] == []

    web.version = 2
    outcome = cli.json("recheck", "--all", "--noise-delay", "0", *fetch_args(web))
    # Each page was captured as an article: one whose own links changed also has its citation
    # set's event (the dataset page), besides the judgement of what a reader sees.
    got = {c["url"]: c for c in outcome["changes"] if c["url"] in CHANGE_PAGES and c["kind"] != "citations_changed"}
    cited = {c["url"] for c in outcome["changes"] if c["kind"] == "citations_changed"}
    assert "http://records.example/data/" in cited
    for url, (kind, first_line) in CHANGE_PAGES.items():
        if kind is None:
            assert url not in got, (url, got.get(url))
            continue
        assert got[url]["kind"] == kind, (url, got[url])
        assert got[url]["summary"].split("\n")[0].startswith(first_line), (url, got[url]["summary"])
    for url, severity in CHANGE_SEVERITIES.items():
        assert got[url]["severity"] == severity, (url, got[url])
    assert all(c["severity"] in ("rewrite", "substantive", "minor") for c in got.values() if c["kind"] == "content_changed")
    assert all(c["severity"] is None for c in got.values() if c["kind"] == "blocked")

    # The database keeps severity and summary in their own columns, and walls as the URL's state.
    db = sqlite3.connect(archive_dir / "archive.db")
    rows = dict(db.execute(
        "SELECT u.url, ch.severity || ' / ' || ch.summary FROM changes ch JOIN urls u ON u.id = ch.url_id"
        " WHERE ch.kind = 'content_changed'").fetchall())
    assert rows["http://records.example/council/harbour-projects.html"] == "substantive / number changed: 12 -> 15"
    states = dict(db.execute("SELECT url, state FROM urls WHERE url LIKE 'http://records.example/%'").fetchall())
    assert states["http://records.example/news/regatta-video.html"] == "blocked"
    assert states["http://records.example/news/harbour-master-retires.html"] == "ok"
    learned = db.execute("SELECT volatile FROM urls WHERE url = 'http://records.example/news/markets-live.html'").fetchone()[0]
    assert learned and json.loads(learned)["lines"]

    # A wall is one event: still walled next time is not news.
    again = cli.json("recheck", "--all", "--noise-delay", "0", *fetch_args(web))
    assert [c for c in again["changes"] if c["url"] in CHANGE_PAGES] == []


def test_cron_output_orders_content_changes_by_severity(cli, sample_web):
    web = sample_web
    for url in CHANGE_SEVERITIES:
        cli.json("capture", url, "--max-sources", "0", *fetch_args(web))
    web.version = 2
    out = cli("recheck", "--all", "--noise-delay", "0", *fetch_args(web)).stdout
    # Each event: its label and URL, then what happened, which for a content change opens with its severity.
    shown = out.splitlines()
    severities = [shown[i + 1].split()[0] for i, line in enumerate(shown) if line.startswith("changed ")]
    assert severities == ["rewrite", "substantive", "minor"], out
    assert "number changed: 12 -> 15" in out and 'title changed from "A plan for the northern quay' in out


def test_second_look_learns_what_moves_on_its_own(cli, sample_web, archive_dir):
    web = sample_web
    ticker = "http://records.example/news/markets-live.html"
    cli.json("capture", ticker, "--max-sources", "0", *fetch_args(web))
    # Without a second look, share prices that move on every request look like an edit...
    blind = cli.json("recheck", "--all", "--no-second-look", *fetch_args(web))
    [change] = [c for c in blind["changes"] if c["url"] == ticker]
    assert change["summary"].startswith("number changed")
    # ...with one, the page shows what on it moves by itself, and the lesson is kept for the next checks.
    looked = cli.json("recheck", "--all", "--noise-delay", "0", *fetch_args(web))
    assert [c for c in looked["changes"] if c["url"] == ticker] == []
    kept = cli.json("recheck", "--all", "--no-second-look", *fetch_args(web))
    assert [c for c in kept["changes"] if c["url"] == ticker] == []
    db = sqlite3.connect(archive_dir / "archive.db")
    assert db.execute("SELECT volatile_learned_at FROM urls WHERE url = ?", (ticker,)).fetchone()[0]
    # The lesson masks only the words that move: an edit inside that same line is still seen,
    # and told without the prices that moved.
    web.version = 3
    edited = cli.json("recheck", "--all", "--no-second-look", *fetch_args(web))
    [change] = [c for c in edited["changes"] if c["url"] == ticker]
    assert change["kind"] == "content_changed"
    # A name came into the line; the share prices beside it moved too, and are not a finding.
    assert change["summary"] == "name changed: (none) -> Quayside Holdings", change
    # The event keeps the learned noise it was judged with: --deep re-judges it alike.
    assert cli.json("verify", "--deep", code=None)["ok"]


def test_quotation_in_single_marks_over_an_ellipsis(cli, sample_web):
    web = sample_web
    doc = cli.json("capture", COMMENTARY_URL, *fetch_args(web))
    [quote] = doc["articles"][0]["quotes"]
    assert quote["text"].startswith("We will not close the fish market") and quote["source"] == STATEMENT_URL
    assert quote["status"] == "present"
    web.version = 2
    outcome = cli.json("recheck", "--all", "--noise-delay", "0", *fetch_args(web))
    [change] = outcome["quotes"]
    assert (change["from"], change["to"]) == ("present", "altered")
    assert "by selling part of the quay" in change["excerpt"]
