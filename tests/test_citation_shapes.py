"""Every citation shape, captured over real HTTP: what is fetched is the article's citations and nothing else.

The labelled pages of ``tests/citation_pages`` are served by a forward proxy on 127.0.0.1
that answers every invented host; the capture goes through it, so the proxy's log is the
list of what archiver fetched.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from archiver.sample import (
    ALL_CITED_SOURCES,
    ARTICLE_URL,
    CITED_SOURCES,
    SEED_ARTICLE_URL,
    SEED_BOILERPLATE_LINKS,
    SEED_CITATIONS,
    SEED_CITED_SOURCES,
    TEMPLATE_LINKS,
    expected_changes,
)

PAGES = Path(__file__).resolve().parent / "citation_pages"
LABELS = json.loads((PAGES / "labels.json").read_text(encoding="utf-8"))
FAST = ["--timeout", "2", "--deadline", "5", "--retries", "0"]


class PageProxy:
    """A forward proxy serving fixed pages by absolute URL (anything else: a small page), logging every request."""

    def __init__(self, pages: dict[str, tuple[bytes, str]]) -> None:
        self.pages = pages
        self.requested: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_CONNECT(self) -> None:
                proxy.requested.append("CONNECT " + self.path)
                self.send_response(502)  # no TLS here: an https source is recorded as a failed fetch
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                url = self.path
                proxy.requested.append(url)
                body, ctype = proxy.pages.get(url, (b"<html><body><p>A page nobody labelled.</p></body></html>", "text/html; charset=utf-8"))
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def labelled_proxy():
    pages = {e["url"]: ((PAGES / name).read_bytes(), "text/html; charset=utf-8") for name, e in LABELS.items()}
    proxy = PageProxy(pages)
    yield proxy
    proxy.stop()


def _citations(archive_dir: Path, article_url: str) -> list[dict]:
    db = sqlite3.connect(archive_dir / "archive.db")
    db.row_factory = sqlite3.Row
    rows = db.execute(
        "SELECT u.url, c.* FROM citations c JOIN articles a ON a.id = c.article_id JOIN urls au ON au.id = a.url_id "
        "LEFT JOIN urls u ON u.id = c.url_id WHERE au.url = ? ORDER BY c.position",
        (article_url,),
    ).fetchall()
    return [dict(r) for r in rows]


def _fetched(archive_dir: Path) -> set[str]:
    """Every URL archiver tried to fetch (a failed attempt gets its captures row too)."""
    db = sqlite3.connect(archive_dir / "archive.db")
    return {u for (u,) in db.execute("SELECT DISTINCT u.url FROM captures c JOIN urls u ON u.id = c.url_id")}


@pytest.mark.parametrize("name", sorted(n for n, e in LABELS.items() if not e.get("site")))
def test_each_shape_fetches_its_citations_and_no_boilerplate(name, cli, archive_dir, labelled_proxy):
    entry = LABELS[name]
    start = len(labelled_proxy.requested)
    doc = cli.json("capture", entry["url"], "--proxy", labelled_proxy.url, *FAST)
    assert doc["articles"][0]["error"] is None
    rows = _citations(archive_dir, entry["url"])
    cited = {r["url"] for r in rows if r["cited"]}
    assert cited == set(entry["cited"])
    for r in rows:
        assert (r["evidence"] is None) == bool(r["cited"]), r  # every link not cited says why
    assert _fetched(archive_dir) - {entry["url"]} == set(entry["cited"])  # every citation fetched, not one other link
    asked = {u for u in labelled_proxy.requested[start:] if not u.startswith("CONNECT ")} - {entry["url"]}
    assert asked == {u for u in entry["cited"] if u.startswith("http:")}


def test_dated_lists_keep_date_and_title(cli, archive_dir, labelled_proxy):
    entry = LABELS["01-dated-lists-start-and-end.html"]
    cli.json("capture", entry["url"], "--proxy", labelled_proxy.url, *FAST)
    rows = {r["url"]: r for r in _citations(archive_dir, entry["url"])}
    first = rows["http://quay.example/opinion/dredging-part-one"]
    assert (first["item_date"], first["item_title"]) == ("2026-01-12", "Who owns the silt?")
    assert "four earlier pieces in this series" in first["list_heading"]
    assert "12 January 2026" in first["context"]
    minutes = rows["https://harbourboard.test/minutes/2026-03-02.pdf"]
    assert (minutes["item_date"], minutes["item_title"]) == ("2026-03-02", "Minutes of the board meeting")


def test_roundup_paragraph_keeps_each_sentence(cli, archive_dir, labelled_proxy):
    entry = LABELS["04-roundup-paragraph.html"]
    cli.json("capture", entry["url"], "--proxy", labelled_proxy.url, *FAST)
    rows = [r for r in _citations(archive_dir, entry["url"]) if r["cited"]]
    assert len(rows) == 6
    for r in rows:
        assert r["anchor_text"] in r["context"]
        assert len(r["context"]) < 400


def test_site_template_is_seen_on_sibling_pages(cli, archive_dir, labelled_proxy):
    """The first page cites the second: fetched first, it shows the closing link block is the site's."""
    entry = LABELS["10-site-template-1.html"]
    template = ["http://harbourvoice.example/guides/tides", "http://harbourvoice.example/guides/moorings", "http://harbourvoice.example/community/events"]
    start = len(labelled_proxy.requested)
    cli.json("capture", entry["url"], "--proxy", labelled_proxy.url, *FAST)
    rows = {r["url"]: r for r in _citations(archive_dir, entry["url"])}
    assert {u for u, r in rows.items() if r["cited"]} == set(entry["cited"])
    for url in template:
        assert rows[url]["evidence"] == "site template"
    assert not set(labelled_proxy.requested[start:]) & set(template)
    assert not _fetched(archive_dir) & set(template)


