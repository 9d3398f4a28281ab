"""Reading WARC files as archiver writes them: one gzip member per record.

:func:`members` walks a file member by member in bounded chunks, so a record of any size
is never held in memory, and reports where each member starts and ends, where the file is
damaged, and where a member is cut short. Crash recovery (the last whole record of an
``.open`` file) and ``archiver verify`` (every record, damage located) both read through it.
:func:`open_record` reads one record back, at the (file, offset) a database row gives.
"""

from __future__ import annotations

import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

CHUNK = 1 << 20
OPEN_SUFFIX = ".open"  # a WARC file a run is still writing
GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass
class MemberStart:
    offset: int


@dataclass
class MemberData:
    """Decompressed bytes of the current member (at most CHUNK at a time)."""

    data: bytes


@dataclass
class MemberEnd:
    offset: int
    end: int  # offset just past the member


@dataclass
class MemberError:
    """The member starting at ``offset`` is corrupt; reading resumes at ``resumed_at`` (None: it does not)."""

    offset: int
    reason: str
    resumed_at: int | None


@dataclass
class MemberCut:
    """The file ends inside the member starting at ``offset`` (``end`` = the file's length)."""

    offset: int
    end: int


MemberEvent = MemberStart | MemberData | MemberEnd | MemberError | MemberCut


def members(fh: BinaryIO, resync: bool = True, on_raw: Callable[[bytes], None] | None = None) -> Iterator[MemberEvent]:
    """Events for every gzip member of ``fh``, read from its start.

    After a corrupt member, ``resync`` looks for the next gzip header and reads on from
    there (verify); without it the walk stops (recovery). ``on_raw`` sees every byte of the
    file in order as it is read, for a whole-file hash, until the walk first jumps.
    """
    pos = 0  # file offset of pending's first byte
    offset = 0  # start of the current member
    decomp = None
    pending = b""
    jumped = False
    while True:
        if not pending:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            if on_raw is not None and not jumped:
                on_raw(chunk)
            pending = chunk
        if decomp is None:
            offset = pos
            decomp = zlib.decompressobj(31)
            yield MemberStart(offset)
        try:
            out = decomp.decompress(pending, CHUNK)
        except zlib.error as exc:
            reason = "CRC check failed" if "check" in str(exc) else str(exc)
            found = find_magic(fh, offset + 1) if resync else None
            jumped = True
            yield MemberError(offset, reason, found)
            if found is None:
                return
            decomp = None
            pending = b""
            fh.seek(found)
            pos = found
            continue
        if out:
            yield MemberData(out)
        if decomp.eof:
            # At eof unused_data holds all input past the member; unconsumed_tail may be stale.
            rest = decomp.unused_data
            pos += len(pending) - len(rest)
            pending = rest
            yield MemberEnd(offset, pos)
            decomp = None
        elif decomp.unconsumed_tail:
            pos += len(pending) - len(decomp.unconsumed_tail)
            pending = decomp.unconsumed_tail
        else:
            pos += len(pending)
            pending = b""
    if decomp is not None:
        yield MemberCut(offset, pos)


def find_magic(fh: BinaryIO, start: int) -> int | None:
    """Offset of the next gzip member header at or after ``start``."""
    fh.seek(start)
    position, carry = start, b""
    while chunk := fh.read(CHUNK):
        data = carry + chunk
        found = data.find(GZIP_MAGIC)
        if found >= 0:
            return position - len(carry) + found
        carry = data[-2:]
        position += len(chunk)
    return None


def whole_members_end(fh: BinaryIO) -> int:
    """Offset just past the last complete gzip member from the start: the end of the last whole record.

    A member whose CRC trailer is present and valid holds a whole record; a member cut
    short by a crash, and everything after a corrupt one, do not count.
    """
    good_end = 0
    for event in members(fh, resync=False):
        if isinstance(event, MemberEnd):
            good_end = event.end
    return good_end


def resolve_warc_path(archive_dir: Path, relpath: str) -> Path:
    """The file a database row names; while its run is still writing it carries ``.open``."""
    path = Path(archive_dir) / relpath
    if not path.exists() and Path(str(path) + OPEN_SUFFIX).exists():
        return Path(str(path) + OPEN_SUFFIX)
    return path


@contextmanager
def open_record(archive_dir: Path | str, warc_file: str, offset: int) -> Iterator[ArcWarcRecord]:
    """The warcio record at ``offset``; its ``content_stream()`` gives the decoded payload."""
    with open(resolve_warc_path(Path(archive_dir), warc_file), "rb") as fh:
        fh.seek(offset)
        yield next(iter(ArchiveIterator(fh)))


def read_payload(archive_dir: Path | str, warc_file: str, offset: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of a record's decoded payload."""
    with open_record(archive_dir, warc_file, offset) as record:
        return record.content_stream().read(limit)
