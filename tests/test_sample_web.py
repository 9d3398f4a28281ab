"""The bundled sample citation web: what it serves, per version, and how."""

from __future__ import annotations

import gzip
import http.client
import io
import re
import socket
import subprocess
import sys
import threading
import time

import lxml.html
import pypdf
import pytest
import requests

from archiver.sample import (
    CHANGE_PAGES,
    COMMENTARY_URL,
    STATEMENT_URL,
    ARCHIVE_URL,
    ARTICLE_REQUISITES,
    ARTICLE_URL,
    ASSEMBLY_HOME_URL,
    BOILERPLATE_LINKS,
    CITED_SOURCES,
    CORRECTION_URL,
    DYING_URL,
    EARLIER_POST_URL,
    INTERVIEW_URL,
    LAYOUT_URL,
    MARKDOWN_ARTICLE,
    MARKDOWN_CITED,
    MOVED_TO_URL,
    MOVED_URL,
    NOISE_URL,
    PDF_URL,
    QUOTED_PASSAGE,
    TEXT_ARTICLE,
    TEXT_CITED,
    TEXT_UNLINKED_REFERENCES,
    TRANSCRIPT_1_URL,
    TRANSCRIPT_2_URL,
    SampleWeb,
    expected_changes,
)
from archiver.sample.pdf import make_pdf
from archiver.urls import normalise_url

HANG = 0.3


@pytest.fixture
def web():
    with SampleWeb(hang_seconds=HANG) as server:
        assert server.hang_seconds == HANG
        yield server


def get(web, url, **kwargs):
    kwargs.setdefault("timeout", 5)
    return requests.get(url, proxies={"http": web.proxy_url}, **kwargs)


