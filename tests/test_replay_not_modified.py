"""A recheck answered 304 replays the page's content in pywb at the recheck's date.

The sample web answers a conditional request for an unchanged page with 304 Not Modified.
archiver writes a server-not-modified revisit with an empty block and keeps the 304 in a
metadata record (docs/warc.md). pywb, fed the WARCs (and again our own CDXJ index), must
serve the original bytes for the recheck's timestamp, and the WARC must still say what the
server answered.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from archiver.sample import ARTICLE_URL, INTERVIEW_URL
from tests.helpers import free_port, start_pywb
from tests.helpers import fetch_args
from tests.warccheck import warcio_records

pytest.importorskip("pywb", reason="pywb is a test dependency (pip install -e '.[test]')")


def _stamp(iso: str) -> str:
    return "".join(c for c in iso if c.isdigit())[:14]


def _replay(port: int, collection: str, stamp: str, url: str) -> requests.Response:
    # id_: pywb's identity mode, the archived bytes unrewritten; no proxy between us and pywb.
    session = requests.Session()
    session.trust_env = False
    return session.get(f"http://127.0.0.1:{port}/{collection}/{stamp}id_/{url}", timeout=60, allow_redirects=False)


@pytest.mark.slow
def test_not_modified_recheck_replays_original_content_in_pywb(cli, sample_web, archive_dir, tmp_path):
    web = sample_web
    captured = cli.json("capture", ARTICLE_URL, *fetch_args(web))
    first = next(s for s in captured["articles"][0]["sources"] if s["url"] == INTERVIEW_URL)
    # Replay addresses captures by the second: the recheck must fall in a later second than the capture.
    time.sleep(1.1)
    outcome = cli.json("recheck", "--all", *fetch_args(web))
    assert outcome["changes"] == []

    import sqlite3

    db = sqlite3.connect(archive_dir / "archive.db")
    row = db.execute(
        """SELECT c.id, c.fetched_at, c.http_status, c.record_type, c.warc_record_id, c.revisit_of, c.warc_file
             FROM captures c JOIN urls u ON u.id = c.url_id WHERE u.url = ? ORDER BY c.id DESC LIMIT 1""",
        (INTERVIEW_URL,),
    ).fetchone()
    capture_id, rechecked_at, status, record_type, record_id, revisit_of, warc_file = row
    assert (status, record_type) == (304, "revisit")
    original_id, original_at, original_sha = db.execute(
        "SELECT warc_record_id, fetched_at, payload_sha256 FROM captures WHERE id = ?", (revisit_of,)
    ).fetchone()
    assert db.execute("SELECT kind, record_type FROM attachments WHERE capture_id = ?", (capture_id,)).fetchall() == [("server_answer", "metadata")]
    db.close()

    # What the WARC says, read with warcio: an empty server-not-modified revisit, and the 304 beside it.
    records = warcio_records(archive_dir / warc_file)
    revisit = next(r for r in records if r["id"] == record_id)
    assert revisit["type"] == "revisit"
    assert revisit["headers"]["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    assert revisit["headers"]["WARC-Refers-To"] == original_id
    assert revisit["headers"]["Content-Length"] == "0" and revisit["content"] == b""
    answer = next(r for r in records if r["type"] == "metadata" and r["headers"].get("WARC-Refers-To") == record_id)
    fields = answer["content"].decode()
    assert "http-status: 304\r\n" in fields and "http-status-line: HTTP/1.1 304 Not Modified" in fields
    assert "http-header: ETag:" in fields
    request = next(r for r in records if r["type"] == "request" and r["headers"].get("WARC-Concurrent-To") == record_id)
    assert request["http_headers"].get_header("If-None-Match")

    assert cli("verify").exit_code == 0

    # ReplayWeb.page reads the WACZ's index: the recheck is there at its own date, as a revisit
    # (resolved to the original's head and payload, since the revisit has none), never as a 304.
    wacz = tmp_path / "story.wacz"
    assert cli("export", "--wacz", str(wacz), "--article", ARTICLE_URL).exit_code == 0
    entries = _wacz_index(wacz, INTERVIEW_URL)
    at_recheck = [e for e in entries if e["timestamp"] == _stamp(rechecked_at)]
    assert [e.get("mime") for e in at_recheck] == ["warc/revisit"], entries
    assert at_recheck[0].get("status", "-") in ("-", "200"), at_recheck
    assert any(e["timestamp"] == _stamp(original_at) and e.get("status") == "200" for e in entries), entries

    root = tmp_path / "pywb"
    wb_manager = Path(sys.executable).with_name("wb-manager")
    subprocess.run([str(wb_manager), "init", "theirs"], cwd=root.mkdir() or root, check=True, capture_output=True)
    subprocess.run([str(wb_manager), "add", "theirs", *map(str, sorted((archive_dir / "warcs").glob("*.warc.gz")))], cwd=root, check=True, capture_output=True)
    ours = root / "collections" / "ours"
    (ours / "archive").mkdir(parents=True)
    (ours / "indexes").mkdir()
    for warc in (archive_dir / "warcs").glob("*.warc.gz"):
        shutil.copy(warc, ours / "archive" / warc.name)
    assert cli("export", "--cdxj", str(ours / "indexes" / "index.cdxj")).exit_code == 0

    original_body = web_body(web, INTERVIEW_URL)
    import hashlib

    assert hashlib.sha256(original_body).hexdigest() == original_sha == first["sha256"]
    port = free_port()
    proc = start_pywb(root, port)
    try:
        for collection in ("theirs", "ours"):
            replayed = _replay(port, collection, _stamp(rechecked_at), INTERVIEW_URL)
            assert replayed.status_code == 200, (collection, replayed.status_code, replayed.text[:300])
            # The content of the page, not a blank 304, dated at the recheck.
            assert replayed.content == original_body, collection
            assert replayed.headers.get("Memento-Datetime") == _http_date(rechecked_at), collection
            before = _replay(port, collection, _stamp(original_at), INTERVIEW_URL)
            assert before.status_code == 200 and before.content == original_body
            assert before.headers.get("Memento-Datetime") == _http_date(original_at), collection
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wacz_index(path: Path, url: str) -> list[dict]:
    """The WACZ's CDXJ lines for ``url`` (as JSON), read with zipfile alone."""
    import gzip
    import json
    import zipfile

    found = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.startswith("indexes/"):
                continue
            data = zf.read(name)
            if name.endswith(".gz"):
                data = gzip.decompress(data)
            for line in data.decode().splitlines():
                parts = line.split(" ", 2)
                if len(parts) == 3 and parts[2].startswith("{"):
                    entry = json.loads(parts[2])
                    if entry.get("url") == url:
                        found.append({"timestamp": parts[1], **entry})
    return found


