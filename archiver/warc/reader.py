"""Reading one record back from the archive, at the (file, offset) a database row gives."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from archiver.warc.writer import resolve_warc_path


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
