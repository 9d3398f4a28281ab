"""Turning what was fetched into WARC records: request/response pairs, revisits, resources.

Builds :class:`archiver.warc.writer.Record` objects and hands them to the writer; knows the
WARC header conventions (digests, Concurrent-To, Truncated, revisit profiles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from archiver.net.fetch import Exchange
from archiver.warc.writer import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    Record,
    WarcFileWriter,
    WrittenRecord,
    new_record_id,
    sha256_digest_label,
    warc_date,
)


@dataclass
class WrittenExchange:
    """Where one exchange's records went; ``response`` is None when no response came."""

    request: WrittenRecord | None
    response: WrittenRecord | None
    payload_digest: str | None


def write_exchange(writer: WarcFileWriter, exchange: Exchange) -> WrittenExchange:
    """Write the request and (when there was one) the response of one exchange."""
    if exchange.response_head is None:
        return WrittenExchange(_write_request(writer, exchange, None), None, None)
    assert exchange.body_sha256 is not None  # hashed as the body was read
    extra = [("WARC-Truncated", exchange.truncated)] if exchange.truncated else []
    return _write_pair(
        writer, exchange, "response", [], extra, [exchange.response_head, exchange.body],
        sha256_digest_label(exchange.body_sha256), exchange.block_sha256,
    )


def write_revisit(
    writer: WarcFileWriter,
    exchange: Exchange,
    profile: str,
    refers_to_uri: str,
    refers_to_date: str,
    refers_to_id: str | None,
    payload_digest: str,
) -> WrittenExchange:
    """A revisit record pointing at the capture that holds the body.

    ``profile`` ``identical`` (same payload digest): the block is the HTTP head of the new
    answer (WARC 1.1, 6.7.2). ``not_modified`` (a 304 answer): the block is empty (6.7.3
    allows it; readers parse no HTTP head from an empty revisit), so that replay tools (pywb, ReplayWeb.page) serve the original's head and
    payload at the recheck's date instead of a bodiless 304; the 304 itself is kept by
    :func:`write_server_answer` in a metadata record that refers to this one (docs/warc.md).
    """
    refers = [
        ("WARC-Profile", PROFILE_IDENTICAL if profile == "identical" else PROFILE_NOT_MODIFIED),
        ("WARC-Refers-To-Target-URI", refers_to_uri),
        ("WARC-Refers-To-Date", refers_to_date),
    ]
    if refers_to_id:
        refers.append(("WARC-Refers-To", refers_to_id))
    if profile == "identical":
        return _write_pair(writer, exchange, "revisit", refers, [], [exchange.response_head or b""], payload_digest)
    # No WARC-Payload-Digest: the spec defines this profile's payload as the original's, which
    # the record does not hold (warcio's WARC checker prohibits the field here). No Content-Type:
    # there is no block to type, and readers then agree there is no HTTP message in it.
    return _write_pair(writer, exchange, "revisit", refers, [], [], None, content_type=None)


def write_server_answer(writer: WarcFileWriter, exchange: Exchange, revisit: WrittenRecord) -> WrittenRecord:
    """The server's answer to a conditional request (a 304), as fields of a metadata record.

    ``application/warc-fields``: pywb and ReplayWeb.page never replay it as the page. One
    ``http-header`` field per header line, in the order the server sent them.
    """
    head = (exchange.response_head or b"").decode("latin-1")
    lines = [line for line in head.split("\r\n") if line]
    fields = [("http-status", str(exchange.status)), ("http-status-line", lines[0] if lines else "")]
    fields += [("http-header", line) for line in lines[1:]]
    fields.append(("description", "the server's answer to the conditional request; the revisit record this refers to stands for the content it confirmed"))
    return write_metadata(
        writer, exchange.url, fields, exchange.started_at, [("WARC-Refers-To", revisit.record_id), ("WARC-Concurrent-To", revisit.record_id)]
    )


