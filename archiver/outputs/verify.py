"""Integrity verification: every WARC byte the database points at, and the database's own hash chain.

    walk each WARC file gzip member by gzip member (one member = one record):
        recompute block digest, payload digest and the decoded payload sha256;
        note truncated files, unreadable members, bytes between records
    compare every captures and hops row with the record at its (file, offset)
    account for every record: captures/hops rows, their Concurrent-To requests and metadata,
        warcinfo, failed fetches' requests
    check the captures hash chain and report its head

The walker (archiver.warc.reader, zlib + hashlib) is not borrowed from warcio so that a
damaged file is reported record by record with offsets instead of stopping at the first
error. ``archiver report`` prints commands that check the same hashes with warcio alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from archiver.runs.directory import ArchiveDir
from archiver.db.chain import check_chain
from archiver.db.queries import find_article
from archiver.outputs.sealcheck import seal_problems
from archiver.outputs.tokens import check_tokens, stored_tokens
from archiver.net.encoding import ContentDecoder
from archiver.results import Problem, VerifiedFile, VerifyResult
from archiver.warc.reader import CHUNK, MemberCut, MemberData, MemberEnd, MemberError, MemberStart, members
from archiver.warc.reader import OPEN_SUFFIX

_MAX_HEAD = 1 << 20  # a WARC or HTTP head longer than this is not a head


@dataclass
class RecordInfo:
    """What the walker saw in one gzip member."""

    offset: int
    length: int
    type: str | None = None
    record_id: str | None = None
    target_uri: str | None = None
    date: str | None = None
    concurrent_to: list[str] = field(default_factory=list)
    refers_to: str | None = None
    payload_digest_header: str | None = None
    truncated_header: str | None = None
    http_status: int | None = None
    decoded_sha256: str | None = None
    decoded_length: int | None = None
    problems: list[str] = field(default_factory=list)


# -- digests -----------------------------------------------------------------------------------


def _digest_matches(label: str, hexdigest: str) -> bool:
    """``sha256:BASE32`` (or hex) against a hex digest."""
    _, _, value = label.partition(":")
    value = value.strip()
    raw = bytes.fromhex(hexdigest)
    if value.lower() == hexdigest:
        return True
    try:
        return base64.b32decode(value.upper() + "=" * (-len(value) % 8)) == raw
    except Exception:  # noqa: BLE001 -- a malformed label simply does not match
        return False


def _hasher(label: str | None):
    if not label or ":" not in label:
        return None
    algorithm = label.split(":", 1)[0].strip().lower().replace("-", "")
    try:
        return hashlib.new(algorithm)
    except ValueError:
        return None


# -- one record, pushed in decompressed chunks -------------------------------------------------


class _RecordParser:
    def __init__(self, offset: int, decode_limit: int) -> None:
        self.info = RecordInfo(offset=offset, length=0)
        self.decode_limit = decode_limit
        self._head = b""
        self._headers: dict[str, str] = {}
        self._block_left: int | None = None
        self._block_hash = None
        self._payload_hash = None
        self._http_head: bytes | None = None  # None: not HTTP; b"..." while collecting
        self._in_payload = False
        self._decoder: ContentDecoder | None = None
        self._trailer = b""
        self._fields: bytes | None = None  # the block of an application/warc-fields metadata record

    def feed(self, data: bytes) -> None:
        if self._block_left is None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > _MAX_HEAD:
                    self.info.problems.append("no WARC header end found")
                    self._block_left = 0
                return
            head, data = self._head[: end + 4], self._head[end + 4 :]
            self._head = b""
            self._start(head)
        if self._block_left:
            part, data = data[: self._block_left], data[self._block_left :]
            self._block_left -= len(part)
            self._block(part)
        self._trailer += data[: 16]

    def _start(self, head: bytes) -> None:
        lines = head.decode("utf-8", "replace").split("\r\n")
        if not lines[0].startswith("WARC/"):
            self.info.problems.append(f"not a WARC record (starts {lines[0][:20]!r})")
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                self._headers[name.strip().lower()] = value.strip()
        h = self._headers
        info = self.info
        info.type = h.get("warc-type")
        info.record_id = h.get("warc-record-id")
        info.target_uri = h.get("warc-target-uri")
        info.date = h.get("warc-date")
        info.refers_to = h.get("warc-refers-to")
        info.payload_digest_header = h.get("warc-payload-digest")
        info.truncated_header = h.get("warc-truncated")
        info.concurrent_to = [v for k, v in _all_headers(lines, "warc-concurrent-to")]
        try:
            self._block_left = int(h.get("content-length", ""))
        except ValueError:
            self.info.problems.append("no valid Content-Length")
            self._block_left = 0
        self._block_hash = _hasher(h.get("warc-block-digest"))
        is_http = h.get("content-type", "").startswith("application/http") and info.type in ("response", "revisit")
        if is_http:
            self._http_head = b""
        elif info.type in ("resource", "conversion"):
            self._start_payload(None)
        elif info.type == "metadata" and h.get("content-type", "").startswith("application/warc-fields"):
            self._fields = b""

    def _start_payload(self, encoding: str | None) -> None:
        self._in_payload = True
        self._payload_hash = _hasher(self.info.payload_digest_header) if self.info.type != "revisit" else None
        if self.info.type in ("response", "resource", "conversion"):
            self._decoder = ContentDecoder(encoding if self.info.type == "response" else None, self.decode_limit)

    def _block(self, part: bytes) -> None:
        if self._block_hash is not None:
            self._block_hash.update(part)
        if self._fields is not None and len(self._fields) < _MAX_HEAD:
            self._fields += part
        if self._http_head is not None and not self._in_payload:
            self._http_head += part
            end = self._http_head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._http_head) > _MAX_HEAD:
                    self._http_head = None
                return
            head, part = self._http_head[: end + 4], self._http_head[end + 4 :]
            encoding = self._parse_http(head)
            self._start_payload(encoding)
        if self._in_payload and part:
            if self._payload_hash is not None:
                self._payload_hash.update(part)
            if self._decoder is not None:
                self._decoder.feed(part)

    def _parse_http(self, head: bytes) -> str | None:
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ")
        if len(status) > 1 and status[1].isdigit():
            self.info.http_status = int(status[1])
        encodings = [v for _, v in _all_headers(lines, "content-encoding")]
        return ", ".join(encodings) if encodings else None

    def finish(self, length: int) -> RecordInfo:
        info = self.info
        info.length = length
        if self._block_left is None:
            info.problems.append("record ends inside its WARC header")
            return info
        if self._block_left:
            info.problems.append(f"block shorter than its Content-Length by {self._block_left} bytes")
        elif not self._trailer.startswith(b"\r\n\r\n"):
            info.problems.append("record does not end with the WARC record separator")
        label = self._headers.get("warc-block-digest")
        if self._block_hash is not None and not _digest_matches(label, self._block_hash.hexdigest()):
            info.problems.append(f"WARC-Block-Digest does not match the block ({label})")
        if self._http_head is not None and not self._in_payload and info.type == "response":
            info.problems.append("HTTP head has no end")
        if self._in_payload and self._decoder is None and self._http_head is None:
            pass
        if self._payload_hash is not None and self._in_payload:
            label = info.payload_digest_header
            if not _digest_matches(label, self._payload_hash.hexdigest()):
                info.problems.append(f"WARC-Payload-Digest does not match the payload ({label})")
        if self._fields is not None:
            # A server's "not modified" answer is kept as fields (docs/warc.md): its status is checked too.
            for line in self._fields.decode("utf-8", "replace").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "http-status" and value.strip().isdigit():
                    info.http_status = int(value.strip())
        if self._decoder is not None:
            self._decoder.finish()
            info.decoded_sha256 = self._decoder.sha256.hexdigest()
            info.decoded_length = self._decoder.length
        return info


def _all_headers(lines: list[str], name: str) -> list[tuple[str, str]]:
    out = []
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name:
            out.append((key, value.strip()))
    return out


# -- one file -----------------------------------------------------------------------------------


@dataclass
class FileResult:
    path: str  # relative to the archive, without .open
    state: str  # closed | open | missing
    size: int = 0
    sha256: str | None = None
    records: dict[int, RecordInfo] = field(default_factory=dict)
    good_end: int = 0  # offset past the last whole record
    problems: list[Problem] = field(default_factory=list)


def walk_warc(path: Path, relpath: str, is_open: bool, decode_limit: int) -> FileResult:
    """Read every gzip member of one WARC file; digests recomputed, damage located."""
    result = FileResult(relpath, "open" if is_open else "closed")
    file_hash = hashlib.sha256()
    jumped = False
    parser: _RecordParser | None = None
    bad: Problem | None = None  # an unreadable stretch, while looking for the next record
    bad_at = 0
    with open(path, "rb") as fh:
        for event in members(fh, resync=True, on_raw=file_hash.update):
            if isinstance(event, MemberStart):
                parser = _RecordParser(event.offset, decode_limit)
            elif isinstance(event, MemberData):
                assert parser is not None  # members() starts every member with MemberStart
                parser.feed(event.data)
            elif isinstance(event, MemberEnd):
                assert parser is not None
                result.records[event.offset] = parser.finish(event.end - event.offset)
                result.good_end = event.end
                if bad is not None:
                    bad.message += f"; bytes {bad_at}-{event.offset} skipped, reading resumed at offset {event.offset}"
                    bad = None
                parser = None
            elif isinstance(event, MemberError):
                jumped = True
                if bad is None:
                    assert parser is not None
                    info = parser.info
                    what = f"{info.type} record {info.record_id}" if info.type else "record"
                    bad = Problem("unreadable", f"{what} at offset {event.offset} is corrupt ({event.reason})", relpath, event.offset)
                    bad_at = event.offset
                    result.problems.append(bad)
                parser = None
            elif isinstance(event, MemberCut) and bad is None and not is_open:  # an open file's last member may still be being written
                assert parser is not None
                info = parser.info
                what = f"{info.type} record {info.record_id}" if info.type else "a record"
                result.problems.append(
                    Problem("truncated", f"{relpath} is truncated: the file ends inside {what} at offset {event.offset} ({event.end - event.offset} bytes of it present)", relpath, event.offset)
                )
    if bad is not None:
        bad.message += "; no readable record after it"
    if jumped:
        file_hash = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                file_hash.update(chunk)
    result.size = path.stat().st_size
    result.sha256 = file_hash.hexdigest()
    for info in result.records.values():
        for message in info.problems:
            kind = "digest" if "Digest" in message else "malformed"
            what = f"{info.type} record {info.record_id}" if info.type else "record"
            result.problems.append(Problem(kind, f"{what} at offset {info.offset}: {message}", relpath, info.offset))
    return result


# -- the archive ---------------------------------------------------------------------------------


Progress = Callable[[str, int, int], None]


def verify_archive(
    archive: ArchiveDir, article: str | None = None, head: str | None = None, progress: Progress | None = None, tsa_roots: str | None = None,
    deep: bool = False,
) -> VerifyResult:
    """Check the WARC files against the database and the database against itself.

    ``article`` limits the WARC checks to that article and its sources (the chain is always
    checked whole); ``head`` is a chain head published earlier, which must still be in the chain.
    Every stored timestamp token is checked, against ``tsa_roots`` (PEM) when given. ``deep``
    also recomputes texts, citations, quotations and change events from the records (outputs/deep.py).
    ``ok`` is false when any problem was found.
    """
    started = time.monotonic()
    store = archive.store
    problems: list[Problem] = []
    notes: list[str] = []

    # The chain first: it needs no WARC and says whether the rows can be trusted at all.
    captures = store.rows("SELECT * FROM captures ORDER BY id")
    chain_head, chain_problems = check_chain(captures)
    for message in chain_problems:
        capture_id = int(message.split()[2].rstrip(":")) if message.startswith("captures row ") else None
        problems.append(Problem("chain", message, capture_id=capture_id))
    sealed_problems, sealed_notes, seal_head, seals = seal_problems(store, captures)
    problems += sealed_problems
    notes += sealed_notes
    if head:
        known = {r.get("chain_hash") for r in captures} | {chain_head} | {s["seal_hash"] for s in seals.values()}
        if head.strip().lower() not in known:
            problems.append(Problem("chain", f"published head {head} is not in the chain: rows it covered were changed or removed"))
    problems += _dangling(store, {r["id"] for r in captures})

    selected = captures
    if article is not None:
        found = find_article(store, article)
        url_ids = {found["url_id"]} | {
            r["url_id"] for r in store.rows("SELECT url_id FROM citations WHERE article_id = ? AND cited = 1 AND url_id IS NOT NULL", (found["id"],))
        }
        selected = [r for r in captures if r["url_id"] in url_ids]
    selected_ids = {r["id"] for r in selected}
    hops = [h for h in store.rows("SELECT * FROM hops ORDER BY id") if h["capture_id"] in selected_ids]
    attachments = [a for a in _attachments(store) if a["capture_id"] in selected_ids]
    registered = {r["path"]: r for r in store.rows("SELECT * FROM warc_files")}
    runs = {r["id"]: r for r in store.rows("SELECT id, args FROM runs")}

    # Which files to read.
    wanted: set[str] = {r["warc_file"] for r in selected if r["warc_file"]} | {h["warc_file"] for h in hops if h["warc_file"]}
    wanted |= {a["warc_file"] for a in attachments}
    tokens = stored_tokens(store)
    wanted |= {t["warc_file"] for t in tokens}
    on_disk: set[str] = set()
    if archive.warcs_dir.is_dir():
        for path in archive.warcs_dir.iterdir():
            name = path.name
            if name.endswith(".warc.gz" + OPEN_SUFFIX):
                name = name[: -len(OPEN_SUFFIX)]
            if name.endswith((".warc.gz", ".warc")):
                on_disk.add(f"warcs/{name}")
    if article is None:
        wanted |= set(registered) | on_disk
        for relpath in sorted(on_disk - set(registered)):
            problems.append(Problem("unregistered_file", f"{relpath} is not listed in the warc_files table", relpath))

    files: dict[str, FileResult] = {}
    total = len(wanted)
    for number, relpath in enumerate(sorted(wanted), 1):
        if progress:
            progress(relpath, number, total)
        path = archive.warc_path(relpath)
        if not path.exists():
            result = FileResult(relpath, "missing")
            users = sum(1 for r in selected if r["warc_file"] == relpath)
            result.problems.append(Problem("missing_file", f"{relpath} is missing ({users} captures rows point into it)", relpath))
            files[relpath] = result
            problems += result.problems
            continue
        is_open = path.name.endswith(OPEN_SUFFIX)
        run_id = (registered.get(relpath) or {}).get("run_id")
        result = walk_warc(path, relpath, is_open, _decode_limit(runs.get(run_id)))
        files[relpath] = result
        reg = registered.get(relpath)
        if is_open:
            notes.append(f"{relpath} is still open (a run is writing it): its records so far were checked, the file hash was not")
        elif reg is not None:
            if reg.get("size") is not None and reg["size"] != result.size:
                result.problems.append(Problem("file_hash", f"{relpath} is {result.size} bytes, the database says {reg['size']}", relpath))
            if reg.get("sha256"):
                if reg["sha256"] != result.sha256:
                    result.problems.append(Problem("file_hash", f"{relpath}: sha256 {result.sha256} differs from the database's {reg['sha256']}", relpath))
            else:
                notes.append(f"{relpath} has no recorded sha256: its records were checked one by one")
        problems += result.problems

    problems += _compare_rows(selected, hops, files, {r["id"]: r for r in captures})
    problems += _compare_attachments(attachments, files)
    token_problems, token_notes = check_tokens(tokens, captures, seals, files, tsa_roots)
    problems += token_problems
    notes += token_notes
    if deep:
        from archiver.outputs.deep import deep_check

        deep_problems, checked = deep_check(archive)
        problems += deep_problems
        notes.append("deep: recomputed from the WARC records " + ", ".join(f"{n} {k} rows" for k, n in checked.items()))
    if article is None:
        # A token's resource record is accounted for by its timestamps row, as an attachment's is.
        problems += _unaccounted(files, captures, hops, registered, [*attachments, *tokens])

    total_bytes = sum(f.size for f in files.values())
    seconds = time.monotonic() - started
    return VerifyResult(
        ok=not problems,
        chain_head=chain_head,
        captures=len(captures),
        captures_checked=len(selected),
        article=article,
        files=[VerifiedFile(f.path, f.state, f.size, f.sha256, len(f.records)) for f in files.values()],
        open_files=[f.path for f in files.values() if f.state == "open"],
        records=sum(len(f.records) for f in files.values()),
        bytes=total_bytes,
        seconds=round(seconds, 3),
        problems=problems,
        notes=notes,
        timestamps=len(tokens),
        seal_head=seal_head,
    )


def _decode_limit(run: dict[str, Any] | None) -> int:
    try:
        return int(json.loads((run or {})["args"]).get("max_bytes"))
    except Exception:  # noqa: BLE001 -- older runs may not say: the fetcher's default
        return 256 * 1024 * 1024


def _dangling(store, capture_ids: set[int]) -> list[Problem]:
    """Rows that point at a captures row that is not there: a deleted row leaves these behind."""
    checks = [
        ("hops", "capture_id"),
        ("texts", "capture_id"),
        ("changes", "from_capture_id"),
        ("changes", "to_capture_id"),
        ("quote_checks", "capture_id"),
        ("quotes", "capture_id"),
        ("articles", "capture_id"),
        ("urls", "baseline_capture_id"),
        ("captures", "revisit_of"),
        ("attachments", "capture_id"),
        ("browser_loads", "capture_id"),
        ("browser_requests", "capture_id"),
    ]
    problems = []
    for table, column in checks:
        try:
            rows = store.rows(f"SELECT DISTINCT [{column}] AS ref FROM [{table}] WHERE [{column}] IS NOT NULL")
        except Exception:  # noqa: BLE001 -- an older schema without the column
            continue
        for row in rows:
            if row["ref"] not in capture_ids:
                problems.append(Problem("dangling", f"{table}.{column} refers to captures row {row['ref']}, which is missing (row deleted?)", capture_id=row["ref"]))
    return problems


def _compare_rows(selected, hops, files: dict[str, FileResult], by_id: dict[int, dict]) -> list[Problem]:
    problems: list[Problem] = []
    claimed: dict[tuple[str, int], int] = {}

    def locate(row, what, capture_id) -> RecordInfo | None:
        result = files.get(row["warc_file"])
        if result is None or result.state == "missing":
            return None  # reported once for the file
        info = result.records.get(row["warc_offset"])
        if info is None:
            where = f"{row['warc_file']} offset {row['warc_offset']}"
            if row["warc_offset"] >= result.good_end:
                message = f"{what}: its record at {where} is past the last whole record (file truncated)"
                kind = "truncated"
            else:
                message = f"{what}: no readable record starts at {where}"
                kind = "unreadable"
            problems.append(Problem(kind, message, row["warc_file"], row["warc_offset"], capture_id))
        return info

    for row in selected:
        if not row["warc_file"]:
            if row.get("record_type"):
                problems.append(Problem("mismatch", f"captures row {row['id']} has record type {row['record_type']} but no WARC location", capture_id=row["id"]))
            continue
        what = f"captures row {row['id']} ({row['final_url'] or row['requested_url']})"
        info = locate(row, what, row["id"])
        if info is None:
            continue
        key = (row["warc_file"], row["warc_offset"])
        if key in claimed:
            problems.append(Problem("mismatch", f"{what} points at the same record as captures row {claimed[key]}", row["warc_file"], row["warc_offset"], row["id"]))
        claimed[key] = row["id"]
        diffs = []
        expect = [
            ("length", info.length, row["warc_length"]),
            ("WARC-Record-ID", info.record_id, row["warc_record_id"]),
            ("WARC-Type", info.type, row["record_type"]),
            ("WARC-Target-URI", info.target_uri, row["final_url"]),
            ("WARC-Date", info.date, row["fetched_at"]),
            ("WARC-Payload-Digest", info.payload_digest_header, row["warc_payload_digest"]),
            ("WARC-Truncated", info.truncated_header, row["truncated"]),
        ]
        if info.type in ("response", "revisit"):
            status = info.http_status
            if info.type == "revisit" and status is None:
                # A server-not-modified revisit has no block: the server's answer is in the
                # metadata record that refers to it.
                answer = _answer_of(files[row["warc_file"]], info.record_id)
                status = answer.http_status if answer is not None else None
            expect.append(("HTTP status", status, row["http_status"]))
        if info.type in ("response", "resource"):
            expect.append(("payload sha256", info.decoded_sha256, row["payload_sha256"]))
            expect.append(("payload length", info.decoded_length, row["content_length"]))
        for name, found, stored in expect:
            if found != stored and not (name == "length" and stored is None):
                diffs.append(f"{name} is {found!r} in the WARC, {stored!r} in the database")
        if info.type == "revisit":
            original = by_id.get(row["revisit_of"]) if row["revisit_of"] else None
            if original is None:
                diffs.append("revisit with no original capture (revisit_of)")
            else:
                if info.refers_to and original["warc_record_id"] and info.refers_to != original["warc_record_id"]:
                    diffs.append(f"WARC-Refers-To {info.refers_to} is not capture {original['id']}'s record {original['warc_record_id']}")
                if row["payload_sha256"] != original["payload_sha256"]:
                    diffs.append(f"payload sha256 differs from the original capture {original['id']}")
                # A server-not-modified revisit carries no payload digest (docs/warc.md).
                not_modified = row["http_status"] == 304 and row["warc_payload_digest"] is None
                if row["warc_payload_digest"] != original["warc_payload_digest"] and not not_modified:
                    diffs.append(f"WARC-Payload-Digest differs from the original capture {original['id']}")
        for message in diffs:
            problems.append(Problem("mismatch", f"{what}: {message}", row["warc_file"], row["warc_offset"], row["id"]))

    for hop in hops:
        if not hop["warc_file"]:
            continue
        what = f"hop {hop['hop']} of captures row {hop['capture_id']} ({hop['url']})"
        info = locate(hop, what, hop["capture_id"])
        if info is None:
            continue
        for name, found, stored in (
            ("WARC-Record-ID", info.record_id, hop["warc_record_id"]),
            ("length", info.length, hop["warc_length"]),
            ("WARC-Target-URI", info.target_uri, hop["url"]),
        ):
            if found != stored:
                problems.append(Problem("mismatch", f"{what}: {name} is {found!r} in the WARC, {stored!r} in the database", hop["warc_file"], hop["warc_offset"], hop["capture_id"]))
        if info.type in ("response", "revisit") and info.http_status != hop["http_status"]:
            problems.append(Problem("mismatch", f"{what}: HTTP status is {info.http_status} in the WARC, {hop['http_status']} in the database", hop["warc_file"], hop["warc_offset"], hop["capture_id"]))
    return problems


def _answer_of(result: FileResult, record_id: str | None) -> RecordInfo | None:
    """The metadata record holding the server's answer for a revisit with no block."""
    for info in result.records.values():
        if info.type == "metadata" and record_id and (info.refers_to == record_id or record_id in info.concurrent_to):
            return info
    return None