def web_body(web, url: str) -> bytes:
    """The page's bytes straight from the sample web (no conditional headers, identity encoding)."""
    session = requests.Session()
    session.trust_env = False
    answer = session.get(url, proxies={"http": web.proxy_url}, headers={"Accept-Encoding": "identity"}, timeout=30)
    assert answer.status_code == 200
    return answer.content


def _http_date(iso: str) -> str:
    from datetime import datetime
    from email.utils import format_datetime

    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return format_datetime(when.replace(microsecond=0), usegmt=True)


def _replaywebpage_dir() -> Path:
    """An unpacked ReplayWeb.page npm package (ui.js, sw.js), named by $ARCHIVER_REPLAYWEBPAGE."""
    import os

    where = os.environ.get("ARCHIVER_REPLAYWEBPAGE")
    if not where or not (Path(where) / "ui.js").is_file() or not (Path(where) / "sw.js").is_file():
        pytest.skip(
            "ReplayWeb.page is an npm package, not a Python one: `npm pack replaywebpage && tar xzf replaywebpage-*.tgz`, "
            "then ARCHIVER_REPLAYWEBPAGE=$PWD/package"
        )
    return Path(where)


@pytest.mark.slow
def test_not_modified_recheck_replays_in_replaywebpage_from_the_wacz(cli, sample_web, archive_dir, tmp_path, chromium):
    import asyncio
    import functools
    import http.server
    import threading

    from archiver.sample import QUOTED_PASSAGE

    package = _replaywebpage_dir()
    web = sample_web
    cli.json("capture", ARTICLE_URL, *fetch_args(web))
    time.sleep(1.1)
    cli.json("recheck", "--all", *fetch_args(web))
    import sqlite3

    with sqlite3.connect(archive_dir / "archive.db") as db:
        rechecked_at, status = db.execute(
            "SELECT c.fetched_at, c.http_status FROM captures c JOIN urls u ON u.id = c.url_id WHERE u.url = ? ORDER BY c.id DESC LIMIT 1",
            (INTERVIEW_URL,),
        ).fetchone()
    assert status == 304
    stamp = _stamp(rechecked_at)

    site = tmp_path / "site"
    (site / "replay").mkdir(parents=True)
    shutil.copy(package / "ui.js", site / "ui.js")
    shutil.copy(package / "sw.js", site / "replay" / "sw.js")
    assert cli("export", "--wacz", str(site / "story.wacz"), "--article", ARTICLE_URL).exit_code == 0
    (site / "index.html").write_text(
        '<!doctype html><html><head><script src="./ui.js"></script></head><body>'
        f'<replay-web-page style="height:800px;display:block" source="/story.wacz" url="{INTERVIEW_URL}" ts="{stamp}" '
        'replayBase="/replay/" embed="replayonly"></replay-web-page></body></html>'
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served: list[tuple[int, str]] = []

    async def run() -> str:
        from playwright.async_api import async_playwright

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium, args=["--disable-gpu", "--no-first-run"])
            try:
                page = await browser.new_page()
                page.on("response", lambda r: served.append((r.status, r.url)) if "/w/" in r.url else None)
                await page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html", wait_until="load", timeout=60_000)
                text, deadline = "", time.monotonic() + 120
                while time.monotonic() < deadline and QUOTED_PASSAGE[:40] not in text:
                    texts = []
                    for frame in page.frames:
                        try:
                            texts.append(await frame.evaluate("() => document.body ? document.body.innerText : ''"))
                        except Exception:  # noqa: BLE001 -- a frame navigating away
                            pass
                    text = "\n".join(texts)
                    await asyncio.sleep(0.5)
                return text
            finally:
                await browser.close()

    try:
        text = asyncio.run(run())
    finally:
        server.shutdown()
    # The page's text, not a blank 304, served for the recheck's own timestamp.
    assert QUOTED_PASSAGE[:40] in " ".join(text.split()), text[:300]
    assert any(code == 200 and f"{stamp}mp_/{INTERVIEW_URL}" in where for code, where in served), served
