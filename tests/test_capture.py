"""Capture end to end: real HTTP on 127.0.0.1, real WARC files re-read by warcio and FastWARC, real SQLite."""

from __future__ import annotations

import gzip
import hashlib
import re
import sqlite3

import pytest

from tests import webserver as ws
from tests.helpers import FAST, FAST_LOCAL, SHORT_DEADLINE
from tests.warccheck import fastwarc_check, read_at, sha256, warcio_records

def article_html(srv, extra: str = "") -> bytes:
    refused = f"http://127.0.0.1:{ws.closed_port()}/gone"
    return f"""<!doctype html><html><head><title>Bridges and budgets</title>
<meta name="author" content="Ada Writer"><meta property="article:published_time" content="2026-11-01T09:00:00Z">
<link rel="stylesheet" href="/style.css"></head>
<body>
<header><nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/contact">Contact</a></nav></header>
<main><article>
<h1>Bridges and budgets</h1>
<p>The council first promised the repair in <a href="/src/minutes">the March minutes</a>, a promise it repeated
when the mayor spoke <a href="/src/minutes#p4">again in April</a> and which the engineers doubted in
<a href="/src/report">their own report</a>.</p>
<p>A later statement <a href="/src/moved">moved the date</a>, then a transcript <a href="/src/missing">went missing</a>,
and the budget office <a href="{refused}">stopped answering</a> while a data dump
<a href="/src/huge">was enormous</a>.</p>
<p>The press office kept sending readers <a href="/src/loop">round in circles</a>; the compressed
<a href="/src/gzip">summary</a> and the streamed <a href="/src/chunked">timeline</a> still loaded.
Questions went to <a href="mailto:editor@example.org">the editor</a> and <a href="javascript:alert(1)">nowhere</a>.</p>
{extra}
</article>
<aside class="related"><h3>Related</h3><a href="/related/one">Another story</a> <a href="/related/two">Yet another story</a></aside>
</main>
<footer><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>
</body></html>""".encode()


@pytest.fixture
def site(server):
    server.static("/article", article_html(server))
    server.static("/style.css", b"body{background:url(/bg.png)}", headers={"Content-Type": "text/css"})
    server.static("/bg.png", b"\x89PNG\r\n\x1a\nfake", headers={"Content-Type": "image/png"})
    server.static("/src/minutes", ws.page("Minutes", "<p>The council agreed to repair the bridge by June.</p>"))
    server.static("/src/report", ws.page("Report", "<p>Engineers found the repair plan unrealistic.</p>"))
    server.redirect("/src/moved", "/src/moved-step")
    server.redirect("/src/moved-step", "/src/new-home", status=301)
    server.static("/src/new-home", ws.page("Statement", "<p>The repair is now planned for next year.</p>"))
    server.route("/src/huge", ws.big_body(3_000_000))
    server.redirect("/src/loop", "/src/loop2")
    server.redirect("/src/loop2", "/src/loop")
    server.route("/src/gzip", ws.gzipped(ws.page("Summary", "<p>A compressed summary of the budget.</p>")))
    server.route("/src/chunked", ws.chunked([b"<html><body><p>Timeline part one. ", b"Timeline part two.</p></body></html>"]))
    return server


def test_a_source_that_never_finishes_ends_at_its_deadline(cli, server, tmp_path, archive_dir):
    """A body dripping a byte every half second for over an hour: only the deadline ends it, on any machine."""
    server.route("/src/slow", ws.drip(server.stop_event, total=10_000, interval=0.5))
    article = tmp_path / "post.md"
    article.write_text(f"# A post\n\nThe ministry's portal [answered slowly]({server.url('/src/slow')}).\n")
    doc = cli.json("capture", str(article), *SHORT_DEADLINE, "--allow-private")
    [source] = doc["articles"][0]["sources"]
    assert source["error"].startswith("timeout") and "deadline" in source["error"], source["error"]
    db = sqlite3.connect(archive_dir / "archive.db")
    truncated, warc_file = db.execute("SELECT truncated, warc_file FROM captures WHERE requested_url LIKE '%/src/slow'").fetchone()
    assert truncated == "time" and warc_file  # what arrived is kept, marked as cut by the clock


