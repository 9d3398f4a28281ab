"""What the library's calls return: plain dataclasses, turned into JSON by ``to_dict()``.

The command line's ``--json`` output is ``to_dict()`` of these, so the field names are
part of the public interface.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class Result:
    """Base of every result: ``to_dict()`` gives the JSON document the CLI prints."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass
class WarcLocation(Result):
    """Where a record is: WARC file (relative to the archive), offset and length of its gzip member."""

    file: str
    offset: int
    length: int


@dataclass
class BrowserLoad(Result):
    """A page's load in headless Chromium (its ``browser_loads`` row)."""

    load_id: int
    network_idle: bool
    requests: int  # requests the page made: fetched + reused + refused + failed
    fetched: int
    reused: int  # served from a record this run already wrote
    refused: int
    failed: int
    error: str | None = None


@dataclass
class MediaFile(Result):
    """An audio or video file --media recorded (a resource record)."""

    url: str
    content_type: str | None
    bytes: int | None
    sha256: str | None
    truncated: str | None = None  # "length": cut at --media-max-bytes


@dataclass
class MediaFound(Result):
    """What --media found on a page."""

    files: list[MediaFile] = field(default_factory=list)
    error: str | None = None


@dataclass
class Fetched(Result):
    """One capture of a URL, as a run reports it."""

    capture_id: int | None = None
    final_url: str | None = None
    status: int | None = None  # HTTP status of the final answer; None for a local file or no answer
    content_type: str | None = None
    sha256: str | None = None  # payload_sha256: the decoded body
    fetched_at: str | None = None
    warc: WarcLocation | None = None
    error: str | None = None  # "code: message" when the fetch failed
    browser: BrowserLoad | None = None  # set when the page was loaded in the browser
    looked_empty: str | None = None  # why the plain fetch probably missed the page's text
    media: MediaFound | None = None  # under --media, for HTML pages

    @classmethod
    def of_row(cls, row: dict[str, Any] | None) -> Fetched:
        """From a ``captures`` row."""
        if row is None:
            return cls()
        warc = None
        if row.get("warc_file"):
            warc = WarcLocation(row["warc_file"], row["warc_offset"], row["warc_length"])
        return cls(
            capture_id=row.get("id"),
            final_url=row.get("final_url"),
            status=row.get("http_status"),
            content_type=row.get("content_type"),
            sha256=row.get("payload_sha256"),
            fetched_at=row.get("fetched_at"),
            warc=warc,
            error=row.get("error"),
        )


@dataclass
class SourceCapture(Fetched):
    """A source an article links to, and its capture in this run."""

    url: str = ""
    cited: bool = True
    kind: str = "citation"  # citation, link (--all-links) or requisite (--requisites)
    anchor_text: str | None = None


@dataclass
class SkippedLink(Result):
    href: str
    reason: str
    cited: bool


@dataclass
class LinkCounts(Result):
    cited: int = 0
    total: int = 0


@dataclass
class QuoteStatus(Result):
    """A quotation of the article and whether its source still says it."""

    text: str
    source: str | None
    status: str | None  # present, altered, missing; None: unchecked (the source could not be read)
    similarity: float | None


@dataclass
class ArticleCapture(Fetched):
    """One article of a capture run: its own capture, its sources and quotations."""

    target: str = ""
    url: str = ""
    article_id: int | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    sources: list[SourceCapture] = field(default_factory=list)
    skipped: list[SkippedLink] = field(default_factory=list)
    links: LinkCounts = field(default_factory=LinkCounts)
    unlinked_references: list[str] = field(default_factory=list)
    quotes: list[QuoteStatus] = field(default_factory=list)
    version: int | None = None  # this capture's article version (1: first capture)
    citations_added: list[str] = field(default_factory=list)  # cited now, not by the previous version
    citations_removed: list[str] = field(default_factory=list)  # cited by the previous version, not now


