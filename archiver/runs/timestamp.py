"""``archiver timestamp``: an RFC 3161 token over the chain head, kept in the database and in a WARC.

    seal the rows as they are now (db/seal.py); the seal's hash fixes them and the captures chain head
    ask the TSA for a token over sha256(seal hash) and check it against the trusted roots
    write it as a resource record (application/timestamp-reply) to a WARC of its own, flushed
    store its timestamps row

A token that does not verify is refused, never stored: a stored token is one a third party
can check with ``openssl ts -verify`` (README: "What each proof shows").
"""

from __future__ import annotations

import hashlib
import io
import platform
import socket

from archiver import __version__
from archiver.clock import utc_now
from archiver.errors import UsageError
from archiver.net.tsa import request_token
from archiver.options import DEFAULT_TSA
from archiver.proof.rfc3161 import REPLY_TYPE, TimestampError, check_token, default_roots_pem, load_certificates
from archiver.results import TimestampToken, WarcLocation
from archiver.runs.directory import ArchiveDir
from archiver.warc.records import write_derived
from archiver.warc.writer import WarcFileWriter, file_sha256

TIMESTAMP_URI = "urn:archiver:seal:"


def timestamp_archive(
    archive: ArchiveDir, tsa_url: str | None = None, tsa_roots: str | None = None, timeout: float = 30.0, proxy: str | None = None
) -> TimestampToken:
    """Seal the archive and time-stamp the seal's hash at ``tsa_url`` (default: DigiCert's public TSA).

    ``tsa_roots`` is a PEM bundle of the roots the TSA's certificate must chain to (default:
    the Mozilla bundle in certifi); it is stored with the token so ``verify`` can check it later.
    Raises :class:`~archiver.proof.rfc3161.TimestampError` when no good token came back.
    """
    store = archive.store
    head_row = store.row("SELECT id, chain_hash FROM captures ORDER BY id DESC LIMIT 1")
    if head_row is None or not head_row["chain_hash"]:
        raise UsageError("nothing to time-stamp: the archive has no captures yet")
    url = tsa_url or DEFAULT_TSA
    roots = load_certificates(tsa_roots if tsa_roots is not None else default_roots_pem())
    args = {"tsa": url, "tsa_roots": "given" if tsa_roots else "default"}
    run_id = store.start_run("timestamp", args, f"archiver/{__version__}")
    status = "failed"
    try:
        sealed = store.seal(run_id, "timestamp")
        head = sealed["seal_hash"]
        message = head.encode("ascii")
        requested_at = utc_now()
        reply, info = request_token(url, message, timeout=timeout, proxy=proxy)
        check_token(reply, message, roots)
        written = _write_token(archive, run_id, reply, head, sealed["chain_head"], url, requested_at)
        row = {
            "run_id": run_id,
            "seal_id": sealed["id"],
            "message": head,
            "chain_head": sealed["chain_head"],
            "capture_id": sealed["capture_id"],
            "tsa_url": url,
            "requested_at": written.date,
            "gen_time": info.gen_time,
            "serial_number": info.serial_number,
            "policy": info.policy,
            "tsa_name": info.tsa_name,
            "hash_algorithm": info.hash_algorithm,
            "token": reply,
            "tsa_roots": tsa_roots,
            "warc_file": written.warc_file,
            "warc_offset": written.offset,
            "warc_length": written.length,
            "warc_record_id": written.record_id,
        }
        timestamp_id = store.add_timestamp(row)
        status = "finished"
    finally:
        store.finish_run(run_id, status, {})
    return TimestampToken(
        timestamp_id, run_id, sealed["id"], head, sealed["chain_head"], sealed["capture_id"], url, info.gen_time, info.serial_number, info.tsa_name,
        WarcLocation(written.warc_file, written.offset, written.length),
    )


def _write_token(archive: ArchiveDir, run_id: int, reply: bytes, head: str, chain_head: str, tsa_url: str, when):
    """The DER reply as a resource record in a WARC file of the timestamp run, flushed and closed."""
    store = archive.store
    fields = {
        "hostname": socket.gethostname(),
        "operating-system": platform.platform(),
        "archiver-run-id": str(run_id),
        "description": "An RFC 3161 time-stamp token over archiver's newest seal (which fixes the chain head)",
    }
    writer = WarcFileWriter(
        archive.path,
        prefix="archiver-timestamp",
        warcinfo_fields=fields,
        on_open=lambda relpath: store.warc_file_opened(relpath, run_id),
        on_close=lambda relpath, path: store.warc_file_closed(relpath, path.stat().st_size, file_sha256(path)),
    )
    with writer:
        written = write_derived(
            writer,
            "resource",
            TIMESTAMP_URI + head,
            io.BytesIO(reply),
            REPLY_TYPE,
            when,
            hashlib.sha256(reply).hexdigest(),
            [("Archiver-Seal", head), ("Archiver-Chain-Head", chain_head), ("Archiver-TSA", tsa_url)],
        )
        writer.flush()
    return written


__all__ = ["timestamp_archive", "TimestampError", "DEFAULT_TSA"]
