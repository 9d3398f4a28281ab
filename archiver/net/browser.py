"""Loading a page in headless Chromium, with every request it makes fetched by archiver's Fetcher.

The browser never touches the network. Every request it makes, navigations, sub-resources,
frames, workers and redirect hops alike, is paused through the DevTools protocol (the Fetch
domain, on the browser target, so that out-of-process frames and workers are covered too)
and fulfilled from :class:`archiver.net.fetch.Fetcher`: the private-address guard, deadlines,
size caps, proxy and politeness that hold for a plain capture hold for each sub-request.
Anything the interception could miss (a WebSocket, a preconnect) goes to a proxy address
that refuses every connection, so it fails instead of reaching the network.

Playwright for Python drives the system's Chromium (``executable_path``); nothing is ever
downloaded at run time. The caller decides what becomes of each fetch through a
:class:`LoadHandler`: it records the exchange (WARC first, then rows) and may serve a
repeated URL from a record it already wrote.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import os
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, UTC
from typing import Any, Protocol
from urllib.parse import urlsplit

from archiver.net.fetch import Exchange, FetchResult, Fetcher
from archiver.errors import BrowserFailed, BrowserMissing, UsageError
from archiver.options import BROWSER_MODES, BrowserOptions, CaptureOptions
from archiver.urls import InvalidURL, normalise_url

BROWSER_NAMES = ("chromium", "chromium-browser")
# Request headers the Fetcher sets itself, or that make no sense for a fetch that reads the whole body.
_DROPPED_REQUEST_HEADERS = {
    "host", "connection", "content-length", "accept-encoding", "user-agent", "range", "te", "upgrade",
    "keep-alive", "transfer-encoding", "proxy-connection", "proxy-authorization", "if-none-match",
    "if-modified-since", "if-match", "if-unmodified-since", "if-range", "cookie",
}
# Response headers that describe the stored bytes, not the decoded body the browser is given.
_DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive"}
_FAIL_REASONS = {
    "dns": "NameNotResolved",
    "refused": "ConnectionRefused",
    "timeout": "TimedOut",
    "blocked_private": "AddressUnreachable",
    "tls": "Failed",
    "connection": "ConnectionReset",
    "too_many_redirects": "Failed",
}


def find_browser(path: str | None = None) -> str:
    """The Chromium executable: ``path`` (a file or a command name), else chromium on PATH."""
    if path:
        found = shutil.which(path) if os.sep not in path else (path if os.access(path, os.X_OK) else None)
        if not found:
            raise BrowserMissing(f"--browser-path {path}: no executable there")
        return os.path.abspath(found)
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "browser capture needs Chromium and none is on PATH: install Debian's package (apt-get install chromium) "
        "or give --browser-path"
    )


def prepare_browser(options: CaptureOptions) -> None:
    """Check what ``options`` needs before a run starts: Chromium (its path is filled in),
    Playwright, and yt-dlp for media. Raises :class:`BrowserMissing` or UsageError saying what to install."""
    if options.browser not in BROWSER_MODES:
        raise UsageError(f"browser mode {options.browser!r}: give one of {', '.join(BROWSER_MODES)}")
    for wanted, module, what in ((options.uses_browser, "playwright", "browser capture"), (options.media, "yt_dlp", "--media")):
        if wanted and importlib.util.find_spec(module) is None:
            raise UsageError(f"{what} needs {module.replace('_', '-')}: pip install 'provenance-archiver[browser]'")
    if options.uses_browser:
        options.browser_options.executable = find_browser(options.browser_options.executable)


@dataclass
class BrowserRequest:
    """One request the browser made, as it asked for it."""

    url: str
    method: str
    headers: dict[str, str]
    body: bytes | None
    resource_type: str
    navigation: bool = False


@dataclass
class Served:
    """A response as the browser is given it: decoded body, headers as the server sent them."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class RequestLog:
    """What became of one request: ``outcome`` is fetched, reused, refused or failed."""

    url: str
    method: str
    resource_type: str
    outcome: str
    reason: str | None = None
    status: int | None = None
    ref: Any = None  # what the handler returned for it (a captures row id)


@dataclass
class PageLoad:
    """One page as the browser rendered it."""

    url: str
    started_at: datetime
    finished_at: datetime | None = None
    browser: str = ""
    user_agent: str = ""
    final_url: str | None = None
    title: str | None = None
    document: FetchResult | None = None  # the navigation's fetch, every hop (recorded by the caller)
    screenshot: bytes | None = None
    screenshot_size: tuple[int, int] | None = None
    page_height: int | None = None
    screenshot_cut: bool = False
    dom: bytes | None = None
    dom_cut: bool = False
    network_idle: bool = False
    scrolled: int = 0
    requests: list[RequestLog] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.requests if r.outcome == outcome)

    def close(self) -> None:
        if self.document is not None:
            self.document.close()