def _attachments(store) -> list[dict[str, Any]]:
    try:
        return store.rows("SELECT * FROM attachments ORDER BY id")
    except Exception:  # noqa: BLE001 -- a database from before browser capture has none
        return []


def _compare_attachments(attachments, files: dict[str, FileResult]) -> list[Problem]:
    """Screenshots, rendered DOMs, browser logs and media files against their records."""
    problems = []
    for row in attachments:
        what = f"attachments row {row['id']} ({row['kind']} of captures row {row['capture_id']})"
        result = files.get(row["warc_file"])
        if result is None or result.state == "missing":
            continue
        info = result.records.get(row["warc_offset"])
        if info is None:
            kind = "truncated" if row["warc_offset"] >= result.good_end else "unreadable"
            problems.append(Problem(kind, f"{what}: no readable record at {row['warc_file']} offset {row['warc_offset']}", row["warc_file"], row["warc_offset"], row["capture_id"]))
            continue
        expect = [
            ("length", info.length, row["warc_length"]),
            ("WARC-Record-ID", info.record_id, row["warc_record_id"]),
            ("WARC-Type", info.type, row["record_type"]),
            ("WARC-Target-URI", info.target_uri, row["uri"]),
            ("WARC-Truncated", info.truncated_header, row["truncated"]),
        ]
        if row["sha256"] is not None:
            expect += [("payload sha256", info.decoded_sha256, row["sha256"]), ("payload length", info.decoded_length, row["content_length"])]
        for name, found, stored in expect:
            if found != stored:
                problems.append(Problem("mismatch", f"{what}: {name} is {found!r} in the WARC, {stored!r} in the database", row["warc_file"], row["warc_offset"], row["capture_id"]))
    return problems