def test_site_template_without_evidence_stays_cited(cli, archive_dir, labelled_proxy):
    """Degrades gracefully: the second page cites no page of its site, so nothing shows the block is template."""
    entry = LABELS["11-site-template-2.html"]
    cli.json("capture", entry["url"], "--proxy", labelled_proxy.url, *FAST)
    rows = {r["url"]: r for r in _citations(archive_dir, entry["url"])}
    assert rows["http://harbourvoice.example/guides/tides"]["cited"] == 1


def test_articles_of_one_site_in_one_run_are_each_others_evidence(cli, archive_dir, labelled_proxy):
    urls = [LABELS[n]["url"] for n in ("11-site-template-2.html", "12-site-template-3.html")]
    cli.json("capture", *urls, "--proxy", labelled_proxy.url, *FAST)
    for name, url in zip(("11-site-template-2.html", "12-site-template-3.html"), urls, strict=True):
        rows = _citations(archive_dir, url)
        assert {r["url"] for r in rows if r["cited"]} == set(LABELS[name]["cited"])


def test_comment_section_is_never_the_article(cli, archive_dir, labelled_proxy):
    entry = LABELS["09-comments-with-links.html"]
    cli.json("capture", entry["url"], "--proxy", labelled_proxy.url, *FAST)
    rows = _citations(archive_dir, entry["url"])
    commenters = [r for r in rows if r["url"] and "reader" in r["url"]]
    assert len(commenters) == 24 and all(not r["cited"] and r["evidence"] in ("comments", "outside the article") for r in commenters)


# ---------------------------------------------------------------- the sample web's second article


