"""Pages captured with the browser replay in pywb from the WARC alone, scripts included.

archiver captures the scripted test site, pywb serves the WARC (with the CDXJ index
`archiver export --cdxj` writes, and again with pywb's own indexer), and a separate Chromium,
talking only to pywb, must show the text the page's script inserts.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import jssite
from tests.helpers import BROWSER_FAST, free_port, start_pywb

pytestmark = pytest.mark.slow  # Chromium and pywb: left out of ./scripts/test -m 'not slow'

pytest.importorskip("pywb", reason="pywb is a test dependency (pip install -e '.[test]')")


def replayed_text(chromium: str, url: str) -> str:
    from playwright.async_api import async_playwright

    async def run() -> str:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=chromium,
                args=["--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            )
            try:
                page = await browser.new_page()
                await page.goto(url, wait_until="load", timeout=60_000)
                # pywb shows the page in a frame under its banner; the script fills that frame.
                texts: list[str] = []
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    texts = []
                    for frame in page.frames:
                        try:
                            texts.append(await frame.evaluate("() => document.body ? document.body.innerText : ''"))
                        except Exception:  # noqa: BLE001 -- a frame navigating away
                            pass
                    if any(jssite.INSERTED_SENTENCE in t for t in texts):
                        break
                    await asyncio.sleep(0.2)
                return "\n".join(texts)
            finally:
                await browser.close()

    return asyncio.run(run())


def test_browser_capture_replays_in_pywb_with_its_scripts(cli, server, archive_dir, tmp_path, chromium):
    site = jssite.serve(server)
    article = site.url(jssite.ARTICLE_PATH)
    doc = cli.json("capture", article, "--browser", "--allow-private", *BROWSER_FAST)
    stamp = "".join(c for c in doc["articles"][0]["fetched_at"] if c.isdigit())[:14]
    hits_before = dict(site.hits)

    root = tmp_path / "pywb"
    ours = root / "collections" / "ours"
    (ours / "archive").mkdir(parents=True)
    (ours / "indexes").mkdir()
    for warc in (archive_dir / "warcs").glob("*.warc.gz"):
        shutil.copy(warc, ours / "archive" / warc.name)
    assert cli("export", "--cdxj", str(ours / "indexes" / "index.cdxj")).exit_code == 0
    # The same WARC indexed by pywb itself, which indexes conversion records too.
    wb_manager = Path(sys.executable).with_name("wb-manager")
    subprocess.run([str(wb_manager), "init", "theirs"], cwd=root, check=True, capture_output=True)
    subprocess.run([str(wb_manager), "add", "theirs", *map(str, (archive_dir / "warcs").glob("*.warc.gz"))], cwd=root, check=True, capture_output=True)

    port = free_port()
    proc = start_pywb(root, port)
    try:
        for collection in ("ours", "theirs"):
            text = replayed_text(chromium, f"http://127.0.0.1:{port}/{collection}/{stamp}/{article}")
            assert jssite.INSERTED_SENTENCE in text, (collection, text[:500])
            assert "consultation report" in text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    # Everything came from the WARC: the live site saw no request during replay.
    assert site.hits == hits_before
