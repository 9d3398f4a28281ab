"""What each source said on the day it was cited: mementos from public web archives, and copies asked of them.

    for each article (or the one asked for), the day it was cited: its published date, else its first capture
    for each cited source with no memento looked up yet:
        look up the TimeMap (else the TimeGate) -> the memento closest to that day, and the nearest before it
        fetch each into the WARC like any capture (Wayback mementos in their id_ form), keeping Memento-Datetime
        compare its text with archiver's first capture of the source (the recheck comparison: noise ignored)
        -> a mementos row each (or one saying none was found, or why the lookup failed)
    with submit: ask the save endpoint (Save Page Now style) to archive each source, one request per delay
        -> a submissions row with the memento URL it answers with

Off unless asked (``--mementos``, ``--submit``, ``archiver mementos``): every lookup tells the archive
which URLs you are interested in.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urljoin

from archiver import __version__
from archiver.analyze.judge import judge
from archiver.analyze.text import Extracted
from archiver.clock import iso_utc, parse_iso
from archiver.db.queries import find_article, text_of_capture
from archiver.net.fetch import Fetcher
from archiver.net.memento import Memento, look_up, parse_http_date, parse_link_format
from archiver.options import DEFAULT_SAVE_ENDPOINT, DEFAULT_TIMEGATE, DEFAULT_TIMEMAP, SUBMIT_DELAY, FetchOptions, WARC_SIZE
from archiver.results import Result
from archiver.runs.directory import ArchiveDir
from archiver.runs.recorder import Recorder, close_run

_STAMP = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/")

Progress = Callable[[int, int, str], None]


@dataclass
class MementoOptions:
    """Where to look, what to ask, and how the fetches behave."""

    fetch: FetchOptions = field(default_factory=FetchOptions)
    lookup: bool = True  # look up and fetch mementos
    timemap: str | None = DEFAULT_TIMEMAP
    timegate: str | None = DEFAULT_TIMEGATE
    refresh: bool = False  # look up again sources that already have mementos
    submit: bool = False  # ask the save endpoint to archive each source
    save_endpoint: str = DEFAULT_SAVE_ENDPOINT
    submit_delay: float = SUBMIT_DELAY
    save_auth: str | None = None  # Authorization header value for the save endpoint (e.g. "LOW key:secret")
    warc_size: int = WARC_SIZE

    def settings(self) -> dict[str, Any]:
        settings = {**self.fetch.as_dict(), **{k: v for k, v in asdict(self).items() if k not in ("fetch", "save_auth")}}
        settings["save_auth"] = bool(self.save_auth)
        return settings


@dataclass
class MementoFound(Result):
    """One source's memento as ``mementos`` reports it."""

    article_url: str
    url: str
    role: str  # closest, earlier, closest+earlier, none, error
    memento_url: str | None = None
    memento_datetime: str | None = None
    verdict: str | None = None  # same, differs, unknown (no text to compare), none, error
    similarity: float | None = None
    capture_id: int | None = None
    error: str | None = None


@dataclass
class Submission(Result):
    url: str
    http_status: int | None
    memento_url: str | None
    error: str | None = None


@dataclass
class MementoResult(Result):
    run_id: int
    mementos: list[MementoFound] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "mementos": [m.to_dict() for m in self.mementos], "submissions": [s.to_dict() for s in self.submissions]}


def citation_day(store, article: dict[str, Any]) -> tuple[datetime, str]:
    """(the day the article cited its sources, where that came from): its published date, else its first capture."""
    published = (article.get("published") or "").strip()
    if published:
        for text in (published, published[:10]):
            try:
                return parse_iso(text), "published"
            except ValueError:
                continue
    first = store.value("SELECT MIN(fetched_at) FROM captures WHERE url_id = ? AND warc_file IS NOT NULL", (article["url_id"],))
    return parse_iso(first or iso_utc()), "first_capture"