def test_capture_article_and_sources(cli, site, archive_dir):
    doc = cli.json("capture", site.url("/article"), "--max-bytes", "1M", *FAST_LOCAL)
    [article] = doc["articles"]
    assert article["error"] is None
    assert article["title"] == "Bridges and budgets"
    assert article["status"] == 200
    by_path = {re.sub(r"^http://127\.0\.0\.1:\d+", "", s["url"]): s for s in article["sources"]}

    # Citations only: navigation, related links and footer are not fetched.
    assert "/about" not in by_path and "/related/one" not in by_path and "/privacy" not in by_path
    assert {"/src/minutes", "/src/report", "/src/moved", "/src/missing", "/src/huge", "/src/loop", "/src/gzip", "/src/chunked"} <= set(by_path)
    # Fragment dropped, so the minutes are fetched once though cited twice.
    assert site.hits["/src/minutes"] == 1
    assert site.hits.get("/about", 0) == 0

    assert by_path["/src/minutes"]["status"] == 200 and by_path["/src/minutes"]["error"] is None
    assert by_path["/src/missing"]["status"] == 404
    assert by_path["/src/moved"]["final_url"].endswith("/src/new-home")
    assert by_path["/src/huge"]["error"].startswith("too_large")
    assert by_path["/src/loop"]["error"].startswith("too_many_redirects")
    refused = [s for p, s in by_path.items() if p.endswith("/gone")]
    assert refused and refused[0]["error"].startswith("refused")
    skipped = {s["reason"] for s in article["skipped"]}
    assert {"scheme:mailto", "scheme:javascript"} <= skipped

    db = sqlite3.connect(archive_dir / "archive.db")
    db.row_factory = sqlite3.Row
    # Every captures row with a WARC location points at a whole record whose body hashes right.
    rows = db.execute("SELECT * FROM captures WHERE warc_file IS NOT NULL").fetchall()
    assert len(rows) >= 9
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["fetched_at"])
        record = read_at(archive_dir / row["warc_file"], row["warc_offset"], row["warc_length"])
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == row["final_url"]
        body = record.content_stream().read()
        assert sha256(body) == row["payload_sha256"], row["requested_url"]
        assert len(body) == row["content_length"]

    # Redirect hops are recorded, each with its own response record.
    moved = db.execute("SELECT id FROM captures WHERE requested_url LIKE '%/src/moved'").fetchone()
    hops = db.execute("SELECT * FROM hops WHERE capture_id = ? ORDER BY hop", (moved["id"],)).fetchall()
    assert [h["http_status"] for h in hops] == [302, 301, 200]
    assert hops[0]["location"] == "/src/moved-step"

    # Truncated records say so.
    huge = db.execute("SELECT * FROM captures WHERE requested_url LIKE '%/src/huge'").fetchone()
    assert huge["truncated"] == "length"
    record = read_at(archive_dir / huge["warc_file"], huge["warc_offset"], huge["warc_length"])
    assert record.rec_headers.get_header("WARC-Truncated") == "length"

    # The article row and its citations.
    art = db.execute("SELECT * FROM articles").fetchone()
    assert art["author"] == "Ada Writer" and art["published"].startswith("2026-11-01")
    cited = db.execute("SELECT COUNT(*) FROM citations WHERE article_id = ? AND cited = 1", (art["id"],)).fetchone()[0]
    uncited = db.execute("SELECT COUNT(*) FROM citations WHERE article_id = ? AND cited = 0", (art["id"],)).fetchone()[0]
    assert cited == 9 and uncited >= 7
    run = db.execute("SELECT * FROM runs").fetchone()
    assert run["status"] == "finished" and run["finished_at"]


def test_warcs_are_valid_for_independent_readers(cli, site, archive_dir):
    cli.json("capture", site.url("/article"), "--max-bytes", "1M", *FAST_LOCAL)
    files = sorted((archive_dir / "warcs").glob("*.warc.gz"))
    assert files and not list((archive_dir / "warcs").glob("*.open"))
    for path in files:
        assert re.fullmatch(r"archiver-\d{17}-\d{5}-[A-Za-z0-9.-]+\.warc\.gz", path.name)
        records = warcio_records(path)
        assert records[0]["type"] == "warcinfo"
        for record in records:
            assert not record["digest_problems"], (record["uri"], record["digest_problems"])
        ids = {r["id"]: r for r in records}
        for record in records:
            if record["type"] == "request":
                assert ids[record["headers"]["WARC-Concurrent-To"]]["type"] == "response"
            if record["type"] == "response":
                assert record["headers"]["WARC-Block-Digest"].startswith("sha256:")
                assert record["headers"]["WARC-Payload-Digest"].startswith("sha256:")
                assert record["headers"].get("WARC-IP-Address") == "127.0.0.1"
        for record in fastwarc_check(path):
            assert record["block_ok"], record
            if record["payload_ok"] is not None:
                assert record["payload_ok"], record


