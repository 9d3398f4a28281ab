"""Browser capture within a run: each page load recorded through the run's Recorder.

    pages = BrowserPages(archive, recorder, run_id, fetcher, options)
    page = pages.capture(url_id, url)     # document, sub-requests, screenshot, DOM: WARC, then rows

Every request the page makes is a fetch of archiver's own Fetcher, recorded as it finishes
(request and response records, then its captures row); a URL the run already recorded for
the browser is served from its record instead of being fetched again. The document itself
is recorded once the page has rendered, with the text of the rendered DOM, followed by the
records made from the load: the screenshot (``resource``), the rendered DOM (``conversion``)
and a ``metadata`` record describing the load. docs/warc.md shows the layout.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from archiver.analyze.text import Extracted, sniff_kind
from archiver.clock import iso_utc, utc_now
from archiver.errors import BrowserFailed, BrowserMissing
from archiver.net.browser import Browser, BrowserOptions, BrowserRequest, PageLoad, Served, url_key
from archiver.net.fetch import FetchError, FetchResult, Fetcher
from archiver.runs.directory import ArchiveDir
from archiver.analyze.answers import usable_answer
from archiver.analyze.text import EXTRACT_LIMIT, extract_exchange, safe_extract
from archiver.runs.recorder import Captured, Recorder
from archiver.warc.records import write_derived, write_metadata
from archiver.warc.reader import open_record
from archiver.warc.writer import WrittenRecord

# A page whose main text is shorter than this, and which loads scripts, "looked empty".
EMPTY_WORDS = 80
_SCRIPT = re.compile(rb"<script\b", re.I)
HTML_TYPE = "text/html; charset=utf-8"


def looks_empty(data: bytes, content_type: str | None, extracted: Extracted | None) -> str | None:
    """Why a plain fetch of an HTML page probably missed what scripts put there, or None.

    Little main text and at least one script: the text is most likely inserted by JavaScript.
    """
    if not data or sniff_kind(data, content_type) != "html":
        return None
    scripts = len(_SCRIPT.findall(data[:EXTRACT_LIMIT]))
    words = len((extracted.text or "").split()) if extracted is not None and extracted.text else 0
    if scripts and words < EMPTY_WORDS:
        return f"the page looked empty ({_count(words, 'word')} of main text) and loads {_count(scripts, 'script')}"
    return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@dataclass
class BrowsedPage:
    """A page captured with the browser: its document's capture and what to find links in."""

    @property
    def row(self) -> dict[str, Any]:
        return self.captured.row


    captured: Captured
    data: bytes  # the rendered DOM (HTML), or the document's body when it is not HTML
    content_type: str | None
    load: dict[str, Any]  # the browser_loads row
    attachments: list[dict[str, Any]]