def _unaccounted(files: dict[str, FileResult], captures, hops, registered, attachments=()) -> list[Problem]:
    """WARC records that no row accounts for (e.g. the record of a deleted captures row)."""
    accounted: set[str] = {r["warc_record_id"] for r in captures if r["warc_record_id"]}
    accounted |= {h["warc_record_id"] for h in hops if h["warc_record_id"]}
    accounted |= {a["warc_record_id"] for a in attachments}
    # A failed fetch leaves a request record and a captures row without a WARC location.
    failed: dict[tuple[Any, Any], int] = {}
    for row in captures:
        if not row["warc_file"] and row["error"]:
            for url in (row["requested_url"], row["final_url"]):
                if url:
                    failed.setdefault((row["run_id"], url), 0)
                    failed[(row["run_id"], url)] += 1
    problems = []
    for result in files.values():
        run_id = (registered.get(result.path) or {}).get("run_id")
        for info in result.records.values():
            if info.type == "warcinfo" or info.record_id in accounted:
                continue
            if info.type in ("request", "metadata"):
                if any(target in accounted for target in info.concurrent_to):
                    continue
                if info.concurrent_to and info.type == "request":
                    continue  # its response is reported instead
                if not info.concurrent_to and failed.get((run_id, info.target_uri)):
                    continue
            problems.append(
                Problem(
                    "unaccounted",
                    f"{info.type} record {info.record_id} for {info.target_uri} at {result.path} offset {info.offset}: no row accounts for it",
                    result.path,
                    info.offset,
                )
            )
    return problems


def render_text(outcome: VerifyResult) -> str:
    lines = [f"PROBLEM {p.kind}: {p.message}" for p in outcome.problems]
    lines += [f"note: {n}" for n in outcome.notes]
    mb = outcome.bytes / 1e6
    scope = f" for {outcome.article}" if outcome.article else ""
    verdict = "no problems" if outcome.ok else f"{len(outcome.problems)} problems"
    lines.append(
        f"verified{scope}: {len(outcome.files)} WARC files ({mb:.1f} MB), {outcome.records} records, "
        f"{outcome.captures_checked} of {outcome.captures} captures rows in {outcome.seconds:.1f} s: {verdict}"
    )
    lines.append(f"chain head: {outcome.chain_head} ({outcome.captures} captures rows)")
    if outcome.seal_head:
        lines.append(f"seal head: {outcome.seal_head} (fixes the chain head and every row the report states; `archiver timestamp` signs it)")
    return "\n".join(lines)
