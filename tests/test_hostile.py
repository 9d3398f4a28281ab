"""The hostile sample site (tests/hostile.py): no page may crash archiver, hang it, exhaust its
memory or steer it into the internal network.

The hostile servers live on 127.0.0.1, so the capture of the hostile site runs with
--allow-private; the address guard is proved separately, without it: links and
redirects to metadata, private and loopback addresses are refused before any packet
is sent (a tripwire in the test process and in the CLI subprocess refuses and records
any connect() to anything but 127.0.0.1, and any name lookup but ``localhost``).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests import hostile as hs
from tests.helpers import FAST_FETCH, SHORT_DEADLINE, SHORT_READ_TIMEOUT
from tests.hostile import ERROR_CODES, GiB, MiB, TRIPWIRE_MARK, HostileSite, RedirectingProxy, Tripwire, run_cli
from tests.warccheck import fastwarc_check

# For every source that ends by itself: no deadline a loaded machine could reach first.
UNHURRIED = ["--timeout", "120", "--deadline", "3600", "--retries", "0"]
MEMORY_LIMIT = 200 * MiB
# Seconds: a bound on hanging, not a performance figure. Without its deadlines the hostile run
# would take hours (one source drips a byte a second for 10,000 s); with them it takes seconds.
HANG_BOUND = 600.0


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with HostileSite(tmp_path_factory.mktemp("hostile-site")) as hostile:
        yield hostile


@pytest.fixture(scope="module")
def hostile_run(site, tmp_path_factory):
    """Captures of the hostile articles, in subprocesses, as cron would run them.

    The sources that end by themselves first (unhurried), then those only a deadline ends,
    then those only a read timeout ends: the result describes the last run, whose article
    also links every unfetchable kind of URL.
    """
    archive = tmp_path_factory.mktemp("hostile-run") / "archive"
    for path, options, bound in (("/article-unhurried", UNHURRIED, 3600), ("/article-dripping", SHORT_DEADLINE, HANG_BOUND)):
        earlier = run_cli(["--archive", str(archive), "capture", site.url(path), "--json", "--allow-private", *options], timeout=bound)
        assert earlier["code"] == 0, earlier["stderr"][-3000:]
        assert_clean(earlier)
    result = run_cli(["--archive", str(archive), "capture", site.url("/article"), "--json", "--allow-private", *SHORT_READ_TIMEOUT], timeout=HANG_BOUND)
    result["archive"] = archive
    result["doc"] = json.loads(result["stdout"]) if result["stdout"].strip().startswith("{") else None
    print(f"hostile run: {result['seconds']:.1f} s, peak RSS {result['peak_rss'] / MiB:.0f} MB")
    return result


@pytest.fixture
def tripwire():
    with Tripwire() as wire:
        yield wire
    assert not wire.violations, wire.violations


def db(archive: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(archive / "archive.db")
    conn.row_factory = sqlite3.Row
    return conn


def assert_clean(result: dict) -> None:
    assert "Traceback" not in result["stderr"], result["stderr"][-3000:]
    assert TRIPWIRE_MARK not in result["stderr"], result["stderr"]


def write_article(tmp_path: Path, links: list[str], name: str = "post.md") -> Path:
    article = tmp_path / name
    lines = ["# A post about the bridge", ""]
    for i, url in enumerate(links):
        lines.append(f"The council's claim number {i} was checked against [source {i}]({url}) by the reporters.\n")
    article.write_text("\n".join(lines))
    return article


# -- the hostile capture -----------------------------------------------------------------------


@pytest.mark.slow
def test_hostile_run_ends_in_time_without_a_traceback(hostile_run):
    assert_clean(hostile_run)
    assert hostile_run["code"] == 0, hostile_run["stdout"][-2000:] + hostile_run["stderr"][-2000:]
    assert not hostile_run["timed_out"], f"still running after {HANG_BOUND:.0f} s"
    [article] = hostile_run["doc"]["articles"]
    assert article["error"] is None and article["status"] == 200


@pytest.mark.slow
def test_every_bad_source_has_a_captures_row_that_says_what_happened(hostile_run, site):
    conn = db(hostile_run["archive"])
    rows = {r["requested_url"]: r for r in conn.execute("SELECT * FROM captures")}
    for name, (url, code) in site.sources.items():
        row = rows.get(url)
        assert row is not None, f"no captures row for {name} ({url})"
        if code is None:
            assert row["error"] is None and row["http_status"] == 200, (name, row["error"])
            continue
        assert row["error"], (name, dict(row))
        prefix, _, message = row["error"].partition(": ")
        assert prefix == code, (name, row["error"])
        assert len(message) > 10 and "Traceback" not in message, (name, row["error"])
    for row in rows.values():
        if row["error"]:
            assert row["error"].split(":")[0] in ERROR_CODES, row["error"]
    messages = {name: rows[url]["error"] for name, (url, _) in site.sources.items()}
    assert "redirect loop" in messages["loop"]
    assert "deadline" in messages["drip"] and "deadline" in messages["drip-head"]
    assert "read timeout" in messages["never"] and "read timeout" in messages["silent"]
    assert "body cut after 5000 of 100000 bytes" in messages["close-mid-body"]
    assert "inflates past --max-bytes" in messages["bomb"] or "larger than --max-bytes" in messages["bomb"]
    if site.tls is not None:
        assert "certificate" in messages["tls"]


@pytest.mark.slow
def test_cut_bodies_are_recorded_as_truncated(hostile_run, site):
    conn = db(hostile_run["archive"])
    row = lambda name: conn.execute("SELECT * FROM captures WHERE requested_url = ?", (site.sources[name][0],)).fetchone()  # noqa: E731
    assert row("big")["truncated"] == "length" and row("big")["content_length"] == 256 * MiB
    assert row("drip")["truncated"] == "time"
    assert row("close-mid-body")["truncated"] == "disconnect"
    bomb = row("bomb")
    assert bomb["content_length"] == 256 * MiB  # decoding stopped at --max-bytes
    assert bomb["warc_file"]  # the compressed body as sent is kept whole


@pytest.mark.slow
def test_unfetchable_links_are_recorded_never_fetched(hostile_run, site):
    [article] = hostile_run["doc"]["articles"]
    skipped = [(s["href"].strip(), s["reason"]) for s in article["skipped"]]

    def reason(prefix: str) -> str:
        [found] = [r for href, r in skipped if href.startswith(prefix)]
        return found

    assert reason("javascript:alert(document.cookie)") == "scheme:javascript"
    assert reason("JaVaScRiPt:alert(1)") == "scheme:javascript"
    assert reason("java\tscript:") .startswith("invalid_url: unsupported scheme 'javascript'")
    assert reason("data:text/html,<script>") == "scheme:data"
    assert reason("mailto:editor@example.org") == "scheme:mailto"
    assert reason("file:///etc/passwd") == "scheme:file"
    assert reason("file://localhost/etc/shadow") == "scheme:file"
    long_reason = [s["reason"] for s in article["skipped"] if s["href"].startswith(site.url("/long"))]
    assert long_reason and long_reason[0].startswith("invalid_url: URL longer than")
    assert site.http.hits.get("/long", 0) == 0 and not any(p.startswith("/long") for p in site.http.hits)
    conn = db(hostile_run["archive"])
    assert conn.execute("SELECT MAX(LENGTH(url)) FROM urls").fetchone()[0] <= 8 * 1024
    assert conn.execute("SELECT MAX(LENGTH(anchor_text)) FROM citations").fetchone()[0] <= 1000
    assert conn.execute("SELECT MAX(LENGTH(href)) FROM citations").fetchone()[0] <= 4096


@pytest.mark.slow
def test_hostile_text_is_kept_as_text(hostile_run, site):
    """Script tags and quotes in a title or an anchor are data: kept verbatim, never parsed away or run."""
    [article] = hostile_run["doc"]["articles"]
    assert article["title"] == hs.TITLE
    conn = db(hostile_run["archive"])
    anchors = [r[0] for r in conn.execute("SELECT anchor_text FROM citations WHERE skip_reason IS NOT NULL")]
    assert '<script>alert("anchor")</script> "double" \'single\' </a>' in anchors
    # Malformed HTML and an unknown charset still give text.
    for name in ("malformed", "bad-charset", "many-links", "script-title"):
        text = conn.execute(
            "SELECT t.text FROM texts t JOIN captures c ON c.id = t.capture_id WHERE c.requested_url = ?", (site.sources[name][0],)
        ).fetchone()
        assert text is not None and text[0], name


def _warcio_check(path: Path) -> int:
    """Every record read through with warcio checking digests, without holding bodies in memory."""
    count = 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, check_digests=True):
            stream = record.content_stream()
            while stream.read(1 << 20):
                pass
            problems = list(record.digest_checker.problems) if record.digest_checker else []
            assert not problems, (record.rec_headers.get_header("WARC-Target-URI"), problems)
            count += 1
    return count


@pytest.mark.slow
def test_hostile_warcs_pass_warcio_and_fastwarc(hostile_run):
    files = sorted((hostile_run["archive"] / "warcs").glob("*.warc.gz"))
    assert files and not list((hostile_run["archive"] / "warcs").glob("*.open"))
    for path in files:
        assert _warcio_check(path) > 1
        for record in fastwarc_check(path):
            assert record["block_ok"], record
            assert record["payload_ok"] in (None, True), record


@pytest.mark.slow
def test_reports_contain_no_live_script(hostile_run, site, tmp_path):
    report = pytest.importorskip("archiver.outputs.report")
    from lxml import html as lxml_html

    from tests.conftest import Cli

    cli = Cli(hostile_run["archive"])
    pages = {}
    for fmt in ("html", "md"):
        out = tmp_path / f"report.{fmt}"
        result = cli("report", site.url("/article"), "--format", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
        pages[fmt] = out.read_text()
    from markdown_it import MarkdownIt

    rendered = {"html": pages["html"], "md": MarkdownIt("commonmark").render(pages["md"])}
    for fmt, text in rendered.items():
        doc = lxml_html.fromstring(text)
        assert not doc.xpath("//script | //iframe | //object | //embed | //frame | //base"), fmt
        assert not doc.xpath("//meta[@http-equiv and translate(@http-equiv, 'REFSH', 'refsh') = 'refresh']"), fmt
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), (fmt, el.tag, name, value)
                if name.lower() in ("href", "src", "action", "formaction", "xlink:href", "srcdoc"):
                    scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                    assert scheme in ("", "http", "https", "file", "mailto"), (fmt, el.tag, name, value[:100])
        # The hostile title is in the report, as text.
        assert 'alert("title")' in doc.text_content(), fmt
    assert report is not None


# -- memory and deadlines ----------------------------------------------------------------------


def _capture_one(site, tmp_path, path: str, *extra: str) -> tuple[dict, sqlite3.Row]:
    """One large source captured unhurried: what ends the fetch is its size, never the clock."""
    url = site.url(path)
    article = write_article(tmp_path, [url])
    archive = tmp_path / "archive"
    result = run_cli(["--archive", str(archive), "capture", str(article), "--json", "--allow-private", *UNHURRIED, *extra], timeout=3600)
    assert_clean(result)
    assert result["code"] == 0, result["stderr"][-2000:]
    row = db(archive).execute("SELECT * FROM captures WHERE requested_url = ?", (url,)).fetchone()
    print(f"{path} {' '.join(extra)}: {result['seconds']:.1f} s, peak RSS {result['peak_rss'] / MiB:.0f} MB, {row['error']}")
    return result, row


@pytest.mark.parametrize(
    "path, extra, length, error",
    [
        ("/big", (), 256 * MiB, "too_large"),  # cut at the default --max-bytes
        ("/big", ("--max-bytes", "3G"), 2 * GiB, None),  # the whole 2 GB streams through
        ("/bomb", (), 256 * MiB, "too_large"),  # decoding stops at the default --max-bytes
        ("/bomb", ("--max-bytes", "3G"), 2 * GiB, None),  # all 2 GB decoded, on disk not in memory
    ],
    ids=["2GB-cut", "2GB-whole", "bomb-cut", "bomb-whole"],
)
@pytest.mark.slow
def test_peak_memory_stays_low_whatever_the_body_size(site, tmp_path, path, extra, length, error):
    result, row = _capture_one(site, tmp_path, path, *extra)
    assert 0 < result["peak_rss"] < MEMORY_LIMIT, f"peak RSS {result['peak_rss'] / MiB:.0f} MB"
    assert row["content_length"] == length
    assert (row["error"] or "").split(":")[0] == (error or "")
    if error is None:
        assert row["truncated"] is None


@pytest.mark.slow
def test_peak_memory_of_a_textual_gzip_bomb(site, tmp_path):
    result, row = _capture_one(site, tmp_path, "/bomb-html")
    assert row["error"].startswith("too_large")
    assert result["peak_rss"] < MEMORY_LIMIT, f"peak RSS {result['peak_rss'] / MiB:.0f} MB"


@pytest.mark.slow
def test_peak_memory_of_a_huge_article_page(site, tmp_path):
    """32 MB of real-looking markup: captured whole, extracted only in part, memory still bounded."""
    result, row = _capture_one(site, tmp_path, "/dense-html")
    assert row["error"] is None and row["content_length"] > 32_000_000
    assert row["text_sha256"]  # the page still has a main text (from its first megabyte)
    assert result["peak_rss"] < MEMORY_LIMIT, f"peak RSS {result['peak_rss'] / MiB:.0f} MB"


# -- the address guard, without --allow-private ------------------------------------------------


PRIVATE_SPELLINGS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/admin",
    "http://100.64.0.1/",
    "http://0.0.0.0:{port}/",
    "http://127.0.0.1:{port}/secret",
    "http://127.0.0.1.:{port}/trailing-dot",
    "http://127.1:{port}/short",
    "http://0x7f.1:{port}/hex",
    "http://0x7f000001:{port}/hexint",
    "http://2130706433:{port}/decimal",
    "http://0177.0.0.1:{port}/octal",
    "http://[::1]:{port}/v6",
    "http://[::ffff:127.0.0.1]:{port}/mapped",
    "http://[::ffff:7f00:1]:{port}/mapped-hex",
    "http://[::127.0.0.1]:{port}/compatible",
    "http://[0:0:0:0:0:ffff:169.254.169.254]/mapped-metadata",
    "http://localhost:{port}/name",
    "http://LOCALHOST.:{port}/name-dot",
    "http://foo.localhost:{port}/sub",
    "http://printer.local/",
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/fullwidth",
    "http://127\u30020\u30020\u30021:{port}/ideographic-dots",
    "http://user:pw@127.0.0.1:{port}/userinfo",
    "//127.0.0.1:{port}/scheme-relative",
]


def test_private_addresses_refused_in_every_spelling(cli, site, tmp_path, tripwire):
    """The hostile article as a local file, plus every spelling of a private address: nothing is fetched."""
    port = site.http.port
    links = [u.format(port=port) for u in PRIVATE_SPELLINGS]
    html_article = tmp_path / "hostile.html"
    extra = [(url, f"private {i}") for i, url in enumerate(links)]
    html_article.write_bytes(site.article_html(extra_links=extra))
    before, silent_before = site.http.connections, site.silent.accepted
    doc = cli.json("capture", str(html_article), *SHORT_DEADLINE)
    [article] = doc["articles"]
    assert article["error"] is None
    sources = article["sources"]
    assert len(sources) >= len(site.sources) + len(links) - 3  # a few spellings normalise to the same URL
    for source in sources:
        assert source["error"] and source["error"].startswith("blocked_private"), (source["url"], source["error"])
        assert "--allow-private" in source["error"]
    assert site.http.connections == before, "the guard let a connection through to 127.0.0.1"
    assert site.silent.accepted == silent_before


def test_redirects_into_the_private_network_refused_at_the_hop(cli, site, tmp_path, tripwire):
    """Through a forward proxy, an invented public host redirects inward: refused before the proxy sees the target."""
    port = site.http.port
    targets = {
        "/to-metadata": "http://169.254.169.254/latest/meta-data/iam/",
        "/to-loopback": f"http://127.0.0.1:{port}/secret",
        "/to-ten": "http://10.0.0.1/",
        "/to-localhost": f"http://localhost:{port}/",
        "/to-decimal": "http://2130706433/",
        "/to-mapped": "http://[::ffff:a9fe:a9fe]/",
        "/to-internal": "http://metadata.google.internal/computeMetadata/v1/",
        "/to-relative-ip": "//192.168.0.1/router",
    }
    before = site.http.connections
    with RedirectingProxy(targets) as proxy:
        links = [f"http://news.example{path}" for path in targets] + ["http://news.example/plain", "http://169.254.169.254/direct"]
        article = write_article(tmp_path, links)
        doc = cli.json("capture", str(article), "--proxy", proxy.proxy_url, *SHORT_DEADLINE)
        log = list(proxy.requests)
    by_url = {s["url"]: s for s in doc["articles"][0]["sources"]}
    conn = db(cli.archive)
    for path in targets:
        source = by_url[f"http://news.example{path}"]
        assert source["error"].startswith("blocked_private"), (path, source["error"])
        hops = conn.execute("SELECT http_status FROM hops WHERE capture_id = ? ORDER BY hop", (source["capture_id"],)).fetchall()
        assert [h[0] for h in hops] == [302, None], (path, [tuple(h) for h in hops])
    assert by_url["http://news.example/plain"]["status"] == 200 and by_url["http://news.example/plain"]["error"] is None
    assert by_url["http://169.254.169.254/direct"]["error"].startswith("blocked_private")
    # The proxy saw the public hops and nothing else.
    assert sorted(log) == sorted(f"GET {link}" for link in links[:-1]), log
    assert site.http.connections == before


def test_sample_web_proxy_never_sees_private_targets(cli, sample_web, tmp_path, tripwire):
    links = ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://localhost/", "http://[::1]/"]
    sample_web.clear_requests()
    doc = cli.json("capture", str(write_article(tmp_path, links)), "--proxy", sample_web.proxy_url, *SHORT_DEADLINE)
    assert all(s["error"].startswith("blocked_private") for s in doc["articles"][0]["sources"])
    assert sample_web.requests == []


def test_names_resolving_to_private_addresses_refused_at_the_connection(site, monkeypatch, tripwire):
    """The name check can be fooled by DNS; the connection layer checks what the name resolved to."""
    from archiver.net import fetch as fetch_module
    from archiver.net.fetch import Fetcher
    from archiver.net.guard import BlockedAddress, resolve_checked

    with pytest.raises(BlockedAddress):
        resolve_checked("localhost", site.http.port)

    # With the name check out of the way, "localhost" (the system resolver: /etc/hosts) is still refused.
    monkeypatch.setattr(fetch_module, "check_host_name", lambda host: None)
    real_getaddrinfo = socket.getaddrinfo

    def fake_dns(host, *args, **kwargs):  # a public-looking name whose DNS answer is loopback
        if host == "rebind.example":
            return real_getaddrinfo("127.0.0.1", *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    before = site.http.connections
    with Fetcher(FAST_FETCH) as fetcher:
        for url in (f"http://localhost:{site.http.port}/ok", f"http://rebind.example:{site.http.port}/ok"):
            result = fetcher.fetch(url)
            assert result.error is not None and result.error.code == "blocked_private", (url, result.error)
            assert "127.0.0.1" in result.error.message
    assert site.http.connections == before


# -- pages that are hard to read ---------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_links(site):
    from archiver.analyze.citations import find_links_html
    from archiver.analyze.text import extract

    page = hs.many_links_page()
    links = find_links_html(page, site.url("/many-links"))
    assert len(links.links) == 10_000 and sum(link.cited for link in links.links) == 10_000
    extracted = extract(page, "text/html", site.url("/many-links"))
    assert extracted.text


@pytest.mark.slow
def test_ten_thousand_citations_refused_quickly(cli, site, tmp_path, tripwire):
    """An article citing 10,000 private URLs: the first 1,000 (--max-sources) blocked, the rest skipped; no packet, no hang."""
    article = tmp_path / "many.html"
    article.write_bytes(hs.many_links_page(base=f"http://127.0.0.1:{site.http.port}/n/"))
    before = site.http.connections
    started = time.monotonic()
    doc = cli.json("capture", str(article), *SHORT_DEADLINE)
    elapsed = time.monotonic() - started
    sources = doc["articles"][0]["sources"]
    assert len(sources) == 1_000 and all(s["error"].startswith("blocked_private") for s in sources)
    limited = [s for s in doc["articles"][0]["skipped"] if s["reason"].startswith("limit:")]
    assert len(limited) == 9_000
    assert site.http.connections == before
    print(f"10,000 private citations, 1,000 blocked: {elapsed:.1f} s")
    assert elapsed < HANG_BOUND


@pytest.mark.parametrize("page", [hs.malformed_page(), hs.bad_charset_page(), hs.script_page(), b"", b"\x00" * 1000, b"<" * 100_000])
def test_malformed_pages_do_not_crash_finding_or_extraction(page):
    from archiver.analyze.citations import find_links_html
    from archiver.analyze.requisites import find_requisites
    from archiver.analyze.text import extract

    for content_type in ("text/html", "text/html; charset=x-no-such-charset", None):
        find_links_html(page, "http://127.0.0.1/page")
        find_requisites(page, "http://127.0.0.1/page")
        extract(page, content_type, "http://127.0.0.1/page")


def test_overlong_urls_and_anchors_are_capped():
    from archiver.analyze.citations import find_links_html, find_links_text

    url = hs.long_url("http://127.0.0.1")
    links = find_links_text(f"See {url} for the details of the budget.", None)
    [link] = links.links
    assert link.skip_reason.startswith("invalid_url: URL longer than") and not link.cited
    assert len(link.anchor_text) <= 1000
    page = f'<main><p>A claim was made in <a href="/x">{"word " * 50_000}</a> according to reporters.</p></main>'
    [link] = find_links_html(page.encode(), "http://127.0.0.1/").links
    assert len(link.anchor_text) <= 1000


def test_gzip_bomb_helper_is_a_real_bomb():
    import gzip

    small = hs.gzip_bomb_body(8 * MiB)
    assert gzip.decompress(small) == bytes(8 * MiB)
    assert len(hs.gzip_bomb_body(2 * GiB)) < 3 * MiB


def test_bad_tls_certificate_is_a_tls_error(site):
    if site.tls is None:
        pytest.skip(site.tls_skip_reason)
    from archiver.net.fetch import Fetcher

    with Fetcher(replace(FAST_FETCH, allow_private=True)) as fetcher:
        result = fetcher.fetch(site.tls.url("/"))
    assert result.error.code == "tls" and "certificate" in result.error.message
    assert not result.exchanges[0].status
