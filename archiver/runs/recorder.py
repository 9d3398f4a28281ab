"""Recording a fetch: WARC records first (flushed to disk), then its database rows in one transaction.

This ordering is the crash-safety rule: a captures row never points at a record that
is not whole on disk. Used by both capture and recheck.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import platform
import socket
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from archiver import USER_AGENT
from archiver.runs.directory import ArchiveDir
from archiver.clock import iso_utc, utc_now
from archiver.net.fetch import Exchange, FetchResult
from archiver.warc.records import WrittenExchange, write_exchange, write_resource, write_revisit, write_server_answer
from archiver.analyze.answers import usable_answer
from archiver.analyze.pool import ExtractionPool
from archiver.analyze.text import Extracted, extract_exchange, read_for_extraction, safe_extract
from archiver.warc.writer import WarcFileWriter, WrittenRecord, file_sha256, sha256_digest_label

Extractor = Callable[[Exchange], "Extracted | None"]


@dataclass
class RevisitPlan:
    """Write the final response as a revisit of an earlier capture instead of in full."""

    profile: str  # 'identical' or 'not_modified'
    capture: dict[str, Any]  # the earlier captures row referred to
    refers_to_id: str | None


@dataclass
class WrittenFetch:
    """A fetch's records on disk: each hop's exchange and where its records went."""

    hops: list[tuple[Exchange, WrittenExchange]]
    revisit: RevisitPlan | None
    server_answer: WrittenRecord | None = None  # the 304 kept beside a server-not-modified revisit


@dataclass
class Captured:
    """A fetch (or local file) recorded: its captures row (with ``id``) and the text extracted from it."""

    row: dict[str, Any]
    extracted: Extracted | None

    @property
    def id(self) -> int:
        return self.row["id"]


@dataclass(eq=False)
class _Pending:
    """A fetch written to the WARC file, waiting for its text to be extracted and its row stored."""

    url: str
    result: FetchResult
    written: WrittenFetch
    future: Future | None  # the extraction; None when the answer has no text to extract
    data: bytes  # what the extraction reads (kept to extract in-process should a worker die)

    def ready(self) -> bool:
        return self.future is None or self.future.done()


def error_text(error) -> str | None:
    return f"{error.code}: {error.message}" if error is not None else None


class Recorder:
    """Writes fetches of one run into the archive."""

    def __init__(self, archive: ArchiveDir, run_id: int, settings: dict[str, Any], warc_size: int) -> None:
        self.archive = archive
        self.store = archive.store
        self.run_id = run_id
        fields = {
            "hostname": socket.gethostname(),
            "operating-system": platform.platform(),
            "python": platform.python_version(),
            "http-header-user-agent": settings.get("user_agent", USER_AGENT),
            "archiver-run-id": str(run_id),
            "archiver-settings": " ".join(f"{k}={v}" for k, v in sorted(settings.items())),
            "description": "Captured by archiver: an article and the sources it cites",
        }
        self.writer = WarcFileWriter(
            archive.path, max_size=warc_size, warcinfo_fields=fields, on_open=self._opened, on_close=self._closed
        )

    def close(self) -> None:
        self.writer.close()

    # -- warc file bookkeeping -------------------------------------------------------------

    def _opened(self, relpath: str) -> None:
        self.store.warc_file_opened(relpath, self.run_id)

    def _closed(self, relpath: str, path: Path) -> None:
        self.store.warc_file_closed(relpath, path.stat().st_size, file_sha256(path))

    # -- captures ----------------------------------------------------------------------------

    def record_fetch(
        self, url_id: int, result: FetchResult, revisit: RevisitPlan | None = None, extract: Extractor | None = extract_exchange
    ) -> Captured:
        """Write every hop of ``result``, extract the final answer's text, store the rows.

        ``extract`` is called between the two, when the final answer is a usable one and no
        revisit stands in for it; None skips extraction.
        """
        written = self.write(result, revisit)
        extracted = None
        final = result.final
        if extract is not None and revisit is None and final is not None and usable_answer(final.status, None):
            extracted = extract(final)
        return self.store_fetch(url_id, result, written, extracted)

    def record_many(
        self,
        fetched: Iterable[tuple[str, FetchResult] | None],
        url_id: Callable[[str], int],
        pool: ExtractionPool,
        in_process: Callable[[str], Extractor | None] = lambda url: None,
        backlog: int = 32,
    ) -> Iterator[tuple[str, FetchResult, Captured]]:
        """:meth:`record_fetch` for a stream of fetches, pipelined; yields (url, result, captured).

        Each fetch's records are written as it arrives and its text extracted in ``pool``
        while the next fetches arrive (``in_process(url)``, when it gives an extractor, has
        that URL extracted here instead: one whose parsed page the caller needs). Whatever
        is extracted by then is stored in groups: one fsync of the WARC file covers the
        group's records, then one transaction holds its rows, so a row still commits only
        after the bytes it points at are on disk. The caller's work on each yielded capture
        runs inside that transaction (its writes join it). Each result stays open until its
        capture is yielded; the caller closes it.

        What is ready is stored before the next fetch is written, and whenever ``fetched``
        yields None (:meth:`Fetcher.fetch_ticking`), so rows never wait long behind a slow
        host or a large body.
        """
        pending: list[_Pending] = []
        try:
            for item in fetched:
                if sum(1 for p in pending if not p.ready()) >= backlog:
                    wait([p.future for p in pending if p.future is not None and not p.ready()], return_when=FIRST_COMPLETED)
                if any(p.ready() for p in pending):
                    yield from self._store_group(pending, url_id, pool)
                if item is not None:
                    url, result = item
                    pending.append(self._write_and_submit(url, result, pool, in_process(url)))
            while pending:
                wait([p.future for p in pending if p.future is not None and not p.ready()], return_when=FIRST_COMPLETED)
                yield from self._store_group(pending, url_id, pool)
        finally:
            for p in pending:
                if p.future is not None:
                    p.future.cancel()
                p.result.close()

    def _write_and_submit(self, url: str, result: FetchResult, pool: ExtractionPool, extract: Extractor | None) -> _Pending:
        written = self.write(result, flush=False)
        final = result.final
        future: Future | None = None
        data = b""
        if final is not None and final.decoded is not None and usable_answer(final.status, None):
            if extract is not None:
                future = Future()
                future.set_result(extract(final))
            else:
                data = read_for_extraction(final.decoded, final.content_type)
                future = pool.submit(data, final.content_type, final.url)
        return _Pending(url, result, written, future, data)

    def _store_group(self, pending: list[_Pending], url_id: Callable[[str], int], pool: ExtractionPool) -> Iterator[tuple[str, FetchResult, Captured]]:
        """Store (and remove from ``pending``) every entry whose extraction is done; yield them."""
        group = [p for p in pending if p.ready()]
        self.writer.flush()  # one fsync for the whole group's records, before any row points at them
        with self.store.transaction():
            stored = []
            for p in group:
                extracted = None
                if p.future is not None:
                    final = p.result.final
                    assert final is not None  # a future only for a final answer
                    extracted = pool.result(p.future, p.data, final.content_type, final.url)
                stored.append((p, self.store_fetch(url_id(p.url), p.result, p.written, extracted)))
            for p, captured in stored:
                pending.remove(p)  # from here on the caller owns (and closes) the result
                yield p.url, p.result, captured

    def write(self, result: FetchResult, revisit: RevisitPlan | None = None, flush: bool = True) -> WrittenFetch:
        """Every hop's records, flushed to disk (unless ``flush`` is False: the caller flushes
        before storing rows); the final response as a revisit when ``revisit`` says so."""
        hops: list[tuple[Exchange, WrittenExchange]] = []
        answer = None
        final = result.final
        for exchange in result.exchanges:
            if exchange is final and revisit is not None and exchange.status is not None:
                written = write_revisit(
                    self.writer,
                    exchange,
                    revisit.profile,
                    refers_to_uri=revisit.capture["final_url"] or revisit.capture["requested_url"],
                    refers_to_date=revisit.capture["fetched_at"],
                    refers_to_id=revisit.refers_to_id,
                    payload_digest=revisit.capture["warc_payload_digest"],
                )
                if revisit.profile == "not_modified" and written.response is not None:
                    answer = write_server_answer(self.writer, exchange, written.response)
            else:
                written = write_exchange(self.writer, exchange)
            hops.append((exchange, written))
        if flush:
            self.writer.flush()
        return WrittenFetch(hops, revisit, answer)

    def store_fetch(self, url_id: int, result: FetchResult, written: WrittenFetch, extracted: Extracted | None) -> Captured:
        """The captures row (and its hops and text) of records already on disk, in one transaction."""
        row = self._capture_row(url_id, result, written, extracted)
        hops = []
        if len(written.hops) > 1 or (written.hops and written.hops[0][0].is_redirect):
            for index, (exchange, records) in enumerate(written.hops):
                record = records.response or records.request
                hops.append(
                    {
                        "hop": index,
                        "url": exchange.url,
                        "http_status": exchange.status,
                        "location": exchange.header("Location") if exchange.is_redirect else None,
                        "warc_file": record.warc_file if record else None,
                        "warc_offset": record.offset if record else None,
                        "warc_length": record.length if record else None,
                        "warc_record_id": record.record_id if record else None,
                    }
                )
        attachments = []
        answer = written.server_answer
        if answer is not None:
            attachments.append(
                {"run_id": self.run_id, "kind": "server_answer", "uri": row["final_url"],
                 "created_at": row["fetched_at"], "content_type": "application/warc-fields", "content_length": None, "sha256": None,
                 "record_type": "metadata", "warc_file": answer.warc_file, "warc_offset": answer.offset, "warc_length": answer.length,
                 "warc_record_id": answer.record_id, "truncated": None, "detail": None}
            )
        row["id"] = self.store.add_capture(row, hops, _text_row(url_id, extracted), attachments)
        return Captured(row, extracted)

    def _capture_row(self, url_id, result: FetchResult, written: WrittenFetch, extracted) -> dict[str, Any]:
        final = result.final
        revisit = written.revisit
        final_written = written.hops[-1][1] if written.hops else None
        record = final_written.response if final_written else None
        answered = final if final is not None and final.status is not None else None
        row: dict[str, Any] = {
            "url_id": url_id,
            "run_id": self.run_id,
            "requested_url": result.requested_url,
            "final_url": final.url if final else None,
            "fetched_at": iso_utc(final.started_at if final else result.fetched_at),
            "http_status": answered.status if answered else None,
            "content_type": answered.content_type if answered else None,
            "content_length": answered.decoded_length if answered else None,
            "payload_sha256": answered.decoded_sha256 if answered else None,
            "warc_file": record.warc_file if record else None,
            "warc_offset": record.offset if record else None,
            "warc_length": record.length if record else None,
            "error": error_text(result.error),
            "etag": answered.header("ETag") if answered else None,
            "last_modified": answered.header("Last-Modified") if answered else None,
            "record_type": ("revisit" if revisit else "response") if record else None,
            "warc_record_id": record.record_id if record else None,
            "warc_payload_digest": final_written.payload_digest if final_written and record else None,
            "ip_address": final.ip_address if final else None,
            "truncated": final.truncated if final else None,
            "redirects": max(0, len(result.exchanges) - 1),
            "revisit_of": revisit.capture["id"] if revisit else None,
        }
        if revisit is not None:
            earlier = revisit.capture
            # A revisit stands for the earlier capture's content: same payload, same text.
            row.update(
                payload_sha256=earlier["payload_sha256"],
                content_length=earlier["content_length"],
                text_sha256=earlier.get("text_sha256"),
                fingerprint=earlier.get("fingerprint"),
                title=earlier.get("title"),
            )
            if row["etag"] is None:
                row["etag"] = earlier.get("etag")
            if row["last_modified"] is None:
                row["last_modified"] = earlier.get("last_modified")
        elif extracted is not None:
            row.update(text_sha256=extracted.text_sha256, fingerprint=extracted.fingerprint, title=extracted.title)
        return row

    def record_file(self, url_id: int, path: Path, uri: str) -> tuple[Captured, bytes]:
        """Store a local article file as a resource record; returns its capture and its bytes."""
        data = path.read_bytes()
        content_type = _file_content_type(path)
        digest = hashlib.sha256(data).hexdigest()
        when = utc_now()
        written = write_resource(self.writer, uri, io.BytesIO(data), content_type, when, digest)
        self.writer.flush()
        row = {
            "url_id": url_id,
            "run_id": self.run_id,
            "requested_url": uri,
            "final_url": uri,
            "fetched_at": iso_utc(when),
            "http_status": None,
            "content_type": content_type,
            "content_length": len(data),
            "payload_sha256": digest,
            "warc_file": written.warc_file,
            "warc_offset": written.offset,
            "warc_length": written.length,
            "record_type": "resource",
            "warc_record_id": written.record_id,
            "warc_payload_digest": sha256_digest_label(digest),
        }
        extracted = safe_extract(data, content_type, uri, keep_document=True)  # the article's other readers use its parse
        if extracted is not None:
            row.update(text_sha256=extracted.text_sha256, fingerprint=extracted.fingerprint, title=extracted.title)
        row["id"] = self.store.add_capture(row, [], _text_row(url_id, extracted))
        return Captured(row, extracted), data


def _text_row(url_id: int, extracted: Extracted | None) -> dict[str, Any] | None:
    if extracted is None or extracted.text is None:
        return None
    row = {"url_id": url_id, "kind": extracted.kind, "title": extracted.title, "text": extracted.text}
    if extracted.features is not None:
        row["features"] = extracted.features
    return row


def close_run(
    store, run_id: int, status: str, counts: Callable[[], dict[str, int]], failure: BaseException | None, *closers: Callable[[], None]
) -> None:
    """Close a run's files and fetcher, then record its outcome (call from ``finally``).

    With the disk full, closing a WARC file or writing the runs row can fail as well: the
    first error is the one reported, so a later one is raised only when the run had none.
    A run whose row cannot be written stays 'running'; recovery marks it 'interrupted'.
    """
    error: BaseException | None = None
    for close in closers:
        try:
            close()
        except Exception as exc:  # noqa: BLE001 -- every closer runs; the first error is kept
            status = "failed"
            error = error or exc
    try:
        store.finish_run(run_id, status, counts())
    except Exception as exc:  # noqa: BLE001
        error = error or exc
    if error is not None and failure is None:
        raise error


def _file_content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return "text/markdown; charset=utf-8"
    if suffix in (".txt", ".text", ""):
        return "text/plain; charset=utf-8"
    if suffix in (".html", ".htm", ".xhtml"):
        return "text/html"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