class LoadHandler(Protocol):
    """What the caller does with a page's requests; both are called on the loading thread."""

    def reuse(self, request: BrowserRequest) -> tuple[Served, Any] | None:
        """A response already recorded for this request (and its ref), or None to fetch it."""

    def record(self, request: BrowserRequest, result: FetchResult) -> Any:
        """Record a finished fetch (WARC records, then rows); returns a ref for the request log."""


def served_from_exchange(exchange: Exchange, limit: int) -> Served:
    """The browser gets the decoded body: Content-Encoding goes when archiver undid it."""
    decoded_differs = exchange.decoded is not None and exchange.decoded is not exchange.body
    headers = []
    for name, value in exchange.headers:
        lower = name.lower()
        if lower in _DROPPED_RESPONSE_HEADERS or (lower == "content-encoding" and decoded_differs):
            continue
        headers.append((name, value))
    body = b""
    if exchange.decoded is not None:
        exchange.decoded.seek(0)
        body = exchange.decoded.read(limit)
    return Served(exchange.status or 502, exchange.reason, headers, body)


class _Refusal:
    """A dead-end proxy address: a bound socket that never listens, so every connection is refused."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


class Browser:
    """One headless Chromium for a run; :meth:`load` renders one page at a time."""

    def __init__(self, fetcher: Fetcher, options: BrowserOptions | None = None, user_agent: str | None = None) -> None:
        self.fetcher = fetcher
        self.options = options or BrowserOptions()
        self.executable = find_browser(self.options.executable)
        self.user_agent = user_agent or fetcher.options.user_agent
        self._loop = asyncio.new_event_loop()
        self._pool = ThreadPoolExecutor(max_workers=max(2, fetcher.options.concurrency), thread_name_prefix="browser-fetch")
        self._refusal = _Refusal()
        self._playwright: Any = None  # Playwright objects, imported only when a browser starts
        self._browser: Any = None
        self._cdp: Any = None
        self._load: _Load | None = None
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:
            self.close()
            if isinstance(exc, (BrowserMissing, KeyboardInterrupt)):
                raise
            raise BrowserFailed(f"cannot start {self.executable}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc

    @property
    def connected(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    @property
    def version(self) -> str:
        return f"Chromium/{self._browser.version}" if self._browser is not None else "Chromium"

    async def _start(self) -> None:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=self.executable,
            headless=True,
            args=[
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--mute-audio",
                # Whatever escapes the interception goes nowhere (see the module docstring).
                f"--proxy-server=http://{self._refusal.address}",
                "--proxy-bypass-list=<-loopback>",
            ],
        )
        self._cdp = await self._browser.new_browser_cdp_session()
        self._cdp.on("Fetch.requestPaused", self._paused)
        await self._cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})

    def close(self) -> None:
        async def stop() -> None:
            if self._browser is not None:
                try:
                    await self._browser.close()
                except Exception:  # noqa: BLE001 -- a browser that died is closed all the same
                    pass
            if self._playwright is not None:
                await self._playwright.stop()

        if not self._loop.is_closed():
            try:
                self._loop.run_until_complete(stop())
            finally:
                self._loop.close()
        self._browser = self._playwright = None
        self._pool.shutdown(wait=True)
        self._refusal.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one page --------------------------------------------------------------------------

    def load(self, url: str, handler: LoadHandler) -> PageLoad:
        """Render ``url``: wait for the network to go idle, scroll, take the screenshot and the DOM.

        Never raises for trouble with the page; it is in ``PageLoad.error``. Every fetch the
        page started is finished and handed to ``handler.record`` before this returns.
        """
        load = _Load(self, url, handler)
        self._load = load
        try:
            self._loop.run_until_complete(load.run())
        finally:
            self._load = None
        return load.page

    def _paused(self, event: dict) -> None:
        load = self._load
        request_id = event["requestId"]
        if load is None:
            # Nothing is being captured: nobody asked for this request.
            self._loop.create_task(self._send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"}))
            return
        load.start(event)

    async def _send(self, method: str, params: dict) -> None:
        try:
            await self._cdp.send(method, params)
        except Exception:  # noqa: BLE001 -- the page or request is gone already: nothing to answer
            pass


class _Load:
    """The state of one page load (lives on the browser's event loop)."""

    def __init__(self, browser: Browser, url: str, handler: LoadHandler) -> None:
        self.browser = browser
        self.options = browser.options
        self.handler = handler
        self.page = PageLoad(url=url, started_at=datetime.now(UTC), browser=browser.version, user_agent=browser.user_agent)
        self.deadline = time.monotonic() + self.options.page_deadline
        self.in_flight = 0
        self.quiet_since = time.monotonic()
        self.tasks: set[asyncio.Task] = set()
        # Redirect hops a fetch already followed, served when the browser follows them in turn.
        self.held: dict[str, tuple[Exchange, Any]] = {}
        self.results: list[FetchResult] = []
        self.document_pending = True

    # -- requests ----------------------------------------------------------------------------

    def start(self, event: dict) -> None:
        self.in_flight += 1
        task = asyncio.get_event_loop().create_task(self._answer(event))
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        self.in_flight -= 1
        self.quiet_since = time.monotonic()

    async def _answer(self, event: dict) -> None:
        raw = event["request"]
        request_id = event["requestId"]
        resource_type = event.get("resourceType") or "Other"
        body = _post_body(raw)
        request = BrowserRequest(
            url=raw["url"].split("#", 1)[0],
            method=raw.get("method", "GET").upper(),
            headers={k: v for k, v in (raw.get("headers") or {}).items() if k.lower() not in _DROPPED_REQUEST_HEADERS},
            body=body,
            resource_type=resource_type,
            navigation=resource_type == "Document" and self.document_pending,
        )
        log = RequestLog(request.url, request.method, resource_type, "failed")
        self.page.requests.append(log)
        try:
            served = await self._serve(request, log)
        except Exception as exc:  # noqa: BLE001 -- one request must not end the page
            log.outcome, log.reason = "failed", f"archiver failed on this request: {type(exc).__name__}: {exc}"
            served = None
        if served is None:
            await self.browser._send("Fetch.failRequest", {"requestId": request_id, "errorReason": _fail_reason(log)})
            return
        log.status = served.status
        await self.browser._send(
            "Fetch.fulfillRequest",
            {
                "requestId": request_id,
                "responseCode": served.status,
                "responsePhrase": served.reason or "OK",
                "responseHeaders": [{"name": n, "value": v} for n, v in served.headers],
                "body": base64.b64encode(served.body).decode("ascii"),
            },
        )

    async def _serve(self, request: BrowserRequest, log: RequestLog) -> Served | None:
        scheme = urlsplit(request.url).scheme.lower()
        if scheme not in ("http", "https"):
            log.outcome, log.reason = "refused", f"{scheme}: URLs are not fetched"
            return None
        if len(self.page.requests) > self.options.max_requests:
            log.outcome, log.reason = "refused", f"more than {self.options.max_requests} requests on one page"
            return None
        if request.resource_type == "Media" and not self.options.media:
            log.outcome, log.reason = "refused", "audio or video file: not fetched without --media"
            return None
        held = self.held.pop(url_key(request.url), None) if request.method in ("GET", "HEAD") else None
        if held is not None:
            # The browser follows a redirect the fetch had already followed: same bytes, no new request.
            exchange, log.ref = held
            log.outcome, log.reason = "fetched", "redirect hop of an earlier request"
            return served_from_exchange(exchange, self.options.feed_limit)
        navigation = request.navigation
        if navigation:
            self.document_pending = False
        elif request.method == "GET":
            reused = self.handler.reuse(request)
            if reused is not None:
                served, ref = reused
                log.outcome, log.ref = "reused", ref
                return served
        result = await asyncio.get_event_loop().run_in_executor(
            self.browser._pool, self.browser.fetcher.fetch, url_key(request.url), request.headers, request.method, request.body
        )
        if navigation:
            # The document's row waits for the rendered DOM (its text comes from it); the
            # caller records it after the load, with everything else the page did.
            self.page.document = result
        else:
            self.results.append(result)
            try:
                log.ref = self.handler.record(request, result)
            except BaseException:
                result.close()
                raise
        log.outcome = "fetched"
        first = result.exchanges[0] if result.exchanges else None
        if first is None or first.status is None:
            log.outcome = "failed"
            log.reason = f"{result.error.code}: {result.error.message}" if result.error else "no answer"
            return None
        if result.error is not None:
            log.reason = f"{result.error.code}: {result.error.message}"
        for exchange in result.exchanges[1:]:
            self.held[url_key(exchange.url)] = (exchange, log.ref)
        return served_from_exchange(first, self.options.feed_limit)

    # -- the page ------------------------------------------------------------------------------

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    async def wait_idle(self, quiet: float | None = None, limit: float | None = None) -> bool:
        """Until nothing has been in flight for ``quiet`` seconds; False at the deadline."""
        quiet = self.options.idle_time if quiet is None else quiet
        until = time.monotonic() + min(self.options.idle_timeout if limit is None else limit, max(0.0, self.remaining()))
        while True:
            now = time.monotonic()
            if self.in_flight == 0 and now - self.quiet_since >= quiet:
                return True
            if now >= until:
                return False
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        page = self.page
        context = None
        try:
            context = await self.browser._browser.new_context(
                viewport={"width": self.options.viewport_width, "height": self.options.viewport_height},
                user_agent=self.browser.user_agent,
                service_workers="block",
                accept_downloads=False,
            )
            tab = await context.new_page()
            await self._render(tab)
        except Exception as exc:  # noqa: BLE001 -- a crashed tab or browser: keep what was had
            page.error = page.error or f"browser: {_first_line(exc)}"
        finally:
            if context is not None:
                try:
                    await asyncio.wait_for(context.close(), timeout=10)
                except Exception:  # noqa: BLE001
                    pass
            # Every fetch the page started is recorded before the load counts as done.
            if self.tasks:
                await asyncio.gather(*list(self.tasks), return_exceptions=True)
            for result in self.results:
                result.close()
            page.finished_at = datetime.now(UTC)

    async def _render(self, tab) -> None:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        page = self.page
        try:
            response = await tab.goto(page.url, wait_until="load", timeout=1000 * min(self.options.load_timeout, max(1.0, self.remaining())))
        except PlaywrightTimeout:
            page.notes.append(f"the load event did not come within {self.options.load_timeout:g} s: captured as it was")
            response = True
        except Exception as exc:  # noqa: BLE001
            if page.document is None or page.document.final is None or page.document.final.status is None:
                error = page.document.error if page.document is not None else None
                page.error = f"{error.code}: {error.message}" if error else f"navigation failed: {_first_line(exc)}"
                return
            page.notes.append(f"navigation: {_first_line(exc)}")
            response = None
        if response is None and page.document is None:
            page.error = "navigation failed: no document was loaded"
            return
        page.network_idle = await self.wait_idle()
        page.scrolled = await self._scroll(tab)
        if not await self.wait_idle():
            page.network_idle = False
        if not page.network_idle:
            page.notes.append(f"the network did not go quiet for {self.options.idle_time:g} s within the wait: captured as it was")
        page.final_url = tab.url
        page.title = await tab.title()
        await self._snapshot(tab)

    async def _scroll(self, tab) -> int:
        """Scroll a screen at a time to the bottom, so lazy images and endless lists load; then back up."""
        steps = 0
        for _ in range(self.options.scroll_steps):
            if self.remaining() <= 2:
                break
            at_bottom = await tab.evaluate(
                "() => { window.scrollBy(0, window.innerHeight);"
                " const root = document.scrollingElement || document.documentElement;"
                " return window.scrollY + window.innerHeight >= root.scrollHeight - 2; }"
            )
            steps += 1
            # Observers fire after the scroll; the fetches they start count as activity.
            await asyncio.sleep(0.1)
            await self.wait_idle(quiet=0.2, limit=min(5.0, self.options.idle_timeout))
            if at_bottom:
                break
        await tab.evaluate("() => window.scrollTo(0, 0)")
        return steps

    async def _snapshot(self, tab) -> None:
        page = self.page
        height = await tab.evaluate(
            "() => Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"
        )
        page.page_height = int(height or self.options.viewport_height)
        shot_height = max(1, min(page.page_height, self.options.max_screenshot_height))
        page.screenshot_cut = page.page_height > shot_height
        page.screenshot = await tab.screenshot(
            type="png",
            full_page=True,
            clip={"x": 0, "y": 0, "width": self.options.viewport_width, "height": shot_height},
            timeout=1000 * max(5.0, min(60.0, self.remaining() + 10)),
        )
        page.screenshot_size = (self.options.viewport_width, shot_height)
        dom = (await tab.content()).encode("utf-8")
        page.dom_cut = len(dom) > self.options.max_dom_bytes
        page.dom = dom[: self.options.max_dom_bytes]


def url_key(url: str) -> str:
    """The normalised URL a browser request is fetched, recorded and looked up under."""
    try:
        return normalise_url(url)
    except InvalidURL:
        return url


def _post_body(raw: dict) -> bytes | None:
    entries = raw.get("postDataEntries")
    if entries:
        return b"".join(base64.b64decode(e.get("bytes", "")) for e in entries)
    if raw.get("postData") is not None:
        return raw["postData"].encode("utf-8")
    return None


def _fail_reason(log: RequestLog) -> str:
    if log.outcome == "refused":
        return "BlockedByClient"
    code = (log.reason or "").split(":", 1)[0]
    return _FAIL_REASONS.get(code, "Failed")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
