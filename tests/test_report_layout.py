"""The HTML report read on a phone (390 px) and a desktop (1280 px), in headless Chromium.

Nothing may run past the screen (long URLs, hashes, diffs), the diff is open, each change has
one word count, dates read as "2 Dec 2026, 10:20 UTC", and under --replay-base every captured
source has a link to its archived copy that a finger can reach.
"""

from __future__ import annotations

import re
import struct

import pytest

from archiver.sample import ARTICLE_URL, SampleWeb
from tests.conftest import Cli, chromium_or_skip

FAST = ["--timeout", "2", "--deadline", "3", "--retries", "0"]
REPLAY = "http://replay.example:8080/my-collection/"
LONG_URL = "http://blog.example/2026/11/" + "averylongaddresswithoutanyplacetobreakit_" * 6 + "end.html?utm_source=" + "x" * 80
WIDTHS = (390, 1280)
HUMAN_DATE = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$")


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, str]:
    """The sample article after two rechecks, and a local draft citing one very long URL, as HTML reports."""
    chromium_or_skip()
    root = tmp_path_factory.mktemp("layout")
    draft = root / "draft.md"
    draft.write_text(f"# A draft\n\nThe council's notice is [{LONG_URL}]({LONG_URL}), and it is long.\n", encoding="utf-8")
    cli = Cli(root / "archive")
    with SampleWeb(hang_seconds=0.5) as web:
        captured = cli.json("capture", web.article_url, str(draft), "--proxy", web.proxy_url, *FAST)
        for version in (2, 3):
            web.version = version
            assert cli("recheck", "--all", "--proxy", web.proxy_url, *FAST).exit_code == 0
    out = {}
    draft_id = str(captured["articles"][1]["article_id"])
    for name, article in (("sample", ARTICLE_URL), ("long", draft_id)):
        result = cli("report", article, "--format", "html", "--replay-base", REPLAY)
        assert result.exit_code == 0, result.output
        out[name] = result.stdout
    assert LONG_URL in out["long"]
    return out


OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    // Inside a container that scrolls on purpose (a tall screenshot), the container is what counts.
    let scroller = el.parentElement, skip = false;
    while (scroller && scroller !== document.body) {
      const o = getComputedStyle(scroller).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') { skip = true; break; }
      scroller = scroller.parentElement;
    }
    if (skip) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 0.5) bad.push(el.tagName + ' ' + (el.textContent || '').slice(0, 60) + ' right=' + r.right);
    // A long word can run out of a box that itself fits: measure the text, not only the boxes.
    for (const node of el.childNodes) {
      if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const t = range.getBoundingClientRect();
      if (t.width && t.right > width + 0.5) bad.push('text in ' + el.tagName + ' ' + node.textContent.slice(0, 60) + ' right=' + t.right);
    }
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, bad};
}"""


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def browser(reports):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_or_skip(), headless=True, args=["--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["sample", "long"])
def test_report_fits_the_screen_and_links_to_archived_copies(reports, browser, name, width, tmp_path):
    path = tmp_path / f"{name}.html"
    path.write_text(reports[name], encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 800}, device_scale_factor=1)
    try:
        page.goto(path.as_uri())
        found = page.evaluate(OVERFLOW_JS)
        assert found["bad"] == [], found["bad"][:5]
        assert found["scrollWidth"] <= found["width"], found
        # The screenshot of the whole page is exactly as wide as the screen: nothing sticks out.
        shot = page.screenshot(full_page=True, path=str(tmp_path / f"{name}-{width}.png"))
        assert png_size(shot)[0] == width

        # Every date a person reads is "2 Dec 2026, 10:20 UTC", with the exact time kept in datetime=.
        times = page.eval_on_selector_all("time", "els => els.map(e => [e.textContent, e.getAttribute('datetime')])")
        assert times and all(HUMAN_DATE.match(text) and iso.endswith("Z") for text, iso in times), times[:3]

        # Each captured source has a clickable link to its archived copy, on screen.
        links = page.locator("a.replay")
        hrefs = links.evaluate_all("els => els.map(e => e.href)")
        assert hrefs and all(h.startswith(REPLAY) for h in hrefs)
        box = links.first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 10

        if name == "sample":
            # The article's own archived copy, and one per captured citation.
            assert len(hrefs) == 1 + page.locator("section.cite").count()
            # Diffs are open, visible and inside the screen.
            diffs = page.locator("details .diff")
            assert diffs.count() >= 2
            for i in range(diffs.count()):
                assert diffs.nth(i).is_visible()
                box = diffs.nth(i).bounding_box()
                assert box["x"] + box["width"] <= width
            # One word count per change: the timeline's; the diff's header repeats none.
            text = page.inner_text("body")
            assert not re.search(r"[+]\d+ [−-]\d+", text)
            # Each count stands in a list of events (a source's timeline, the ranking of all changes).
            counted_events = page.locator("ol.timeline li", has_text="words added").count()
            assert text.count("words added") == counted_events >= 2
    finally:
        page.close()


def test_pdf_diff_reads_as_sentences(reports):
    # The PDF's printed lines are run together: a sentence cut by the page layout is whole in the diff.
    html = reports["sample"]
    assert "Ansel Crossing: traffic at the Corrowick and East Tully ferries" in html
    assert "Tully\nferries" not in html