def _write_request(writer: WarcFileWriter, exchange: Exchange, concurrent_to: str | None) -> WrittenRecord | None:
    if not exchange.request_bytes:
        return None
    headers = [
        ("WARC-Type", "request"),
        ("WARC-Record-ID", new_record_id()),
        ("WARC-Date", warc_date(exchange.started_at)),
        ("WARC-Target-URI", exchange.url),
    ]
    if concurrent_to:
        headers.append(("WARC-Concurrent-To", concurrent_to))
    headers.append(("Content-Type", "application/http; msgtype=request"))
    return writer.write(Record("request", headers, [exchange.request_bytes]))


def _write_pair(
    writer: WarcFileWriter,
    exchange: Exchange,
    record_type: str,
    leading: list[tuple[str, str]],
    trailing: list[tuple[str, str]],
    block: list,
    payload_digest: str | None,
    block_sha256: str | None = None,
    content_type: str | None = "application/http; msgtype=response",
) -> WrittenExchange:
    """The request record, then the response or revisit record, linked both ways by WARC-Concurrent-To."""
    record_id = new_record_id()
    request_written = _write_request(writer, exchange, record_id)
    headers = [
        ("WARC-Type", record_type),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", warc_date(exchange.started_at)),
        ("WARC-Target-URI", exchange.url),
        *leading,
    ]
    if exchange.ip_address:
        headers.append(("WARC-IP-Address", exchange.ip_address))
    if request_written:
        headers.append(("WARC-Concurrent-To", request_written.record_id))
    if content_type:
        headers.append(("Content-Type", content_type))
    if payload_digest is not None:
        headers.append(("WARC-Payload-Digest", payload_digest))
    headers += trailing
    written = writer.write(Record(record_type, headers, block, block_sha256=block_sha256))
    return WrittenExchange(request_written, written, payload_digest)


def write_resource(
    writer: WarcFileWriter, uri: str, content: BinaryIO, content_type: str, when: datetime, sha256_hex: str
) -> WrittenRecord:
    """A local file (an article saved from a browser or pasted into a file) as a resource record."""
    return write_derived(writer, "resource", uri, content, content_type, when, sha256_hex, [])


def write_derived(
    writer: WarcFileWriter,
    record_type: str,
    uri: str,
    content: BinaryIO,
    content_type: str,
    when: datetime,
    sha256_hex: str,
    links: list[tuple[str, str]],
    truncated: str | None = None,
) -> WrittenRecord:
    """A record not fetched over HTTP: a local file, a screenshot, a rendered DOM, a media file.

    ``record_type`` is ``resource`` or ``conversion``; ``links`` are its WARC-Concurrent-To /
    WARC-Refers-To headers tying it to the page's response record.
    """
    digest = sha256_digest_label(sha256_hex)
    headers = [
        ("WARC-Type", record_type),
        ("WARC-Record-ID", new_record_id()),
        ("WARC-Date", warc_date(when)),
        ("WARC-Target-URI", uri),
        *links,
        ("Content-Type", content_type),
        ("WARC-Payload-Digest", digest),
        ("WARC-Block-Digest", digest),
    ]
    if truncated:
        headers.append(("WARC-Truncated", truncated))
    return writer.write(Record(record_type, headers, [content], block_sha256=sha256_hex))


def write_metadata(writer: WarcFileWriter, uri: str, fields: list[tuple[str, str]], when: datetime, links: list[tuple[str, str]]) -> WrittenRecord:
    """A metadata record of ``application/warc-fields`` (never JSON: pywb would replay that as the page)."""
    body = "".join(f"{name}: {' '.join(str(value).split())}\r\n" for name, value in fields).encode("utf-8")
    headers = [
        ("WARC-Type", "metadata"),
        ("WARC-Record-ID", new_record_id()),
        ("WARC-Date", warc_date(when)),
        ("WARC-Target-URI", uri),
        *links,
        ("Content-Type", "application/warc-fields"),
    ]
    return writer.write(Record("metadata", headers, [body]))