class MementoRun:
    """One ``mementos`` run over an archive's articles (or one of them)."""

    def __init__(self, archive: ArchiveDir, options: MementoOptions, progress: Progress | None = None) -> None:
        self.archive = archive
        self.store = archive.store
        self.options = options
        self.progress = progress
        self._last_submit: float | None = None

    def run(self, article: str | None = None, article_ids: list[int] | None = None) -> MementoResult:
        articles = self._articles(article, article_ids)
        run_id = self.store.start_run("mementos", {**self.options.settings(), "article": article, "article_ids": article_ids}, f"archiver/{__version__}")
        outcome = MementoResult(run_id)
        recorder = Recorder(self.archive, run_id, self.options.settings(), self.options.warc_size)
        fetcher = Fetcher(self.options.fetch)
        status, failure = "failed", None
        try:
            jobs = [(a, s) for a in articles for s in self._sources(a)]
            submitted: set[int] = set()
            for number, (art, source) in enumerate(jobs, 1):
                if self.progress:
                    self.progress(number, len(jobs), source["url"])
                if self.options.lookup and (self.options.refresh or not self._looked_up(art["id"], source["url_id"])):
                    outcome.mementos += self._memento(run_id, art, source, fetcher, recorder)
                if self.options.submit and source["url_id"] not in submitted:
                    submitted.add(source["url_id"])
                    outcome.submissions.append(self._submit(run_id, source, fetcher))
            status = "finished"
        except BaseException as exc:
            failure = exc
            raise
        finally:
            def counts() -> dict[str, int]:
                return {"urls_total": len(outcome.mementos) + len(outcome.submissions), "captured": sum(1 for m in outcome.mementos if m.capture_id),
                        "failed": sum(1 for m in outcome.mementos if m.error) + sum(1 for s in outcome.submissions if s.error)}

            close_run(self.store, run_id, status, counts, failure, recorder.close, fetcher.close)
        return outcome

    # -- what to look at --------------------------------------------------------------------

    def _articles(self, article: str | None, article_ids: list[int] | None) -> list[dict[str, Any]]:
        if article is not None:
            return [find_article(self.store, article)]
        rows = self.store.rows("SELECT a.*, u.url FROM articles a JOIN urls u ON u.id = a.url_id ORDER BY a.id")
        if article_ids is not None:
            wanted = set(article_ids)
            rows = [r for r in rows if r["id"] in wanted]
        return rows

    def _sources(self, article: dict[str, Any]) -> list[dict[str, Any]]:
        return self.store.rows(
            """SELECT u.id AS url_id, u.url, MIN(c.position) AS position FROM citations c JOIN urls u ON u.id = c.url_id
               WHERE c.article_id = ? AND c.cited = 1 AND (u.url LIKE 'http://%' OR u.url LIKE 'https://%')
               GROUP BY u.id ORDER BY position""",
            (article["id"],),
        )

    def _looked_up(self, article_id: int, url_id: int) -> bool:
        return bool(self.store.value("SELECT 1 FROM mementos WHERE article_id = ? AND url_id = ? AND error IS NULL LIMIT 1", (article_id, url_id)))

    # -- mementos ----------------------------------------------------------------------------

    def _memento(self, run_id: int, article: dict[str, Any], source: dict[str, Any], fetcher: Fetcher, recorder: Recorder) -> list[MementoFound]:
        day, day_source = citation_day(self.store, article)
        lookup = look_up(fetcher, source["url"], day, self.options.timemap, self.options.timegate)
        base = {
            "run_id": run_id,
            "article_id": article["id"],
            "url_id": source["url_id"],
            "target_datetime": iso_utc(day),
            "target_source": day_source,
            "looked_up_at": iso_utc(),
            "lookup_url": lookup.via,
            "mementos": lookup.count,
        }
        article_url = article.get("url") or self.store.value("SELECT url FROM urls WHERE id = ?", (article["url_id"],))
        if lookup.error is not None or lookup.chosen is None:
            row = {**base, "role": "error" if lookup.error else "none", "verdict": "error" if lookup.error else "none", "error": lookup.error}
            self.store.add_memento(row)
            return [MementoFound(article_url, source["url"], row["role"], verdict=row["verdict"], error=lookup.error)]
        found = []
        first = self._first_capture(source["url_id"])
        for memento, role in _roles(lookup.chosen, lookup.earlier):
            row = {**base, "role": role, "memento_url": memento.url, "memento_datetime": iso_utc(memento.datetime)}
            row.update(self._fetch_and_compare(memento, first, fetcher, recorder))
            self.store.add_memento(row)
            found.append(
                MementoFound(article_url, source["url"], role, memento.url, row["memento_datetime"], row["verdict"], row.get("similarity"), row.get("capture_id"), row.get("error"))
            )
        return found

    def _first_capture(self, url_id: int) -> dict[str, Any] | None:
        """archiver's first capture of the source that has a record (what the memento is compared with)."""
        return self.store.row(
            "SELECT * FROM captures WHERE url_id = ? AND warc_file IS NOT NULL AND run_id IN (SELECT id FROM runs WHERE command != 'mementos') ORDER BY id LIMIT 1",
            (url_id,),
        )

    def _fetch_and_compare(self, memento: Memento, first: dict[str, Any] | None, fetcher: Fetcher, recorder: Recorder) -> dict[str, Any]:
        raw = memento.raw_url
        result = fetcher.fetch(raw)
        try:
            captured = recorder.record_fetch(self.store.url_id(raw), result)
        finally:
            result.close()
        row = captured.row
        values: dict[str, Any] = {"capture_id": row["id"], "compared_capture_id": first["id"] if first else None}
        said = parse_http_date(result.final.header("Memento-Datetime") if result.final else None)
        detail: dict[str, Any] = {"fetched_url": raw}
        if said is not None and abs((said - memento.datetime).total_seconds()) > 1:
            detail["memento_datetime_header"] = iso_utc(said)
        if row.get("error") or not row.get("http_status") or row["http_status"] >= 400:
            values.update(verdict="error", error=row.get("error") or f"the archive answered HTTP {row.get('http_status')}", detail=detail)
            return values
        if first is None:
            values.update(verdict="unknown", detail={**detail, "reason": "archiver has no capture of the source to compare with"})
            return values
        theirs = captured.extracted.text if captured.extracted is not None and captured.extracted.text else None
        ours = text_of_capture(self.store, first["id"])
        if theirs is None or ours is None:
            same = row.get("payload_sha256") is not None and row.get("payload_sha256") == first.get("payload_sha256")
            if same or (theirs is None and ours is None and row.get("payload_sha256") and first.get("payload_sha256")):
                values.update(verdict="same" if same else "differs", similarity=1.0 if same else None, detail={**detail, "reason": "payload_sha256"})
            else:
                values.update(verdict="unknown", detail={**detail, "reason": "no text to compare on one side"})
            return values
        assert captured.extracted is not None  # theirs is its text
        # The memento is the earlier look: judged as a recheck would judge archiver's capture after it.
        judged = judge(_text_only(theirs, captured.extracted.title), _text_only(ours[1], first.get("title")))
        values["similarity"] = 1.0 if judged is None else judged.similarity
        values["verdict"] = "same" if judged is None else "differs"
        if judged is not None:
            detail["diff_summary"] = judged.diff
            detail["summary"] = judged.summaries()
        values["detail"] = detail
        return values

    # -- submissions ---------------------------------------------------------------------------

    def _submit(self, run_id: int, source: dict[str, Any], fetcher: Fetcher) -> Submission:
        # The delay runs from the end of one request to the start of the next: never faster than asked.
        if self._last_submit is not None:
            wait = self.options.submit_delay - (time.monotonic() - self._last_submit)
            if wait > 0:
                time.sleep(wait)
        endpoint = self.options.save_endpoint
        headers = {"Authorization": self.options.save_auth} if self.options.save_auth else None
        requested_at = iso_utc()
        result = fetcher.fetch(endpoint + source["url"], headers=headers)
        self._last_submit = time.monotonic()
        try:
            status = result.exchanges[0].status if result.exchanges else None
            memento_url = _memento_answer(result)
            error = None
            if memento_url is None:
                error = str(result.error) if result.error else f"the save endpoint answered HTTP {status} without a memento URL"
        finally:
            result.close()
        stamp = _STAMP.search(memento_url or "")
        memento_datetime = None
        if stamp:
            s = stamp.group(1)
            memento_datetime = f"{s[:4]}-{s[4:6]}-{s[6:8]}T{s[8:10]}:{s[10:12]}:{s[12:14]}.000Z"
        self.store.add_submission(
            {
                "run_id": run_id, "url_id": source["url_id"], "endpoint": endpoint, "requested_at": requested_at,
                "http_status": status, "memento_url": memento_url, "memento_datetime": memento_datetime, "error": error,
            }
        )
        return Submission(source["url"], status, memento_url, error)


def _roles(chosen: Memento, earlier: Memento | None) -> list[tuple[Memento, str]]:
    if earlier is None or earlier.url == chosen.url:
        return [(chosen, "closest+earlier" if earlier is not None else "closest")]
    return [(chosen, "closest"), (earlier, "earlier")]


def _memento_answer(result) -> str | None:
    """The memento URL a save endpoint answers with: Content-Location, a Link rel=memento, or where it redirects."""
    for exchange in result.exchanges:
        location = exchange.header("Content-Location")
        if location:
            return urljoin(exchange.url, location)
        for uri, params in parse_link_format(exchange.header("Link") or ""):
            if "memento" in params.get("rel", "").split():
                return urljoin(exchange.url, uri)
        if exchange.is_redirect and _STAMP.search(exchange.header("Location") or ""):
            return urljoin(exchange.url, exchange.header("Location"))
    final = result.final
    if final is not None and final.header("Memento-Datetime"):
        return final.url
    return None


def _text_only(text: str, title: str | None) -> Extracted:
    """A page known by its main text and title only (what is stored of a capture)."""
    return Extracted(kind="text", title=title, text=text, text_sha256=None, fingerprint=None)
