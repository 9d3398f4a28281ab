"""Fetching through an HTTP forward proxy (the sample web is one), as curl and wget do."""

from __future__ import annotations

import sqlite3

from archiver.sample import ARTICLE_URL, CITED_SOURCES
from tests.helpers import FAST
from tests.warccheck import warcio_records



def test_target_uri_is_absolute_through_a_proxy(cli, sample_web, archive_dir):
    doc = cli.json("capture", ARTICLE_URL, "--proxy", sample_web.proxy_url, *FAST)
    article = doc["articles"][0]
    assert article["error"] is None
    assert {s["url"] for s in article["sources"] if s["cited"]} == set(CITED_SOURCES)
    uris = set()
    for path in (archive_dir / "warcs").glob("*.warc.gz"):
        for record in warcio_records(path):
            if record["type"] in ("request", "response"):
                uris.add(record["uri"])
                assert record["uri"].startswith("http://") and "127.0.0.1" not in record["uri"]
                assert "WARC-IP-Address" not in record["headers"]  # it would name the proxy, not the server
            if record["type"] == "request":
                line = f"{record['http_headers'].protocol} {record['http_headers'].statusline}"
                assert line.startswith("GET http://"), line  # absolute-form, as sent to the proxy
    assert ARTICLE_URL in uris and set(CITED_SOURCES) <= uris
    # Each cited source was asked of the proxy once.
    asked = [url for method, url in sample_web.requests if method == "GET"]
    for url in CITED_SOURCES:
        assert asked.count(url) <= 2  # a redirecting source is asked once, then its target


def test_environment_proxy_and_no_proxy(cli, sample_web, archive_dir):
    env = {"HTTP_PROXY": sample_web.proxy_url}
    doc = cli.json("capture", ARTICLE_URL, *FAST, env=env)
    assert doc["articles"][0]["status"] == 200
    # NO_PROXY sends blog.example direct, where (offline) it cannot be resolved.
    result = cli("capture", ARTICLE_URL, *FAST, env={**env, "NO_PROXY": "blog.example"})
    assert result.exit_code == 1
    assert "the domain does not resolve" in result.stdout  # the dns error, in words
    # --proxy wins over the environment.
    doc = cli.json("capture", ARTICLE_URL, "--proxy", sample_web.proxy_url, *FAST, env={"HTTP_PROXY": "http://127.0.0.1:9"})
    assert doc["articles"][0]["status"] == 200


def test_private_literal_refused_even_through_proxy(cli, sample_web, tmp_path, archive_dir):
    article = tmp_path / "post.md"
    article.write_text("# Post\n\n[metadata](http://169.254.169.254/latest/) and [local](http://localhost:8080/admin) "
                       "and [a source](http://tvnews.example/interviews/2026/10/minister-varga-holt.html)\n")
    doc = cli.json("capture", str(article), "--proxy", sample_web.proxy_url, *FAST)
    errors = {s["url"]: s["error"] for s in doc["articles"][0]["sources"]}
    assert errors["http://169.254.169.254/latest/"].startswith("blocked_private")
    assert errors["http://localhost:8080/admin"].startswith("blocked_private")
    assert errors["http://tvnews.example/interviews/2026/10/minister-varga-holt.html"] is None
    assert not any("169.254" in url or "localhost" in url for _, url in sample_web.requests)
    db = sqlite3.connect(archive_dir / "archive.db")
    assert db.execute("SELECT COUNT(*) FROM captures WHERE error LIKE 'blocked_private%'").fetchone()[0] == 2


def test_sample_boilerplate_is_recorded_but_not_fetched(cli, sample_web, archive_dir):
    from archiver.sample import BOILERPLATE_LINKS

    cli.json("capture", ARTICLE_URL, "--proxy", sample_web.proxy_url, *FAST)
    db = sqlite3.connect(archive_dir / "archive.db")
    rows = db.execute("SELECT u.url, c.cited FROM citations c JOIN urls u ON u.id = c.url_id").fetchall()
    cited = {url for url, flag in rows if flag}
    uncited = {url for url, flag in rows if not flag}
    assert cited == set(CITED_SOURCES)
    assert set(BOILERPLATE_LINKS) <= uncited
    asked = {url for _, url in sample_web.requests}
    assert not asked & set(BOILERPLATE_LINKS)
    # Anchor text and the sentence around each citation are kept.
    for anchor, context in db.execute("SELECT anchor_text, context FROM citations WHERE cited = 1"):
        assert anchor and anchor in context