def test_seed_article_captures_both_dated_lists(cli, archive_dir, sample_web):
    doc = cli.json("capture", SEED_ARTICLE_URL, "--proxy", sample_web.proxy_url, *FAST)
    article = doc["articles"][0]
    assert article["error"] is None
    assert [s["url"] for s in article["sources"] if s["cited"]] == SEED_CITED_SOURCES
    rows = {r["url"]: r for r in _citations(archive_dir, SEED_ARTICLE_URL)}
    for date, title, url in SEED_CITATIONS:
        assert rows[url]["cited"] == 1
        assert (rows[url]["item_date"], rows[url]["item_title"]) == (date, title)
    for url in SEED_BOILERPLATE_LINKS:
        assert rows[url]["cited"] == 0, url
    for url in TEMPLATE_LINKS:
        assert rows[url]["evidence"] == "site template"
    asked = {url for _, url in sample_web.requests}
    assert not asked & set(SEED_BOILERPLATE_LINKS)
    md = cli("report", SEED_ARTICLE_URL, "--format", "md").stdout
    for date, title, _ in SEED_CITATIONS:
        assert f"{date}: {title}" in md.replace("\\", "")


def test_demo_captures_both_articles_and_their_changes_are_the_expected_ones(cli, archive_dir, sample_web):
    doc = cli.json("capture", ARTICLE_URL, SEED_ARTICLE_URL, "--proxy", sample_web.proxy_url, *FAST)
    cited = {s["url"] for a in doc["articles"] for s in a["sources"] if s["cited"]}
    assert cited == set(ALL_CITED_SOURCES) - {ARTICLE_URL}  # an article of the run is captured as an article
    assert set(CITED_SOURCES) < cited
    args = ["--proxy", sample_web.proxy_url, "--timeout", "1.5", "--deadline", "4", "--retries", "0"]
    sample_web.version = 2
    second = cli.json("recheck", "--all", *args)
    events = {c["url"]: c["kind"] for c in second["changes"]}
    assert events == {u: k for u, k in expected_changes(1, 2, ALL_CITED_SOURCES).items() if k}


# ---------------------------------------------------------------- one decode of the page


def test_charset_given_only_in_the_http_header(cli, archive_dir, server):
    """windows-1252 named only in Content-Type: title, anchors and quotations read right, by every reader."""
    passage = "\u201cThe caf\u00e9 on the quay will stay open every winter from now on, whatever the weather does.\u201d"
    article = (
        "<html><head><title>Caf\u00e9 de la Gare stays open</title></head><body><article>"
        f"<p>The owner told the harbour board so at length, and the board took note. {passage} "
        f"That is what the <a href=\"{server.url('/minutes')}\">Caf\u00e9 minutes</a> record, word for word, "
        "and what the owners repeated to anyone who asked on the quay that afternoon.</p>"
        "<p>Regulars were relieved, and the harbour master said the caf\u00e9 was as much a part of the quay as the cranes.</p>"
        "</article></body></html>"
    ).encode("cp1252")
    minutes = (
        "<html><head><title>Minutes</title></head><body><article><p>Item 4. The owner said: "
        "\u201cThe caf\u00e9 on the quay will stay open every winter from now on, whatever the weather does.\u201d "
        "The board noted the statement and moved on to the dredging, which took the rest of the evening.</p></article></body></html>"
    ).encode("cp1252")
    header = {"Content-Type": "text/html; charset=windows-1252"}
    server.static("/article", article, headers=header)
    server.static("/minutes", minutes, headers=header)
    doc = cli.json("capture", server.url("/article"), "--allow-private", *FAST)
    assert doc["articles"][0]["title"] == "Caf\u00e9 de la Gare stays open"
    db = sqlite3.connect(archive_dir / "archive.db")
    assert db.execute("SELECT title FROM articles").fetchone()[0] == "Caf\u00e9 de la Gare stays open"
    assert db.execute("SELECT anchor_text FROM citations WHERE cited = 1").fetchone()[0] == "Caf\u00e9 minutes"
    quotes = db.execute("SELECT text, status FROM quotes").fetchall()
    assert len(quotes) == 1 and "caf\u00e9 on the quay" in quotes[0][0] and quotes[0][1] == "present"
    assert "\ufffd" not in db.execute("SELECT group_concat(context) FROM citations").fetchone()[0]