def test_content_encoding_kept_and_chunking_removed(cli, site, archive_dir):
    cli.json("capture", site.url("/article"), "--max-bytes", "1M", *FAST_LOCAL)
    db = sqlite3.connect(archive_dir / "archive.db")
    warc_file, offset, length, payload = db.execute(
        "SELECT warc_file, warc_offset, warc_length, payload_sha256 FROM captures WHERE requested_url LIKE '%/src/gzip'"
    ).fetchone()
    with open(archive_dir / warc_file, "rb") as fh:
        fh.seek(offset)
        raw = gzip.decompress(fh.read(length))
    _warc_head, http_head, rest = raw.split(b"\r\n\r\n", 2)
    http_body = rest[:-4]  # the record ends with CRLF CRLF
    assert b"Content-Encoding: gzip" in http_head
    assert http_body[:2] == b"\x1f\x8b"  # stored as it came off the wire: still gzip
    assert hashlib.sha256(gzip.decompress(http_body)).hexdigest() == payload

    warc_file, offset, length = db.execute(
        "SELECT warc_file, warc_offset, warc_length FROM captures WHERE requested_url LIKE '%/src/chunked'"
    ).fetchone()
    record = read_at(archive_dir / warc_file, offset, length)
    assert record.http_headers.get_header("Transfer-Encoding") is None
    assert record.http_headers.get_header("X-Archiver-Orig-Transfer-Encoding") == "chunked"
    assert record.content_stream().read() == b"<html><body><p>Timeline part one. Timeline part two.</p></body></html>"


