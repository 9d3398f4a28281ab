"""Every option of a run and its default, in one place.

The library's defaults are these dataclasses' defaults, and the command line reads its
defaults from them too, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from archiver import USER_AGENT

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


@dataclass
class FetchOptions:
    """How archiver talks to the network (capture and recheck alike)."""

    concurrency: int = 8  # fetches in flight in total
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


WARC_SIZE = 1_000_000_000  # a new WARC file is started past this many bytes (WARC 1.1 Annex C: about 1 GB)
MAX_SOURCES = 1000  # links fetched per article; the rest are recorded as skipped
CONFIRM_FAILURES = 2  # consecutive failed checks before a source counts as gone


@dataclass
class CaptureOptions:
    """What one capture run fetches and how."""

    fetch: FetchOptions = field(default_factory=FetchOptions)
    all_links: bool = False  # also fetch the links that are not citations
    requisites: bool = False  # also stylesheets, images, scripts, for faithful replay
    max_sources: int = MAX_SOURCES
    warc_size: int = WARC_SIZE

    def settings(self) -> dict[str, Any]:
        """The run's settings as recorded in ``runs.args`` and the warcinfo record."""
        return {**self.fetch.as_dict(), **_own_fields(self)}


@dataclass
class RecheckOptions:
    """What one recheck run looks at and how it judges."""

    fetch: FetchOptions = field(default_factory=FetchOptions)
    due_only: bool = True  # only URLs whose next check is due (False: everything now)
    article: str | None = None  # only this article (URL or id) and its sources
    confirm: int = CONFIRM_FAILURES
    probe_soft_404: bool = True  # ask the site for a page that cannot exist, to spot soft 404s
    warc_size: int = WARC_SIZE

    def settings(self) -> dict[str, Any]:
        settings = {**self.fetch.as_dict(), **_own_fields(self)}
        settings.pop("probe_soft_404")  # not part of what makes two rechecks the same work
        return settings


def _own_fields(options: Any) -> dict[str, Any]:
    return {f.name: getattr(options, f.name) for f in fields(options) if f.name != "fetch"}
