"""WARC writing: records, gzip members, file naming, rotation and crash recovery.

Only this module writes WARC files. Each record is one gzip member, so any record can
be read alone from (offset, length). Files are written as ``NAME.warc.gz.open`` and
renamed when closed; a file left ``.open`` by a killed run is repaired by
:func:`recover_open_files` (a partial last record is cut off, the file is renamed).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import BinaryIO, Iterable

from archiver import __version__
from archiver.clock import iso_utc
from archiver.options import WARC_SIZE
from archiver.warc.reader import OPEN_SUFFIX, whole_members_end

WARC_VERSION = "WARC/1.1"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
_COPY_CHUNK = 1 << 16

Block = bytes | BinaryIO


def warc_date(moment: datetime) -> str:
    """WARC 1.1 date: UTC, ISO 8601, millisecond precision (the database's format too)."""
    return iso_utc(moment)


def sha256_digest_label(hexdigest: str) -> str:
    """A sha256 hex digest as a WARC digest value: ``sha256:`` + base32."""
    return "sha256:" + base64.b32encode(bytes.fromhex(hexdigest)).decode("ascii")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


@dataclass
class WrittenRecord:
    """Where a record landed: file (relative to the archive), offset and length of its gzip member."""

    record_id: str
    warc_file: str
    offset: int
    length: int
    date: str


@dataclass
class Record:
    """A WARC record to write. ``block`` parts are concatenated; file parts are read from their start."""

    type: str
    headers: list[tuple[str, str]]
    block: list[Block] = field(default_factory=list)
    block_sha256: str | None = None  # hex; computed here when not given

    def block_length(self) -> int:
        total = 0
        for part in self.block:
            if isinstance(part, (bytes, bytearray)):
                total += len(part)
            else:
                part.seek(0, os.SEEK_END)
                total += part.tell()
        return total


def _iter_block(parts: Iterable[Block]) -> Iterable[bytes]:
    for part in parts:
        if isinstance(part, (bytes, bytearray)):
            if part:
                yield bytes(part)
            continue
        part.seek(0)
        while chunk := part.read(_COPY_CHUNK):
            yield chunk


def _header_bytes(headers: list[tuple[str, str]]) -> bytes:
    lines = [WARC_VERSION]
    for name, value in headers:
        # A header value must not break the record's framing.
        clean = re.sub(r"[\r\n]+", " ", str(value))
        lines.append(f"{name}: {clean}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _safe_host(host: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", host)[:63] or "localhost"


class WarcFileWriter:
    """Writes records to WARC files under ``archive_dir/warcs``, rotating at ``max_size`` bytes.

    Names follow the IIPC convention ``prefix-timestamp-serial-host.warc.gz``.
    ``warcinfo_fields`` are written in a warcinfo record opening each file.
    """

    def __init__(
        self,
        archive_dir: Path,
        prefix: str = "archiver",
        max_size: int = WARC_SIZE,
        warcinfo_fields: dict[str, str] | None = None,
        on_open=None,
        on_close=None,
    ) -> None:
        self.archive_dir = Path(archive_dir)
        self.directory = self.archive_dir / "warcs"
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", prefix) or "archiver"
        self.max_size = max_size
        self.warcinfo_fields = dict(warcinfo_fields or {})
        self.host = _safe_host(socket.gethostname())
        self._serial = 0
        self._fh: BinaryIO | None = None
        self._path: Path | None = None  # final name, without .open
        self._warcinfo_id: str | None = None
        self._on_open = on_open
        self._on_close = on_close
        # Set when a failed write could not be undone: the file is then left ``.open``
        # for recover_open_files to cut back to its last whole record.
        self._broken = False

    # -- files ---------------------------------------------------------------------------

    @property
    def current_relpath(self) -> str | None:
        return self._path.relative_to(self.archive_dir).as_posix() if self._path else None

    def _open_new(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
        while True:
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}.warc.gz"
            final = self.directory / name
            self._serial += 1
            if final.exists() or (self.directory / (name + OPEN_SUFFIX)).exists():
                continue
            try:
                # 'xb': never overwrite, even when another process picked the same name.
                # Unbuffered: a failed write can be undone exactly (see _write), and no
                # buffer is left to spill bytes after a cut.
                self._fh = open(str(final) + OPEN_SUFFIX, "xb", buffering=0)
            except FileExistsError:
                continue
            break
        self._path = final
        if self._on_open:
            self._on_open(self.current_relpath)
        self._warcinfo_id = None
        try:
            self._write_warcinfo(name)
        except BaseException:
            # Not even the warcinfo record is whole: drop the file rather than keep an empty WARC.
            fh, self._fh, self._path = self._fh, None, None
            fh.close()
            if not self._broken:
                try:
                    os.unlink(str(final) + OPEN_SUFFIX)
                except OSError:
                    pass
            self._broken = False
            raise

    def _write_warcinfo(self, filename: str) -> None:
        fields = {
            "software": f"archiver/{__version__}",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            **self.warcinfo_fields,
        }
        body = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        record_id = new_record_id()
        record = Record(
            "warcinfo",
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Record-ID", record_id),
                ("WARC-Date", warc_date(datetime.now(UTC))),
                ("WARC-Filename", filename),
                ("Content-Type", "application/warc-fields"),
            ],
            [body],
        )
        self._write(record)
        self._warcinfo_id = record_id

    def close(self) -> None:
        """Fsync and rename the open file to its final name.

        A file whose last write failed and could not be cut back is left ``.open`` (and
        so is one whose fsync failed): the next run's recovery repairs it.
        """
        if not self._fh:
            return
        fh, final, relpath = self._fh, self._path, self.current_relpath
        assert final is not None and relpath is not None  # set together with _fh
        self._fh = None
        self._path = None
        broken, self._broken = self._broken, False
        try:
            if broken:
                return
            os.fsync(fh.fileno())
        finally:
            fh.close()
        os.replace(str(final) + OPEN_SUFFIX, final)
        _fsync_dir(self.directory)
        if self._on_close:
            self._on_close(relpath, final)

    def __enter__(self) -> WarcFileWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- records -------------------------------------------------------------------------

    def write(self, record: Record) -> WrittenRecord:
        """Append one record (rotating first when the file is full); returns where it went."""
        if self._broken:
            raise OSError("an earlier write to this WARC file failed and could not be undone; it is left for recovery")
        if self._fh is None:
            self._open_new()
        elif self._fh.tell() >= self.max_size:
            self.close()
            self._open_new()
        if self._warcinfo_id and not any(n == "WARC-Warcinfo-ID" for n, _ in record.headers):
            record.headers.append(("WARC-Warcinfo-ID", self._warcinfo_id))
        return self._write(record)

    def flush(self) -> None:
        """Make everything written so far durable (call before the database points at it)."""
        if self._fh:
            try:
                os.fsync(self._fh.fileno())
            except OSError:
                # What the kernel held may be lost: nothing more goes into this file.
                self._broken = True
                raise

    def _write(self, record: Record) -> WrittenRecord:
        assert self._fh is not None
        length = record.block_length()
        if record.block_sha256 is None:
            digest = hashlib.sha256()
            for chunk in _iter_block(record.block):
                digest.update(chunk)
            record.block_sha256 = digest.hexdigest()
        headers = [(n, v) for n, v in record.headers if n.lower() != "content-length"]
        if not any(n == "WARC-Block-Digest" for n, _ in headers):
            headers.append(("WARC-Block-Digest", sha256_digest_label(record.block_sha256)))
        headers.append(("Content-Length", str(length)))
        offset = self._fh.tell()
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip wrapper, one member per record
        fd = self._fh.fileno()
        try:
            _write_all(fd, compressor.compress(_header_bytes(headers)))
            for chunk in _iter_block(record.block):
                _write_all(fd, compressor.compress(chunk))
            _write_all(fd, compressor.compress(b"\r\n\r\n"))
            _write_all(fd, compressor.flush())
        except BaseException as exc:
            # Disk full, read-only remount, an interrupt: cut the partial member off so
            # the file still ends with a whole record.
            try:
                os.ftruncate(fd, offset)
                os.lseek(fd, offset, os.SEEK_SET)
            except OSError:
                self._broken = True
            if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
                raise OSError(exc.errno, exc.strerror, str(self._path) + OPEN_SUFFIX) from exc
            raise
        end = self._fh.tell()
        record_id = dict(headers)["WARC-Record-ID"]
        relpath = self.current_relpath
        assert relpath is not None  # a file is open
        return WrittenRecord(record_id, relpath, offset, end - offset, dict(headers)["WARC-Date"])


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    """SHA-256 of a whole WARC file, read in chunks (recorded in warc_files when it closes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def recover_open_files(archive_dir: Path) -> list[tuple[str, int, int]]:
    """Repair WARC files a killed run left ``.open``: cut any partial last record, then close them.

    Returns (final relative path, bytes kept, bytes cut) for each file repaired.
    """
    directory = Path(archive_dir) / "warcs"
    repaired: list[tuple[str, int, int]] = []
    if not directory.is_dir():
        return repaired
    for open_path in sorted(directory.glob("*" + OPEN_SUFFIX)):
        size = open_path.stat().st_size
        with open(open_path, "rb") as fh:
            keep = whole_members_end(fh)
        final = Path(str(open_path)[: -len(OPEN_SUFFIX)])
        if keep == 0:
            # Not even the warcinfo record made it: nothing to keep.
            open_path.unlink()
            repaired.append((final.relative_to(archive_dir).as_posix(), 0, size))
            continue
        if keep < size:
            with open(open_path, "r+b") as fh:
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(open_path, final)
        repaired.append((final.relative_to(archive_dir).as_posix(), keep, size - keep))
    if repaired:
        _fsync_dir(directory)
    return repaired