def test_article_failure_exit_status(cli, server, archive_dir):
    result = cli("capture", server.url("/nothing-here"), *FAST_LOCAL)
    assert result.exit_code == 1
    assert "404" in result.output
    refused = cli("capture", f"http://127.0.0.1:{ws.closed_port()}/", *FAST_LOCAL)
    assert refused.exit_code == 1 and "refused" in refused.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["capture", "ftp://example.org/file"], "unsupported scheme"),
        (["capture", "no/such/file.html"], "no such file"),
        (["capture", "--no-such-option", "http://example.org/"], "No such option"),
        (["capture", "http://example.org/", "--max-bytes", "lots"], "not a size"),
        (["capture", "http://example.org/", "--proxy", "nonsense"], "--proxy"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(cli, archive_dir, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert not archive_dir.exists()


def test_not_an_archive_directory(tmp_path):
    from tests.conftest import Cli

    stranger = tmp_path / "home"
    stranger.mkdir()
    (stranger / "thesis.docx").write_text("precious")
    result = Cli(stranger)("capture", "http://example.org/")
    assert result.exit_code == 2 and "not an archive" in result.output
    assert sorted(p.name for p in stranger.iterdir()) == ["thesis.docx"]


def test_private_targets_refused_without_flag(cli, server, tmp_path, archive_dir):
    server.static("/secret", b"internal")
    server.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
    article = tmp_path / "post.md"
    article.write_text(
        "# A post\n\nSee [the internal page](" + server.url("/secret") + ") and "
        "[metadata](http://169.254.169.254/latest/meta-data/) and [loopback by name](http://localhost:9/) "
        "and [decimal](http://2130706433/) and [ten](http://10.1.2.3/).\n"
    )
    doc = cli.json("capture", str(article), *FAST)  # without --allow-private
    sources = doc["articles"][0]["sources"]
    assert len(sources) == 5
    for source in sources:
        assert source["error"].startswith("blocked_private"), source
    assert server.hits.get("/secret", 0) == 0


def test_redirect_to_private_refused(cli, server, tmp_path):
    """A public-looking first hop that redirects inward is refused at the hop (seen through the address guard)."""
    server.redirect("/hop", "http://127.0.0.1:9/internal")
    article = tmp_path / "post.md"
    article.write_text("# A post\n\nSee [this](" + server.url("/hop") + ").\n")
    # The first hop is itself on loopback, so allow it only through a proxy that resolves names: here we
    # check the hop rule directly with the fetcher instead.
    from archiver.net.fetch import FetchOptions, Fetcher

    with Fetcher(FetchOptions(allow_private=False)) as fetcher:
        result = fetcher.fetch(server.url("/hop"))
    assert result.error.code == "blocked_private"
    with Fetcher(FetchOptions(allow_private=True, retries=0)) as fetcher:
        result = fetcher.fetch(server.url("/hop"))
    assert result.exchanges[0].status == 302
    assert result.error.code == "refused"


def test_local_markdown_article_is_a_resource_record(cli, server, tmp_path, archive_dir):
    server.static("/a", ws.page("A", "<p>Source A says the bridge is safe.</p>"))
    server.static("/b", ws.page("B", "<p>Source B disagrees.</p>"))
    article = tmp_path / "draft.md"
    article.write_text(f"# Draft\n\nOne [source]({server.url('/a')}) and another <{server.url('/b')}>.\n")
    doc = cli.json("capture", str(article), *FAST_LOCAL)
    [result] = doc["articles"]
    assert result["url"].startswith("file://")
    assert {s["status"] for s in result["sources"]} == {200}
    record = read_at(archive_dir / result["warc"]["file"], result["warc"]["offset"], result["warc"]["length"])
    assert record.rec_type == "resource"
    assert record.content_stream().read() == article.read_bytes()


def test_warc_rotation_never_overwrites(cli, site, archive_dir):
    cli.json("capture", site.url("/article"), "--max-bytes", "1M", "--warc-size", "2000", *FAST_LOCAL)
    files = sorted((archive_dir / "warcs").glob("*.warc.gz"))
    assert len(files) > 3
    for path in files:
        assert warcio_records(path)[0]["type"] == "warcinfo"
    before = {p.name: p.stat().st_mtime_ns for p in files}
    cli.json("capture", site.url("/article"), "--max-bytes", "1M", "--warc-size", "2000", *FAST_LOCAL)
    after = {p.name: p.stat().st_mtime_ns for p in (archive_dir / "warcs").glob("*.warc.gz")}
    assert all(after[name] == stamp for name, stamp in before.items())
    assert len(after) > len(before)


def test_requisites(cli, site, archive_dir):
    doc = cli.json("capture", site.url("/article"), "--requisites", "--max-bytes", "1M", *FAST_LOCAL)
    kinds = {re.sub(r"^http://127\.0\.0\.1:\d+", "", s["url"]): s["kind"] for s in doc["articles"][0]["sources"]}
    assert kinds.get("/style.css") == "requisite"
    assert kinds.get("/bg.png") == "requisite"  # pulled in by the stylesheet


def test_redirect_bodies_are_recorded_not_swallowed(cli, server, tmp_path, archive_dir):
    """A redirect's own body is part of the exchange: it is streamed into its record like any other."""
    body = b"<html><body>This page has moved. " + b"x" * 50_000 + b"</body></html>"
    server.static("/old", body, status=301, headers={"Location": "/new"})
    server.static("/new", ws.page("New", "<p>The new home of the page.</p>"))
    article = tmp_path / "post.md"
    article.write_text(f"# Post\n\nSee [the old address]({server.url('/old')}).\n")
    cli.json("capture", str(article), *FAST_LOCAL)
    db = sqlite3.connect(archive_dir / "archive.db")
    hop = db.execute("SELECT warc_file, warc_offset, warc_length FROM hops WHERE hop = 0").fetchone()
    record = read_at(archive_dir / hop[0], hop[1], hop[2])
    assert record.http_headers.get_statuscode() == "301"
    assert record.content_stream().read() == body


def test_max_sources_limits_what_is_fetched(cli, server, tmp_path, archive_dir):
    for i in range(5):
        server.static(f"/s/{i}", ws.page(f"S{i}", f"<p>Source number {i}.</p>"))
    article = tmp_path / "post.md"
    article.write_text("# Post\n\n" + " ".join(f"[source {i}]({server.url(f'/s/{i}')})" for i in range(5)) + "\n")
    doc = cli.json("capture", str(article), "--max-sources", "3", *FAST_LOCAL)
    fetched = [s["url"] for s in doc["articles"][0]["sources"]]
    assert len(fetched) == 3 and fetched == [server.url(f"/s/{i}") for i in range(3)]
    limited = [s for s in doc["articles"][0]["skipped"] if s["reason"].startswith("limit:")]
    assert len(limited) == 2
    assert sum(server.hits.get(f"/s/{i}", 0) for i in range(5)) == 3


def test_saved_html_page_resolves_links_against_its_canonical_address(cli, server, tmp_path):
    """A page saved from a browser keeps relative links: they resolve against its canonical URL."""
    server.static("/news/source", ws.page("Source", "<p>The council voted on Tuesday.</p>"))
    saved = tmp_path / "saved.html"
    saved.write_text(
        f'<html><head><link rel="canonical" href="{server.url("/news/story")}"></head><body><article>'
        "<p>As the <a href='source'>council's own notes</a> show, the vote happened on Tuesday, "
        "which settles a question that has been argued about for weeks in this town.</p></article></body></html>"
    )
    doc = cli.json("capture", str(saved), *FAST_LOCAL)
    assert [s["url"] for s in doc["articles"][0]["sources"]] == [server.url("/news/source")]
    assert doc["articles"][0]["sources"][0]["status"] == 200


def test_quotations_whose_sources_failed_are_unchecked_not_missing(cli, tmp_path, archive_dir):
    article = tmp_path / "post.md"
    article.write_text(
        "# Post\n\nThe minister [said on the radio](http://127.0.0.1:9/gone) that "
        '"the bridge will be finished long before the next election comes around".\n'
    )
    doc = cli.json("capture", str(article), *FAST_LOCAL)
    [quote] = doc["articles"][0]["quotes"]
    assert quote["status"] is None
    db = sqlite3.connect(archive_dir / "archive.db")
    assert db.execute("SELECT status, checked_at FROM quotes").fetchone() == (None, None)
    assert db.execute("SELECT COUNT(*) FROM quote_checks").fetchone()[0] == 0
