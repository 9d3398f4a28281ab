"""Every option of a run and its default, in one place.

The library's defaults are these dataclasses' defaults, and the command line reads its
defaults from them too, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from archiver import USER_AGENT
from archiver.urls import host_of

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


@dataclass
class FetchOptions:
    """How archiver talks to the network (capture and recheck alike)."""

    concurrency: int = 32  # fetches in flight in total (the per-host limit is what keeps a run polite)
    per_host: int = 2  # fetches in flight per host
    delay: float = 0.0  # seconds between requests to one host
    connect_timeout: float = 10.0  # seconds to resolve and connect
    read_timeout: float = 30.0  # seconds of silence tolerated while reading
    total_timeout: float = 120.0  # seconds one fetch may take, redirects and retries included
    max_bytes: int = 256 * MIB  # bodies past this are cut (WARC-Truncated: length)
    max_redirects: int = 10
    retries: int = 2  # on refused/reset connections, 429 and 503
    retry_after_cap: float = 30.0  # longest Retry-After honoured, seconds
    backoff: float = 1.0  # first retry's wait, doubling after
    allow_private: bool = False  # loopback, private, link-local and metadata addresses
    proxy: str | None = None  # None: $HTTP_PROXY / $HTTPS_PROXY, honouring $NO_PROXY
    user_agent: str = USER_AGENT
    verify_tls: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


WARC_SIZE = GIB  # a new WARC file is started past this many bytes (WARC 1.1 Annex C: about 1 GB)
MAX_SOURCES = 1000  # links fetched per article; the rest are recorded as skipped
CONFIRM_FAILURES = 2  # consecutive failed checks before a source counts as gone


@dataclass
class BrowserOptions:
    """How a page is loaded in headless Chromium (``capture --browser``)."""

    executable: str | None = None  # None: chromium on PATH
    viewport_width: int = 1280
    viewport_height: int = 900
    load_timeout: float = 30.0  # seconds for the load event
    idle_time: float = 0.5  # no request in flight this long = network idle
    idle_timeout: float = 15.0  # longest wait for network idle, each time it is awaited
    page_deadline: float = 90.0  # the whole load: navigation, waits, scrolling, screenshot
    scroll_steps: int = 25  # screens scrolled at most, to trigger lazy loading
    max_screenshot_height: int = 16384  # pixels; a taller page is cut there (and says so)
    max_requests: int = 1000  # requests per page; past it they are refused
    max_dom_bytes: int = 32 * MIB  # rendered DOM kept at most
    feed_limit: int = 64 * MIB  # bytes of one body handed to the browser (the WARC keeps all of it)
    media: bool = False  # let audio and video elements load their files (set by --media)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


BROWSER_MODES = ("off", "all", "article", "sources", "auto")
MEDIA_MAX_BYTES = 512 * MIB

# Public services the proofs and memento commands talk to by default. They live here, with the
# other defaults, so that the command line shows them without importing requests or cryptography.
# A FreeTSA-style public TSA is not assumed: DigiCert's answers over plain HTTP (tokens are
# signed, so TLS adds nothing) and chains to a root in the Mozilla bundle archiver trusts by default.
DEFAULT_TSA = "http://timestamp.digicert.com"
DEFAULT_TIMEMAP = "https://web.archive.org/web/timemap/link/"
DEFAULT_TIMEGATE = "https://web.archive.org/web/"
DEFAULT_SAVE_ENDPOINT = "https://web.archive.org/save/"
SUBMIT_DELAY = 10.0  # seconds between two save requests: the Internet Archive throttles faster clients


@dataclass
class CaptureOptions:
    """What one capture run fetches and how."""

    fetch: FetchOptions = field(default_factory=FetchOptions)
    all_links: bool = False  # also fetch the links that are not citations
    requisites: bool = False  # also stylesheets, images, scripts, for faithful replay
    max_sources: int = MAX_SOURCES
    warc_size: int = WARC_SIZE
    # Which pages load in headless Chromium: off, all, article, sources, or auto (a page that
    # looked empty to the plain fetch and loads scripts); pages of browser_hosts always do.
    browser: str = "off"
    browser_hosts: tuple[str, ...] = ()
    browser_options: BrowserOptions = field(default_factory=BrowserOptions)
    # Embedded audio and video, found by yt-dlp, up to media_max_bytes a file.
    media: bool = False
    media_max_bytes: int = MEDIA_MAX_BYTES

    def settings(self) -> dict[str, Any]:
        """The run's settings as recorded in ``runs.args`` and the warcinfo record."""
        settings = {**self.fetch.as_dict(), **_own_fields(self)}
        settings["browser_hosts"] = list(self.browser_hosts)
        browser = settings.pop("browser_options")
        if self.uses_browser:
            settings.update({f"browser_{k}": v for k, v in browser.as_dict().items()})
        return settings

    @property
    def uses_browser(self) -> bool:
        return self.browser != "off" or bool(self.browser_hosts)

    def browser_for(self, url: str, role: str) -> bool:
        """Whether ``url`` (an ``article`` or a ``source``) is loaded in the browser from the start."""
        if self.browser == "all" or (self.browser, role) in (("article", "article"), ("sources", "source")):
            return True
        host = host_of(url)
        return any(host == h or host.endswith("." + h) for h in self.browser_hosts)


NOISE_DELAY = 2.0  # seconds between the two fetches that learn a page's noise


@dataclass
class RecheckOptions:
    """What one recheck run looks at and how it judges."""

    fetch: FetchOptions = field(default_factory=FetchOptions)
    due_only: bool = True  # only URLs whose next check is due (False: everything now)
    article: str | None = None  # only this article (URL or id) and its sources
    confirm: int = CONFIRM_FAILURES
    probe_soft_404: bool = True  # ask the site for a page that cannot exist, to spot soft 404s
    # A page that looks changed is fetched again this many seconds later, and what differs between
    # the two fetches is learned as that page's noise before judging (None: never).
    noise_delay: float | None = NOISE_DELAY
    warc_size: int = WARC_SIZE
    # Pages whose baseline was captured in the browser are rechecked in it, so that their
    # rendered text is compared with rendered text (a plain fetch of a script-built page
    # would look like a change).
    browser: bool = True
    browser_options: BrowserOptions = field(default_factory=BrowserOptions)

    def settings(self) -> dict[str, Any]:
        settings = {**self.fetch.as_dict(), **_own_fields(self)}
        settings.pop("probe_soft_404")  # not part of what makes two rechecks the same work
        settings["browser_options"] = self.browser_options.as_dict()
        return settings


def _own_fields(options: Any) -> dict[str, Any]:
    return {f.name: getattr(options, f.name) for f in fields(options) if f.name != "fetch"}
