"""Browser capture end to end: real Chromium, a real site on 127.0.0.1 whose text only scripts
insert, real WARC files re-read with warcio and FastWARC, a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from archiver.analyze.text import extract
from archiver.runs.browse import looks_empty
from tests import jssite
from tests import webserver as ws
from tests.helpers import BROWSER_FAST, FAST, FAST_FETCH
from tests.warccheck import fastwarc_check, read_at, sha256, warcio_records

pytestmark = pytest.mark.slow  # headless Chromium: left out of ./scripts/test -m 'not slow'



@pytest.fixture
def site(server):
    return jssite.serve(server)


def db(archive_dir):
    conn = sqlite3.connect(archive_dir / "archive.db")
    conn.row_factory = sqlite3.Row
    return conn


def warc_records(archive_dir):
    records = []
    for path in sorted((archive_dir / "warcs").glob("*.warc.gz")):
        for record in warcio_records(path):
            assert not record["digest_problems"], record
            records.append({**record, "file": path})
        for checked in fastwarc_check(path):
            assert checked["block_ok"], checked
            assert checked["payload_ok"] in (None, True), checked
    return records


def test_browser_capture_records_scripted_text_citations_and_lazy_image(cli, site, archive_dir, chromium):
    article = site.url(jssite.ARTICLE_PATH)
    doc = cli.json("capture", article, "--browser", "--allow-private", *BROWSER_FAST)
    art = doc["articles"][0]
    assert art["error"] is None
    assert art["browser"]["requests"] >= 5 and art["browser"]["failed"] == 0
    assert art["looked_empty"] is None
    # The citations the script inserted were found (in the rendered DOM) and fetched.
    cited = sorted(s["url"] for s in art["sources"] if s["cited"])
    assert cited == sorted(site.url(p) for p in jssite.CITED_PATHS)
    assert all(s["status"] == 200 for s in art["sources"])
    # The lazy image, far below the fold, loaded because the page was scrolled.
    assert site.hits.get(jssite.LAZY_IMAGE_PATH) == 1
    assert site.beacons == [b'{"read":7}']

    conn = db(archive_dir)
    text = conn.execute(
        "SELECT t.text FROM texts t JOIN captures c ON c.id = t.capture_id WHERE c.requested_url = ?", (article,)
    ).fetchone()[0]
    assert jssite.INSERTED_SENTENCE in text
    # One captures row per resource, each with its hashes; the image's is the PNG's.
    image = conn.execute("SELECT * FROM captures WHERE requested_url = ?", (site.url(jssite.LAZY_IMAGE_PATH),)).fetchone()
    assert image["payload_sha256"] == sha256(jssite.tiny_png()) and image["http_status"] == 200
    load = conn.execute("SELECT * FROM browser_loads WHERE capture_id = ?", (art["capture_id"],)).fetchone()
    assert load["network_idle"] == 1 and load["scrolled"] >= 1 and load["page_height"] > 4000
    requests = {r["url"]: r for r in conn.execute("SELECT * FROM browser_requests WHERE load_id = ?", (load["id"],))}
    for path in (jssite.ARTICLE_PATH, "/static/app.js", "/api/article.json", jssite.LAZY_IMAGE_PATH, "/api/beacon"):
        row = requests[site.url(path)]
        assert row["outcome"] == "fetched" and row["capture_id"] is not None, dict(row)
    assert requests[site.url("/api/beacon")]["method"] == "POST"

    records = warc_records(archive_dir)
    by_id = {r["id"]: r for r in records}
    # The beacon's request record holds the body the page posted.
    beacon = [r for r in records if r["type"] == "request" and r["uri"] == site.url("/api/beacon")]
    assert len(beacon) == 1 and beacon[0]["http_headers"].protocol == "POST" and beacon[0]["content"] == b'{"read":7}'
    page_response = [r for r in records if r["type"] == "response" and r["uri"] == article][0]
    assert b"Loading" in page_response["content"] and jssite.INSERTED_SENTENCE.encode() not in page_response["content"]

    attachments = {a["kind"]: a for a in conn.execute("SELECT * FROM attachments WHERE capture_id = ?", (art["capture_id"],))}
    assert set(attachments) == {"screenshot", "dom", "browser_log"}
    shot = attachments["screenshot"]
    shot_record = read_at(records[0]["file"].parent.parent / shot["warc_file"], shot["warc_offset"], shot["warc_length"])
    png = shot_record.content_stream().read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and sha256(png) == shot["sha256"]
    assert shot_record.rec_type == "resource" and shot_record.rec_headers.get_header("WARC-Target-URI") == f"urn:screenshot:{article}"
    assert shot_record.rec_headers.get_header("WARC-Concurrent-To") == page_response["id"]
    dom = by_id[attachments["dom"]["warc_record_id"]]
    assert dom["type"] == "conversion" and dom["uri"] == f"urn:dom:{article}"
    assert dom["headers"]["WARC-Refers-To"] == page_response["id"]
    assert jssite.INSERTED_SENTENCE.encode() in dom["content"] and sha256(dom["content"]) == attachments["dom"]["sha256"]
    log = by_id[attachments["browser_log"]["warc_record_id"]]
    assert log["type"] == "metadata" and log["headers"]["Content-Type"] == "application/warc-fields"
    assert b"network-idle: yes" in log["content"] and b"browser: Chromium/" in log["content"]

    verified = cli.json("verify")
    assert verified["ok"], verified["problems"]


def test_plain_capture_says_the_page_looked_empty(cli, site, archive_dir):
    article = site.url(jssite.ARTICLE_PATH)
    result = cli("capture", article, "--allow-private", *FAST)
    assert result.exit_code == 0, result.output
    assert "looked empty" in result.output and "--browser" in result.output
    doc = cli.json("capture", article, "--allow-private", *FAST)
    assert doc["articles"][0]["looked_empty"].startswith("the page looked empty")
    assert doc["articles"][0]["sources"] == []
    assert jssite.LAZY_IMAGE_PATH not in site.hits and "/api/article.json" not in site.hits


def test_auto_mode_loads_an_empty_looking_page_in_the_browser(cli, site, archive_dir, chromium):
    article = site.url(jssite.ARTICLE_PATH)
    doc = cli.json("capture", article, "--browser", "auto", "--allow-private", *BROWSER_FAST)
    art = doc["articles"][0]
    assert art["browser"] is not None and art["looked_empty"] is None
    assert sorted(s["url"] for s in art["sources"] if s["cited"]) == sorted(site.url(p) for p in jssite.CITED_PATHS)
    # The sources have text of their own: auto mode left them to the plain fetch.
    assert all(s["browser"] is None for s in art["sources"])
    conn = db(archive_dir)
    kinds = [r[0] for r in conn.execute("SELECT b.id IS NOT NULL FROM captures c LEFT JOIN browser_loads b ON b.capture_id = c.id WHERE c.requested_url = ? ORDER BY c.id", (article,))]
    assert kinds == [0, 1]  # the plain fetch stays recorded; the browser's capture follows it


def test_sources_on_a_browser_host_load_in_the_browser(cli, site, archive_dir, chromium):
    article = site.url(jssite.ARTICLE_PATH)
    doc = cli.json("capture", article, "--browser", "article", "--browser-host", "127.0.0.1", "--allow-private", *BROWSER_FAST)
    assert all(s["browser"] is not None for s in doc["articles"][0]["sources"])
    # Shared sub-resources are fetched once per run and served from their record after that.
    assert site.hits.get("/favicon.ico", 0) <= 1


def test_every_sub_request_passes_the_address_guard(cli, server, archive_dir, chromium):
    # The page is on an invented host behind a proxy; its script reaches for private addresses.
    server.static("/page", ws.page("Probe", "<p>" + "Ordinary words on an ordinary page. " * 30 + "</p>"
                                   '<img src="http://169.254.169.254/latest/meta-data/">'
                                   '<script>fetch("http://127.0.0.1:9/admin"); fetch("http://localhost/")</script>'))
    doc = cli.json("capture", "http://news.example/page", "--browser", "--proxy", server.url(""), *BROWSER_FAST)
    assert doc["articles"][0]["error"] is None
    conn = db(archive_dir)
    rows = {r["url"]: r for r in conn.execute("SELECT * FROM browser_requests")}
    for url in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/admin", "http://localhost/"):
        assert rows[url]["outcome"] == "failed" and "blocked_private" in rows[url]["reason"], dict(rows[url])
        error = conn.execute("SELECT error FROM captures WHERE requested_url = ?", (url,)).fetchone()[0]
        assert error.startswith("blocked_private")
    assert set(server.hits) == {"/page", "/favicon.ico"}


def test_redirected_document_keeps_its_hops_and_the_browser_follows_them(cli, site, archive_dir, chromium):
    site.redirect("/short/ferry", jssite.ARTICLE_PATH, status=301)
    doc = cli.json("capture", site.url("/short/ferry"), "--browser", "--allow-private", *BROWSER_FAST)
    art = doc["articles"][0]
    assert art["final_url"] == site.url(jssite.ARTICLE_PATH)
    assert len(art["sources"]) == 2
    assert site.hits["/short/ferry"] == 1 and site.hits[jssite.ARTICLE_PATH] == 1
    conn = db(archive_dir)
    hops = [r[0] for r in conn.execute("SELECT http_status FROM hops WHERE capture_id = ? ORDER BY hop", (art["capture_id"],))]
    assert hops == [301, 200]
    assert conn.execute("SELECT final_url FROM browser_loads").fetchone()[0] == site.url(jssite.ARTICLE_PATH)


def test_media_is_refused_without_media(cli, server, archive_dir, chromium):
    server.static("/video", ws.page("Clip", "<p>" + "A television interview about the bridge. " * 30 + '</p><video src="/clip.webm" autoplay muted></video>'))
    server.static("/clip.webm", b"\x1a\x45\xdf\xa3" + b"\0" * 1000, headers={"Content-Type": "video/webm"})
    cli.json("capture", server.url("/video"), "--browser", "--allow-private", *BROWSER_FAST)
    row = db(archive_dir).execute("SELECT * FROM browser_requests WHERE url = ?", (server.url("/clip.webm"),)).fetchone()
    assert row["outcome"] == "refused" and "--media" in row["reason"]
    assert "/clip.webm" not in server.hits


def test_html_report_shows_the_screenshot_inline(cli, site, archive_dir, tmp_path, chromium):
    article = site.url(jssite.ARTICLE_PATH)
    cli.json("capture", article, "--browser", "--allow-private", *BROWSER_FAST)
    out = tmp_path / "report.html"
    assert cli("report", article, "--format", "html", "-o", str(out)).exit_code == 0
    html = out.read_text()
    assert html.count('<img src="data:image/png;base64,') == 3  # the article and its two sources
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\"" in html
    report = json.loads(cli("report", article, "--format", "json").stdout)
    shot = report["article"]["screenshots"]["first"]
    assert shot["sha256"] and "_png" not in shot and report["article"]["screenshots"]["latest"] is None


def test_missing_chromium_is_a_one_line_usage_error(cli, tmp_path, archive_dir):
    result = cli("capture", "http://news.example/page", "--browser", "--browser-path", str(tmp_path / "no-chromium"))
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "no executable there" in result.stderr
    empty = tmp_path / "bin"
    empty.mkdir()
    result = cli("capture", "http://news.example/page", "--browser", env={"PATH": str(empty)})
    assert result.exit_code == 2 and "apt-get install chromium" in result.stderr
    assert not (archive_dir / "archive.db").exists()  # nothing started


def test_a_browser_that_cannot_start_does_not_stop_the_run(cli, site, archive_dir):
    pytest.importorskip("playwright")
    doc = cli.json("capture", site.url(jssite.ARTICLE_PATH), "--browser", "--browser-path", "/bin/false", "--allow-private", *BROWSER_FAST)
    art = doc["articles"][0]
    assert art["error"] is None and art["status"] == 200
    assert "cannot start" in art["browser"]["error"] and "captured without the browser" in art["browser"]["error"]


def test_looks_empty_wants_scripts_and_little_text():
    shell = jssite.SHELL
    assert looks_empty(shell, "text/html", extract(shell, "text/html", "http://x.example/")) is not None
    static = ws.page("Words", "<p>" + "Plenty of words written by a person. " * 40 + "</p><script>1</script>")
    assert looks_empty(static, "text/html", extract(static, "text/html", "http://x.example/")) is None
    no_script = b"<html><body><p>Short.</p></body></html>"
    assert looks_empty(no_script, "text/html", extract(no_script, "text/html", "http://x.example/")) is None


def test_browser_capture_through_the_api(site, archive_dir, chromium):
    import archiver
    from archiver import BrowserMissing, BrowserOptions, CaptureOptions

    fetch = replace(FAST_FETCH, allow_private=True)
    with archiver.Archive(archive_dir, create=True) as archive:
        with pytest.raises(BrowserMissing):
            archive.capture([site.url(jssite.ARTICLE_PATH)], CaptureOptions(browser="all", browser_options=BrowserOptions(executable="/nonexistent/chromium")))
        result = archive.capture([site.url(jssite.ARTICLE_PATH)], CaptureOptions(browser="article"), fetch=fetch)
    art = result.articles[0]
    assert art.browser is not None and art.browser.network_idle and len(art.sources) == 2
    assert all(s.browser is None for s in art.sources)
    assert result.to_dict()["articles"][0]["browser"]["fetched"] >= 5


def test_recheck_loads_a_browser_captured_page_in_the_browser_again(cli, site, archive_dir, chromium):
    article = site.url(jssite.ARTICLE_PATH)
    cli.json("capture", article, "--browser", "article", "--allow-private", *BROWSER_FAST)
    # The shell stays byte for byte the same; only the text its script loads changes. A plain
    # fetch would see an identical page and miss the change.
    edited = jssite.article_json().replace(b"twelve weeks", b"three weeks").replace(b"four hundred", b"forty")
    site.static("/api/article.json", edited, headers={"Content-Type": "application/json"})
    doc = cli.json("recheck", "--all", "--allow-private", *FAST)
    kinds = {c["url"]: c["kind"] for c in doc["changes"]}
    assert kinds.get(article) == "content_changed", doc["changes"]
    conn = db(archive_dir)
    loads = conn.execute("SELECT COUNT(*) FROM browser_loads b JOIN captures c ON c.id = b.capture_id WHERE c.requested_url = ?", (article,)).fetchone()[0]
    assert loads == 2
    # The sources were captured plainly and are rechecked plainly: no browser load for them.
    assert conn.execute("SELECT COUNT(*) FROM browser_loads").fetchone()[0] == 2
