"""Turning what was fetched into WARC records: request/response pairs, revisits, resources.

Builds :class:`archiver.warc.Record` objects and hands them to the writer; knows the
WARC header conventions (digests, Concurrent-To, Truncated, revisit profiles).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from .fetch import Exchange
from .warc import (
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
    date = warc_date(exchange.started_at)
    response_id = new_record_id() if exchange.response_head is not None else None
    request_written = None
    if exchange.request_bytes:
        headers = [
            ("WARC-Type", "request"),
            ("WARC-Record-ID", new_record_id()),
            ("WARC-Date", date),
            ("WARC-Target-URI", exchange.url),
        ]
        if response_id:
            headers.append(("WARC-Concurrent-To", response_id))
        headers.append(("Content-Type", "application/http; msgtype=request"))
        request_written = writer.write(Record("request", headers, [exchange.request_bytes]))
    if response_id is None:
        return WrittenExchange(request_written, None, None)
    payload_digest = sha256_digest_label(exchange.body_sha256)
    headers = [
        ("WARC-Type", "response"),
        ("WARC-Record-ID", response_id),
        ("WARC-Date", date),
        ("WARC-Target-URI", exchange.url),
    ]
    if exchange.ip_address:
        headers.append(("WARC-IP-Address", exchange.ip_address))
    if request_written:
        headers.append(("WARC-Concurrent-To", request_written.record_id))
    headers += [
        ("Content-Type", "application/http; msgtype=response"),
        ("WARC-Payload-Digest", payload_digest),
    ]
    if exchange.truncated:
        headers.append(("WARC-Truncated", exchange.truncated))
    record = Record("response", headers, [exchange.response_head, exchange.body], block_sha256=exchange.block_sha256)
    return WrittenExchange(request_written, writer.write(record), payload_digest)


def write_revisit(
    writer: WarcFileWriter,
    exchange: Exchange,
    profile: str,
    refers_to_uri: str,
    refers_to_date: str,
    refers_to_id: str | None,
    payload_digest: str,
) -> WrittenExchange:
    """A revisit record: the HTTP head only, pointing at the capture that holds the body.

    ``profile`` is ``identical`` (same payload digest) or ``not_modified`` (a 304 answer).
    """
    date = warc_date(exchange.started_at)
    revisit_id = new_record_id()
    request_written = None
    if exchange.request_bytes:
        request_written = writer.write(
            Record(
                "request",
                [
                    ("WARC-Type", "request"),
                    ("WARC-Record-ID", new_record_id()),
                    ("WARC-Date", date),
                    ("WARC-Target-URI", exchange.url),
                    ("WARC-Concurrent-To", revisit_id),
                    ("Content-Type", "application/http; msgtype=request"),
                ],
                [exchange.request_bytes],
            )
        )
    headers = [
        ("WARC-Type", "revisit"),
        ("WARC-Record-ID", revisit_id),
        ("WARC-Date", date),
        ("WARC-Target-URI", exchange.url),
        ("WARC-Profile", PROFILE_IDENTICAL if profile == "identical" else PROFILE_NOT_MODIFIED),
        ("WARC-Refers-To-Target-URI", refers_to_uri),
        ("WARC-Refers-To-Date", refers_to_date),
    ]
    if refers_to_id:
        headers.append(("WARC-Refers-To", refers_to_id))
    if exchange.ip_address:
        headers.append(("WARC-IP-Address", exchange.ip_address))
    if request_written:
        headers.append(("WARC-Concurrent-To", request_written.record_id))
    headers += [
        ("Content-Type", "application/http; msgtype=response"),
        ("WARC-Payload-Digest", payload_digest),
    ]
    # WARC 1.1 (6.7.2): a revisit's block is the HTTP head alone; the payload is in the record referred to.
    written = writer.write(Record("revisit", headers, [exchange.response_head or b""]))
    return WrittenExchange(request_written, written, payload_digest)


def write_resource(
    writer: WarcFileWriter, uri: str, content: BinaryIO, content_type: str, when: datetime, sha256_hex: str
) -> WrittenRecord:
    """A local file (an article saved from a browser or pasted into a file) as a resource record."""
    digest = sha256_digest_label(sha256_hex)
    headers = [
        ("WARC-Type", "resource"),
        ("WARC-Record-ID", new_record_id()),
        ("WARC-Date", warc_date(when)),
        ("WARC-Target-URI", uri),
        ("Content-Type", content_type),
        ("WARC-Payload-Digest", digest),
        ("WARC-Block-Digest", digest),
    ]
    return writer.write(Record("resource", headers, [content], block_sha256=sha256_hex))


def write_metadata(writer: WarcFileWriter, uri: str, concurrent_to: str | None, fields: dict[str, str], when: datetime) -> WrittenRecord:
    """Provenance notes about a capture as ``application/warc-fields``.

    Never JSON under the page's own URI and date: pywb would replay it instead of the page.
    """
    body = "".join(f"{k}: {' '.join(str(v).split())}\r\n" for k, v in fields.items()).encode("utf-8")
    headers = [
        ("WARC-Type", "metadata"),
        ("WARC-Record-ID", new_record_id()),
        ("WARC-Date", warc_date(when)),
        ("WARC-Target-URI", uri),
        ("Content-Type", "application/warc-fields"),
    ]
    if concurrent_to:
        headers.append(("WARC-Concurrent-To", concurrent_to))
    return writer.write(Record("metadata", headers, [body]))


def sha256_file(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(1 << 16):
        digest.update(chunk)
    return digest.hexdigest()
