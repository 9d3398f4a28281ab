"""Independent reading of the WARCs archiver writes: warcio and FastWARC, never archiver's own code."""

from __future__ import annotations

import hashlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


def warcio_records(path: Path) -> list[dict]:
    """Every record via warcio, with digests checked; fails the test on any digest problem."""
    records = []
    with open(path, "rb") as fh:
        iterator = ArchiveIterator(fh, check_digests=True)
        for record in iterator:
            content = record.content_stream().read()
            records.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "id": record.rec_headers.get_header("WARC-Record-ID"),
                    "headers": dict(record.rec_headers.headers),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "http_headers": record.http_headers,
                    "content": content,
                    "offset": iterator.get_record_offset(),
                    "length": iterator.get_record_length(),
                    "digest_problems": list(record.digest_checker.problems) if record.digest_checker else [],
                }
            )
    return records


def fastwarc_check(path: Path) -> list[dict]:
    """Read the file with FastWARC (a C++ parser) and verify block and payload digests of each record."""
    from fastwarc.warc import ArchiveIterator as FastIterator, WarcRecordType

    out = []
    # Block digests cover the HTTP head too, so they are checked with HTTP parsing off;
    # payload digests need the head parsed off the body.
    with open(path, "rb") as fh:
        for record in FastIterator(fh, record_types=WarcRecordType.any_type, parse_http=False):
            out.append({"type": str(record.record_type), "uri": record.headers.get("WARC-Target-URI"),
                        "block_ok": record.verify_block_digest(consume=False), "payload_ok": None,
                        "length": record.content_length})
    with open(path, "rb") as fh:
        responses = [r for r in out if r["type"] == "response"]
        for entry, record in zip(responses, FastIterator(fh, record_types=WarcRecordType.response, parse_http=True), strict=False):
            entry["payload_ok"] = record.verify_payload_digest(consume=False)
    return out


def read_at(path: Path, offset: int, length: int):
    """The one record at (offset, length), read with warcio from those bytes alone."""
    import io

    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read(length)
    records = list(ArchiveIterator(io.BytesIO(data)))
    assert len(records) <= 1
    iterator = ArchiveIterator(io.BytesIO(data))
    record = next(iter(iterator))
    return record


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