@dataclass
class CaptureResult(Result):
    run_id: int
    archive: str
    articles: list[ArticleCapture] = field(default_factory=list)
    # Change events this capture caused: tracked URLs (its articles, sources already cited by
    # them or by other articles) judged against their baselines, and changed citation sets.
    changes: list[Change] = field(default_factory=list)
    quote_changes: list[QuoteChange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every article was captured (sources may have failed: see each article's sources)."""
        return not any(article.error for article in self.articles)


@dataclass
class Change(Result):
    """A change event: something a reader would care about happened to a URL."""

    id: int
    url: str
    kind: str  # see archiver.analyze.kinds
    similarity: float | None
    detail: dict[str, Any]
    from_capture_id: int | None
    to_capture_id: int | None
    http_status: int | None = None
    error: str | None = None
    final_url: str | None = None
    detected_at: str | None = None
    run_id: int | None = None
    severity: str | None = None  # content changes: 'rewrite' | 'substantive' | 'minor' (archiver.analyze.judge)
    summary: str | None = None  # what changed in plain words, one finding a line


@dataclass
class QuoteChange(Result):
    """A quotation whose status in its source changed on a recheck."""

    quote_id: int
    article: str
    source: str
    text: str
    from_status: str | None
    to_status: str
    similarity: float | None
    excerpt: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"] = out.pop("from_status")
        out["to"] = out.pop("to_status")
        return out


@dataclass
class RecheckResult(Result):
    run_id: int
    checked: int = 0
    failed: int = 0
    changes: list[Change] = field(default_factory=list)
    quotes: list[QuoteChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "checked": self.checked,
            "failed": self.failed,
            "changes": [c.to_dict() for c in self.changes],
            "quotes": [q.to_dict() for q in self.quotes],
        }


@dataclass
class TextDiff(Result):
    """The main text of one URL at two captures, and their word-level diff."""

    url: str
    from_capture_id: int
    to_capture_id: int
    old_text: str
    new_text: str
    ops: list[tuple[str, str]]  # (equal|delete|insert, text)

    @property
    def identical(self) -> bool:
        return self.old_text == self.new_text


@dataclass
class Problem(Result):
    """Something ``verify`` found wrong."""

    kind: str  # missing_file, unreadable, truncated, digest, mismatch, unaccounted, chain, dangling, file_hash, ...
    message: str
    file: str | None = None
    offset: int | None = None
    capture_id: int | None = None


@dataclass
class VerifiedFile(Result):
    path: str
    state: str  # closed, open, missing
    size: int
    sha256: str | None
    records: int


@dataclass
class VerifyResult(Result):
    ok: bool
    chain_head: str
    captures: int
    captures_checked: int
    article: str | None
    files: list[VerifiedFile]
    open_files: list[str]
    records: int
    bytes: int
    seconds: float
    problems: list[Problem]
    notes: list[str]
    timestamps: int = 0  # RFC 3161 tokens checked
    seal_head: str | None = None  # the newest seal's hash: what `archiver timestamp` signs


@dataclass
class WaczExport(Result):
    """A WACZ package ``export_wacz`` wrote."""

    output: str
    article: str | None  # the article it holds, or None for the whole archive
    pages: int  # entries in pages.jsonl
    warcs: list[str]
    records: int | None  # records copied (one article's package), None when whole files were packaged
    skipped_open: list[str]  # WARC files a run is still writing, left out
    signed: dict[str, Any] | None = None  # with --sign: domain, created, hash, timestamp, tsa


@dataclass
class CdxjExport(Result):
    """A CDXJ index ``export_cdxj`` wrote."""

    output: str
    lines: int
    warcs: list[str]
    skipped_open: list[str]


@dataclass
class QueryResult(Result):
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass
class TimestampToken(Result):
    """An RFC 3161 token ``timestamp`` stored (its ``timestamps`` row)."""

    timestamp_id: int
    run_id: int
    seal_id: int  # the seal it time-stamps
    message: str  # the exact text time-stamped, the seal's hash (sha256 of it is the token's message imprint)
    chain_head: str  # the captures chain head the seal fixes
    capture_id: int  # the newest captures row it covers
    tsa_url: str
    gen_time: str  # the time the TSA asserts
    serial_number: str
    tsa_name: str | None
    warc: WarcLocation


@dataclass
class ArticleInfo(Result):
    """A tracked (or formerly tracked) article, as ``archiver articles`` lists it."""

    id: int
    url: str
    title: str | None
    source: str  # 'web' or 'file'
    tracking: str  # tracked, paused (archiver pause) or untracked (archiver untrack)
    state: str  # the article page's own recheck state: ok, failing, gone, soft_404
    added_at: str
    last_captured: str | None
    versions: int  # article versions recorded (one per capture of it)
    sources: int  # distinct sources its latest version cites
    source_statuses: dict[str, int]
    changes: int  # change events in its history: its own, and its sources' since it first cited each


@dataclass
class SourceInfo(Result):
    """A cited source, as ``archiver sources`` lists it."""

    url: str
    status: str  # ok, failing, gone, soft_404, or paused
    state: str
    paused_at: str | None
    first_seen: str
    last_checked_at: str | None
    next_check_at: str | None
    failure_streak: int
    baseline_capture_id: int | None
    captures: int
    changes: int
    articles: list[str]  # articles citing it
    rechecked: bool  # whether a recheck looks at it (not paused, cited by a tracked, unpaused article)


@dataclass
class TrackingChange(Result):
    """What ``pause`` or ``resume`` did."""

    article: str | None
    source: str | None
    paused: bool
    was_paused: bool


@dataclass
class Untracked(Result):
    """What ``untrack`` did: the article is no longer rechecked; ``kept`` counts the evidence left in place."""

    article: str
    was_tracked: bool
    sources_no_longer_rechecked: int
    kept: dict[str, int]


@dataclass
class SkippedLine(Result):
    line: int
    reason: str


@dataclass
class ImportResult(Result):
    """``import``: the capture run of the URLs read, and the lines skipped."""

    capture: CaptureResult
    skipped: list[SkippedLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.capture.ok and not self.skipped