class BrowserPages:
    """Loads pages in one Chromium (started on first use) and records everything they did."""

    def __init__(self, archive: ArchiveDir, recorder: Recorder, run_id: int, fetcher: Fetcher, options: BrowserOptions) -> None:
        self.archive = archive
        self.recorder = recorder
        self.store = archive.store
        self.run_id = run_id
        self.fetcher = fetcher
        self.options = options
        self.browser: Browser | None = None
        # URL -> (warc_file, offset, captures id) of responses recorded for the browser in this run.
        self._recorded: dict[str, tuple[str, int, int]] = {}

    def close(self) -> None:
        if self.browser is not None:
            browser, self.browser = self.browser, None
            browser.close()

    # -- LoadHandler: what becomes of each request ----------------------------------------

    def reuse(self, request: BrowserRequest) -> tuple[Served, Any] | None:
        found = self._recorded.get(url_key(request.url))
        if found is None:
            return None
        warc_file, offset, capture_id = found
        with open_record(self.archive.path, warc_file, offset) as record:
            http = record.http_headers
            # content_stream() undoes the Content-Encoding: the header goes with it.
            headers = [(n, v) for n, v in http.headers if n.lower() not in ("content-encoding", "content-length")]
            body = record.content_stream().read(self.options.feed_limit)
            status, _, reason = http.statusline.partition(" ")
        return Served(int(status), reason, headers, body), capture_id

    def record(self, request: BrowserRequest, result: FetchResult) -> int:
        row = self.recorder.record_fetch(self.store.url_id(result.requested_url), result, extract=None).row
        self._remember(result, row)
        return row["id"]

    def _remember(self, result: FetchResult, row: dict[str, Any]) -> None:
        if len(result.exchanges) == 1 and row.get("warc_file") and row.get("record_type") == "response" and not row.get("truncated"):
            self._recorded[url_key(result.requested_url)] = (row["warc_file"], row["warc_offset"], row["id"])

    # -- one page ------------------------------------------------------------------------------

    def capture(self, url_id: int, url: str) -> BrowsedPage:
        """Load ``url`` and record all of it; without a usable browser, fetch it plainly (and say so)."""
        if self.browser is not None and not self.browser.connected:
            self.close()  # it crashed on an earlier page: a new one for this page
        if self.browser is None:
            try:
                self.browser = Browser(self.fetcher, self.options)
            except (BrowserFailed, BrowserMissing) as exc:
                # No page can stop a run, not even with no browser: this one is fetched plainly.
                return self._plain(url_id, url, str(exc))
        page = self.browser.load(url, self)
        try:
            return self._record_page(url_id, url, page)
        finally:
            page.close()

    def _plain(self, url_id: int, url: str, why: str) -> BrowsedPage:
        result = self.fetcher.fetch(url)
        try:
            captured = self.recorder.record_fetch(url_id, result)
            row = captured.row
            data = body_of(result)
        finally:
            result.close()
        now = iso_utc()
        load = {"capture_id": row["id"], "url_id": url_id, "run_id": self.run_id, "started_at": now, "finished_at": now,
                "browser": "Chromium", "network_idle": 0, "requests": 0, "fetched": 0, "reused": 0, "refused": 0, "failed": 0,
                "error": f"{why}: captured without the browser"}
        load["id"] = self.store.add_browser_load(load)
        return BrowsedPage(captured, data, row.get("content_type"), load, [])

    def _record_page(self, url_id: int, url: str, page: PageLoad) -> BrowsedPage:
        document = page.document
        if document is None:
            document = FetchResult(requested_url=url, error=FetchError("browser", page.error or "the browser loaded no document"))
        final = document.final
        content_type = final.content_type if final is not None and final.status else None
        rendered = (
            page.dom is not None
            and final is not None
            and usable_answer(final.status, None)
            and sniff_kind(page.dom, HTML_TYPE) == "html"
            and (content_type is None or "html" in content_type.lower())
        )
        # The page's text is the rendered DOM's, not the document's as served.
        extracted = safe_extract(page.dom, HTML_TYPE, page.final_url or url) if rendered and page.dom is not None else None
        captured = self.recorder.record_fetch(url_id, document, extract=(lambda _answer: extracted) if rendered else extract_exchange)
        row = captured.row
        self._remember(document, row)
        data = page.dom if rendered and page.dom is not None else body_of(document)

        attachments = self._write_attachments(page, row) if row.get("warc_file") else []
        load = {
            "capture_id": row["id"],
            "url_id": url_id,
            "run_id": self.run_id,
            "started_at": iso_utc(page.started_at),
            "finished_at": iso_utc(page.finished_at or utc_now()),
            "browser": page.browser,
            "user_agent": page.user_agent,
            "final_url": page.final_url,
            "title": page.title,
            "network_idle": int(page.network_idle),
            "scrolled": page.scrolled,
            "page_height": page.page_height,
            "requests": len(page.requests),
            "fetched": page.count("fetched"),
            "reused": page.count("reused"),
            "refused": page.count("refused"),
            "failed": page.count("failed"),
            "error": page.error,
            "notes": json.dumps(page.notes) if page.notes else None,
        }
        navigation_ref = row["id"]
        requests = [
            {
                "position": position,
                "url": request.url[:8192],
                "method": request.method,
                "resource_type": request.resource_type,
                "outcome": request.outcome,
                "http_status": request.status,
                # The document's request is recorded with the page, after the load.
                "capture_id": request.ref if request.ref is not None else (navigation_ref if position == 0 else None),
                "reason": request.reason,
            }
            for position, request in enumerate(page.requests)
        ]
        load["id"] = self.store.add_browser_load(load, requests, attachments)
        return BrowsedPage(captured, data, "text/html" if rendered else content_type, load, attachments)

    def _write_attachments(self, page: PageLoad, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Screenshot, rendered DOM and the load's metadata, tied to the document's response record."""
        writer = self.recorder.writer
        page_url = row["final_url"] or row["requested_url"]
        record_id = row["warc_record_id"]
        when = page.finished_at or utc_now()
        refers = [("WARC-Refers-To", record_id), ("WARC-Refers-To-Target-URI", page_url), ("WARC-Refers-To-Date", row["fetched_at"])]
        written: list[tuple[str, str, str, str, bytes | None, WrittenRecord, str | None, dict]] = []
        if page.screenshot:
            width, height = page.screenshot_size or (None, None)
            detail = {"width": width, "height": height, "page_height": page.page_height, "cut": page.screenshot_cut}
            record = write_derived(
                writer, "resource", f"urn:screenshot:{page_url}", io.BytesIO(page.screenshot), "image/png", when,
                hashlib.sha256(page.screenshot).hexdigest(), [("WARC-Concurrent-To", record_id)],
            )
            written.append(("screenshot", f"urn:screenshot:{page_url}", "resource", "image/png", page.screenshot, record, None, detail))
        if page.dom is not None:
            # Not under the page's own URI: pywb's indexer would then replay the DOM instead of the page.
            record = write_derived(
                writer, "conversion", f"urn:dom:{page_url}", io.BytesIO(page.dom), HTML_TYPE, when,
                hashlib.sha256(page.dom).hexdigest(), refers, truncated="length" if page.dom_cut else None,
            )
            written.append(("dom", f"urn:dom:{page_url}", "conversion", HTML_TYPE, page.dom, record, "length" if page.dom_cut else None, {"cut": page.dom_cut}))
        fields = _load_fields(page)
        record = write_metadata(writer, page_url, fields, when, refers)
        written.append(("browser_log", page_url, "metadata", "application/warc-fields", None, record, None, {}))
        writer.flush()
        rows = []
        for kind, uri, record_type, content_type, content, record, truncated, detail in written:
            rows.append(
                {
                    "capture_id": row["id"],
                    "run_id": self.run_id,
                    "kind": kind,
                    "uri": uri,
                    "created_at": record.date,
                    "content_type": content_type,
                    "content_length": len(content) if content is not None else None,
                    "sha256": hashlib.sha256(content).hexdigest() if content is not None else None,
                    "record_type": record_type,
                    "warc_file": record.warc_file,
                    "warc_offset": record.offset,
                    "warc_length": record.length,
                    "warc_record_id": record.record_id,
                    "truncated": truncated,
                    "detail": json.dumps(detail) if detail else None,
                }
            )
        return rows


def _load_fields(page: PageLoad) -> list[tuple[str, str]]:
    """The load described in warc-fields: what a reader needs to judge the screenshot and DOM."""
    fields = [
        ("browser", page.browser),
        ("user-agent", page.user_agent),
        ("started", iso_utc(page.started_at)),
        ("finished", iso_utc(page.finished_at or utc_now())),
        ("document-url", page.final_url or page.url),
        ("network-idle", "yes" if page.network_idle else "no"),
        ("scrolled-screens", str(page.scrolled)),
        ("page-height", str(page.page_height or "")),
        ("screenshot-cut", "yes" if page.screenshot_cut else "no"),
        ("requests", str(len(page.requests))),
        ("fetched", str(page.count("fetched"))),
        ("reused", str(page.count("reused"))),
        ("refused", str(page.count("refused"))),
        ("failed", str(page.count("failed"))),
    ]
    if page.error:
        fields.append(("error", page.error))
    fields += [("note", note) for note in page.notes]
    for request in page.requests:
        if request.outcome in ("refused", "failed"):
            fields.append((request.outcome, f"{request.method} {request.url} ({request.reason or 'no reason given'})"))
    return fields


def body_of(result: FetchResult) -> bytes:
    """The start of a fetch's decoded body when it is a usable (2xx) answer, else nothing."""
    final = result.final
    if final is None or final.decoded is None or not usable_answer(final.status, None):
        return b""
    final.decoded.seek(0)
    return final.decoded.read(EXTRACT_LIMIT)