def raw_request(web, method, target, headers=None, version="HTTP/1.1"):
    """One request over a fresh connection; returns (status line, headers dict, raw body bytes)."""
    lines = [f"{method} {target} {version}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines.append("Connection: close")
    with socket.create_connection((web.host, web.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return status, parsed, body


def words(text: str) -> str:
    return " ".join(text.split())


def by_class(node, tag: str, cls: str) -> list:
    """Elements ``tag`` under ``node`` with CSS class ``cls`` (lxml without cssselect)."""
    return node.xpath(f".//{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]")


def paragraphs(html: bytes | str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [words(p.text_content()) for p in doc.iter("p")]


# ------------------------------------------------------------------ the article


def test_article_links_split_into_cited_and_boilerplate(web):
    response = get(web, ARTICLE_URL)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    doc = lxml.html.fromstring(response.content)
    doc.make_links_absolute(ARTICLE_URL)

    def http_links(elements):
        found = []
        for a in elements:
            href = a.get("href", "")
            if not href.startswith("http") or href.split("#")[0] == ARTICLE_URL:
                continue  # mailto: and same-page fragments
            url = normalise_url(href)
            if url not in found:
                found.append(url)
        return found

    body = by_class(doc, "div", "entry-content")[0]
    in_body = [a for a in body.iter("a") if not any(p.tag == "aside" for p in a.iterancestors())]
    assert http_links(in_body) == CITED_SOURCES
    everything = http_links(doc.iter("a"))
    assert [u for u in everything if u not in CITED_SOURCES] == BOILERPLATE_LINKS
    assert not set(CITED_SOURCES) & set(BOILERPLATE_LINKS)
    assert CITED_SOURCES == [normalise_url(u) for u in CITED_SOURCES]
    assert len(CITED_SOURCES) == len(set(CITED_SOURCES)) == 11

    quotes = body.xpath(".//blockquote")
    assert len(quotes) == 1
    assert words(quotes[0].text_content()) == QUOTED_PASSAGE
    assert quotes[0].get("cite") == INTERVIEW_URL

    published = "2026-11-14T08:30:00+00:00"
    assert doc.xpath('//meta[@property="article:published_time"]/@content') == [published]
    assert by_class(doc, "time", "dt-published")[0].get("datetime") == published
    assert doc.xpath('//meta[@name="author"]/@content') == ["Tomas Brennick"]
    # boilerplate the finder must see through
    for tag, cls in (("nav", "main-nav"), ("nav", "breadcrumb"), ("div", "share"), ("section", "author-bio"),
                     ("ul", "tags"), ("section", "related"), ("section", "newsletter"), ("section", "comments"),
                     ("aside", "ad"), ("footer", "site-footer")):
        assert by_class(doc, tag, cls), (tag, cls)
    assert by_class(doc, "section", "newsletter")[0].xpath(".//form")


def test_article_requisites(web):
    html = get(web, ARTICLE_URL).text
    expected_types = {".png": "image/png", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
    for url in ARTICLE_REQUISITES:
        assert url.removeprefix("http://blog.example") in html
        response = get(web, url)
        assert response.status_code == 200, url
        suffix = url[url.rindex("."):]
        assert response.headers["Content-Type"].startswith(expected_types[suffix])
    png = get(web, "http://blog.example/static/img/logo.png").content
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in png[-12:]


# ------------------------------------------------------------------- versions


def test_version_1_every_source_answers(web):
    for url in CITED_SOURCES:
        response = get(web, url, allow_redirects=False)
        assert response.status_code == 200, url
        assert len(response.content) > 1000, url
    interview = get(web, INTERVIEW_URL).content
    assert QUOTED_PASSAGE in words(lxml.html.fromstring(interview).text_content())
    assert get(web, MOVED_TO_URL).status_code == 404


def test_version_2(web):
    v1 = {url: get(web, url).content for url in (INTERVIEW_URL, CORRECTION_URL, LAYOUT_URL, PDF_URL, MOVED_URL)}
    web.version = 2

    interview = get(web, INTERVIEW_URL)
    assert interview.status_code == 200
    assert QUOTED_PASSAGE not in words(lxml.html.fromstring(interview.content).text_content())

    gone = get(web, EARLIER_POST_URL)
    assert gone.status_code == 404 and "Nothing here" in gone.text

    soft = get(web, TRANSCRIPT_2_URL, allow_redirects=False)
    assert soft.status_code == 302 and soft.headers["Location"] == ASSEMBLY_HOME_URL
    landed = get(web, TRANSCRIPT_2_URL)
    assert landed.status_code == 200 and landed.url == ASSEMBLY_HOME_URL

    moved = get(web, MOVED_URL, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"] == MOVED_TO_URL
    followed = get(web, MOVED_URL)
    assert followed.url == MOVED_TO_URL
    assert list(paragraphs(followed.content)) == paragraphs(v1[MOVED_URL])

    corrected = get(web, CORRECTION_URL).content
    assert paragraphs(corrected)[: len(paragraphs(v1[CORRECTION_URL]))] == paragraphs(v1[CORRECTION_URL])
    assert paragraphs(corrected)[-1].startswith("Correction, 2 December 2026:")

    relaid = get(web, LAYOUT_URL).content
    assert relaid != v1[LAYOUT_URL]
    old_paras = [p for p in paragraphs(v1[LAYOUT_URL]) if len(p) > 150]
    new_paras = [p for p in paragraphs(relaid) if len(p) > 150]
    assert old_paras == new_paras and len(old_paras) == 6

    pdf = get(web, PDF_URL).content
    assert pdf != v1[PDF_URL] and pdf.startswith(b"%PDF-")

    for url in (ARCHIVE_URL, TRANSCRIPT_1_URL, NOISE_URL):
        assert get(web, url, allow_redirects=False).status_code == 200


def test_dying_host_hangs_then_closes(web):
    assert get(web, DYING_URL).status_code == 200
    web.version = 2
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):  # the server closes after HANG; the client would wait a minute
        get(web, DYING_URL, timeout=60)
    assert time.monotonic() - started >= HANG * 0.9
    web.hang_seconds = 3600  # a hang no read timeout can lose to (stopping the server ends it)
    with pytest.raises(requests.ReadTimeout):
        get(web, "http://localwire.test/robots.txt", timeout=0.3)
    web.version = 3
    web.hang_seconds = HANG
    with pytest.raises(requests.ConnectionError):
        get(web, DYING_URL, timeout=60)


def test_stop_does_not_wait_for_hanging_requests():
    """A request the server holds for an hour: stop() ends it instead of waiting (no clock involved)."""
    server = SampleWeb(version=2).start()
    server.hang_seconds = 3600
    errors = []

    def fetch():
        try:
            requests.get(DYING_URL, proxies={"http": server.proxy_url}, timeout=3600)
        except requests.RequestException as exc:
            errors.append(exc)

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.requests, "the request never reached the server"
    stopper = threading.Thread(target=server.stop, daemon=True)
    stopper.start()
    # Only the stop can end either thread before the hour is up: a minute is a bound on hanging.
    stopper.join(60)
    thread.join(60)
    assert not stopper.is_alive() and not thread.is_alive()
    assert errors


def test_version_3_restores_the_earlier_post(web):
    original = get(web, EARLIER_POST_URL)
    web.version = 2
    assert get(web, EARLIER_POST_URL).status_code == 404
    web.version = 3
    restored = get(web, EARLIER_POST_URL)
    assert restored.status_code == 200
    assert restored.content == original.content
    assert restored.headers["ETag"] == original.headers["ETag"]
    assert get(web, TRANSCRIPT_2_URL, allow_redirects=False).status_code == 302
    assert get(web, MOVED_URL, allow_redirects=False).status_code == 301


def test_version_is_validated():
    with pytest.raises(ValueError):
        SampleWeb(version=4)
    server = SampleWeb()
    with pytest.raises(ValueError):
        server.version = 0
    with pytest.raises(RuntimeError):
        _ = server.proxy_url


def test_expected_changes():
    assert expected_changes(1, 2) == {
        ARCHIVE_URL: None,
        EARLIER_POST_URL: "gone",
        TRANSCRIPT_1_URL: None,
        TRANSCRIPT_2_URL: "soft_404",
        INTERVIEW_URL: "content_changed",
        PDF_URL: "content_changed",
        NOISE_URL: None,
        LAYOUT_URL: None,
        CORRECTION_URL: "content_changed",
        DYING_URL: None,
        MOVED_URL: "moved",
    }
    v2_v3 = expected_changes(2, 3)
    assert list(v2_v3) == CITED_SOURCES
    assert {url: kind for url, kind in v2_v3.items() if kind} == {EARLIER_POST_URL: "restored", DYING_URL: "gone"}
    assert set(expected_changes(1, 1).values()) == {None}
    assert {u: k for u, k in expected_changes(1, 3).items() if k} == {
        TRANSCRIPT_2_URL: "soft_404",
        INTERVIEW_URL: "content_changed",
        PDF_URL: "content_changed",
        CORRECTION_URL: "content_changed",
        MOVED_URL: "moved",
    }
    assert expected_changes(2, 2)[DYING_URL] == "gone"
    with pytest.raises(ValueError):
        expected_changes(2, 1)
    with pytest.raises(ValueError):
        expected_changes(1, 5)


# ---------------------------------------------------------------------- noise


def test_noise_page_differs_on_every_request_but_not_its_story(web):
    bodies = [get(web, NOISE_URL).text for _ in range(4)]
    assert len(set(bodies)) == 4
    tokens = {re.search(r'name="csrf_token" value="([^"]+)"', b).group(1) for b in bodies}
    assert len(tokens) == 4
    stories = {tuple(paragraphs(lxml.html.tostring(by_class(lxml.html.fromstring(b), "div", "story-body")[0])))
               for b in bodies}
    assert len(stories) == 1
    assert "ETag" not in get(web, NOISE_URL).headers


def test_records_pages_change_between_versions_and_the_ticker_on_every_request(web):
    bodies = {url: get(web, url).text for url in CHANGE_PAGES}
    assert all("Vellmark Record" in body for body in bodies.values())
    ticker = "http://records.example/news/markets-live.html"
    prices = {re.search(r"Harbour shares now: [^<]+", get(web, ticker).text).group() for _ in range(4)}
    assert len(prices) > 1
    assert "{{" not in get(web, ticker).text
    assert "we will find the money for the sea wall without selling the quay" in get(web, STATEMENT_URL).text
    assert "\u2018We will not close the fish market" in get(web, COMMENTARY_URL).text
    web.version = 2
    changed = {url for url in CHANGE_PAGES if get(web, url).text != bodies[url]}
    assert changed == {url for url, (kind, _) in CHANGE_PAGES.items() if kind} | {ticker, "http://records.example/news/winter-ferries.html"}
    assert "by selling part of the quay" in get(web, STATEMENT_URL).text


def test_main_text_extraction_ignores_noise_and_layout(web):
    trafilatura = pytest.importorskip("trafilatura")
    texts = {trafilatura.extract(get(web, NOISE_URL).text) for _ in range(3)}
    assert len(texts) == 1
    layout_v1 = trafilatura.extract(get(web, LAYOUT_URL).text)
    moved_v1 = trafilatura.extract(get(web, MOVED_URL).text)
    web.version = 2
    assert trafilatura.extract(get(web, LAYOUT_URL).text) == layout_v1
    assert trafilatura.extract(get(web, MOVED_URL).text) == moved_v1


# ------------------------------------------------------------------ HTTP details


def test_conditional_requests(web):
    first = get(web, ARTICLE_URL)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = get(web, ARTICLE_URL, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert get(web, ARTICLE_URL, headers={"If-Modified-Since": modified}).status_code == 304
    assert get(web, ARTICLE_URL, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert get(web, ARTICLE_URL, headers={"If-Modified-Since": "Mon, 01 Jun 2026 00:00:00 GMT"}).status_code == 200
    # a file that changed in version 2 no longer matches its version-1 validators
    interview = get(web, INTERVIEW_URL)
    web.version = 2
    changed = get(web, INTERVIEW_URL, headers={"If-None-Match": interview.headers["ETag"],
                                                "If-Modified-Since": interview.headers["Last-Modified"]})
    assert changed.status_code == 200
    assert get(web, ARTICLE_URL, headers={"If-None-Match": etag}).status_code == 304


def test_gzip_when_accepted(web):
    target = TRANSCRIPT_1_URL
    status, headers, body = raw_request(web, "GET", target, {"Host": "assembly.test", "Accept-Encoding": "gzip"})
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body)
    status, plain_headers, plain = raw_request(web, "GET", target, {"Host": "assembly.test"})
    assert "content-encoding" not in plain_headers
    assert gzip.decompress(body) == plain
    # requests asks for gzip by default and decodes it
    response = get(web, target)
    assert response.headers["Content-Encoding"] == "gzip" and response.content == plain
    assert get(web, target, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_chunked_pages(web):
    for url in (ARCHIVE_URL, NOISE_URL):
        status, headers, body = raw_request(web, "GET", url)
        assert status == "HTTP/1.1 200 OK"
        assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
        assert body.endswith(b"0\r\n\r\n") and body.count(b"\r\n") > 4
        assert get(web, url).status_code == 200
    # an HTTP/1.0 client gets a Content-Length instead
    status, headers, body = raw_request(web, "GET", ARCHIVE_URL, version="HTTP/1.0")
    assert "transfer-encoding" not in headers and int(headers["content-length"]) == len(body)


def test_keep_alive_over_one_connection(web):
    conn = http.client.HTTPConnection(web.host, web.port, timeout=5)
    try:
        for url, status in [(ARCHIVE_URL, 200), (TRANSCRIPT_1_URL, 200), (NOISE_URL, 200),
                            ("http://blog.example/no-such-page", 404), (ARTICLE_URL, 200), (PDF_URL, 200)]:
            conn.request("GET", url, headers={"Accept-Encoding": "gzip"})
            response = conn.getresponse()
            assert response.status == status, url
            response.read()
            assert not response.will_close
        conn.request("HEAD", ARTICLE_URL)
        head = conn.getresponse()
        assert head.read() == b"" and head.status == 200
        conn.request("GET", "http://blog.example/static/css/site.css")
        assert conn.getresponse().read().startswith(b"/*")
    finally:
        conn.close()


def test_head(web):
    for url in (ARTICLE_URL, PDF_URL, NOISE_URL, TRANSCRIPT_1_URL):
        got = get(web, url, headers={"Accept-Encoding": "identity"})
        head = requests.head(url, proxies={"http": web.proxy_url}, timeout=5, headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Content-Type"] == got.headers["Content-Type"]
        if "Content-Length" in got.headers:
            assert head.headers["Content-Length"] == got.headers["Content-Length"]
    web.version = 2
    head = requests.head(TRANSCRIPT_2_URL, proxies={"http": web.proxy_url}, timeout=5)
    assert head.status_code == 302 and head.headers["Location"] == ASSEMBLY_HOME_URL


def test_unknown_host_connect_and_origin_form(web):
    response = get(web, "http://nowhere.example/")
    assert response.status_code == 502 and response.text.strip() == "sample proxy: unknown host"
    status, _, body = raw_request(web, "CONNECT", "blog.example:443", {"Host": "blog.example:443"})
    assert status.startswith("HTTP/1.1 501")
    # origin form with a Host header, as a plain (non-proxy) request
    direct = requests.get(web.proxy_url + "/2026/11/the-bridge-that-wasnt.html", headers={"Host": "blog.example"}, timeout=5)
    assert direct.status_code == 200 and direct.content == get(web, ARTICLE_URL).content
    # stub hosts from the boilerplate answer; missing pages on content hosts are 404
    assert get(web, BOILERPLATE_LINKS[8]).status_code == 200  # a share link
    assert get(web, "http://assembly.test/sessions/1999-01-01/transcript.html").status_code == 404
    assert get(web, "http://blog.example/_404.html").status_code == 404
    assert get(web, "http://stats-office.test/reports/ansel-crossing-traffic-2026.pdf.txt").status_code == 404
    assert get(web, "http://blog.example/../../etc/passwd").status_code in (400, 404)
    assert get(web, "http://dailyledger.example/robots.txt").text.startswith("User-agent")


def test_request_log(web):
    get(web, ARTICLE_URL)
    requests.head(PDF_URL, proxies={"http": web.proxy_url}, timeout=5)
    get(web, "http://nowhere.example/x?y=1")
    assert web.requests == [("GET", ARTICLE_URL), ("HEAD", PDF_URL), ("GET", "http://nowhere.example/x?y=1")]
    web.clear_requests()
    assert web.requests == []


# ----------------------------------------------------------------------- PDF


def test_pdf_text_is_extractable(web):
    response = get(web, PDF_URL)
    assert response.headers["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content), strict=True).pages)
    assert "19,340 vehicles a day" in words(text)
    assert get(web, PDF_URL).content == response.content  # deterministic bytes
    web.version = 2
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(get(web, PDF_URL).content)).pages)
    assert "18,960 vehicles a day" in words(text) and "19,340" not in text


def test_pdf_writer_escapes_and_paginates():
    data = make_pdf("A (title) with \\ backslash", ["word " * 400] * 5, author="Someone")
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) > 1
    assert reader.pages[0].extract_text().splitlines()[0] == "A (title) with \\ backslash"
    assert reader.metadata.title == "A (title) with \\ backslash"


# ------------------------------------------------------------------ file articles


def test_file_articles():
    markdown = MARKDOWN_ARTICLE.read_text(encoding="utf-8")
    targets = re.findall(r"\]\((http[^)\s]+)|^\[[^\]]+\]:\s*(\S+)", markdown, re.M)
    found = []
    for inline, reference in targets:
        url = normalise_url(inline or reference)
        if url not in found and not url.endswith(".svg"):
            found.append(url)
    assert set(found) == set(MARKDOWN_CITED)
    quote = " ".join(line.lstrip("> ").strip() for line in markdown.splitlines() if line.startswith(">"))
    assert quote == QUOTED_PASSAGE

    text = TEXT_ARTICLE.read_text(encoding="utf-8")
    assert "<a " not in text and "](" not in text
    for url in TEXT_CITED:
        assert url in text
    assert "ansel-crossing-traffic-2026.pdf.)" in text  # trailing punctuation to strip
    flat = words(text)
    for title, publication, date in TEXT_UNLINKED_REFERENCES:
        assert f'"{title}" ({publication}, {date})' in flat


def test_serve_command_prints_urls():
    command = [sys.executable, "-m", "archiver.sample", "serve", "--port", "0", "--version", "2", "--quiet"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            proxy_line = process.stdout.readline()
            article_line = process.stdout.readline()
            proxy = proxy_line.split()[-1]
            assert proxy.startswith("http://127.0.0.1:")
            assert article_line.split()[-1] == ARTICLE_URL
            response = requests.get(EARLIER_POST_URL, proxies={"http": proxy}, timeout=5)
            assert response.status_code == 404  # version 2
        finally:
            process.terminate()
            process.wait(5)
