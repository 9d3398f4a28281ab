"""The archive directory: its layout, the run lock, crash recovery and the database inside it.

    DIR/archive.db        provenance database (SQLite, WAL)
    DIR/warcs/*.warc.gz   WARC files; ``*.warc.gz.open`` while a run writes them
    DIR/.lock             held by the run that writes (capture, recheck)
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from archiver.clock import iso_utc
from archiver.db.store import DB_NAME, Store
from archiver.errors import ArchiveError, ArchiveLocked
from archiver.warc.reader import OPEN_SUFFIX, resolve_warc_path
from archiver.warc.writer import file_sha256, recover_open_files

# Files a directory may hold and still be taken for a new, empty archive.
_HARMLESS = {"README.md", ".gitignore", ".gitkeep", ".lock", "warcs"}


def default_archive_dir() -> Path:
    """$ARCHIVER_HOME, else ./archive; run inside an archive directory (no ./archive, an
    ./archive.db), that directory: the report's "how to verify" commands run there."""
    if os.environ.get("ARCHIVER_HOME"):
        return Path(os.environ["ARCHIVER_HOME"])
    if not Path("archive").exists() and Path(DB_NAME).is_file():
        return Path(".")
    return Path("archive")


class ArchiveDir:
    """An archive directory. ``create`` makes a new one where there is none."""

    def __init__(self, path: Path | str, create: bool = False, readonly: bool = False) -> None:
        self.path = Path(path)
        self.db_path = self.path / DB_NAME
        self.warcs_dir = self.path / "warcs"
        self._lock_fh: IO[str] | None = None
        self._check(create)
        if create and not self.db_path.exists():
            self.path.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.db_path, readonly=readonly)
        if readonly:
            self.store.check_version()
        else:
            self.store.migrate()

    def _check(self, create: bool) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise ArchiveError(f"{self.path} is a file, not an archive directory: pass a directory with --archive")
        if self.db_path.exists():
            if not self.db_path.is_file():
                raise ArchiveError(f"{self.db_path} is not a database file")
            return
        if not create:
            raise ArchiveError(
                f"{self.path} holds no archive ({DB_NAME} is missing): capture something first, "
                f"or point --archive (or $ARCHIVER_HOME) at an archive directory"
            )
        if self.path.is_dir():
            strangers = [p.name for p in self.path.iterdir() if p.name not in _HARMLESS]
            if strangers:
                raise ArchiveError(
                    f"{self.path} is not an archive (no {DB_NAME}) and is not empty "
                    f"({', '.join(sorted(strangers)[:3])}...): use a new or empty directory with --archive"
                )

    def close(self) -> None:
        self.unlock()
        self.store.close()

    def __enter__(self) -> ArchiveDir:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the run lock -------------------------------------------------------------------------

    def lock(self, wait: bool = False, timeout: float | None = None) -> None:
        """Take the archive's write lock; raise ArchiveLocked when another run holds it.

        flock is released by the kernel when a process dies, so a killed run never
        leaves a stale lock behind.
        """
        lock_path = self.path / ".lock"
        fh = open(lock_path, "a+")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    fh.close()
                    raise
                if not wait or (deadline is not None and time.monotonic() >= deadline):
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown process"
                    fh.close()
                    raise ArchiveLocked(self.path, holder) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {iso_utc()}\n")
        fh.flush()
        self._lock_fh = fh

    def unlock(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.seek(0)
            self._lock_fh.truncate()
            self._lock_fh.flush()
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    @contextmanager
    def locked(self, wait: bool = False) -> Iterator[ArchiveDir]:
        self.lock(wait=wait)
        try:
            self.recover()
            yield self
        finally:
            self.unlock()

    # -- recovery ------------------------------------------------------------------------------

    def recover(self) -> list[tuple[str, int, int]]:
        """Repair what a killed run left: ``.open`` WARC files and runs still marked running.

        Only call while holding the lock: a live run's open file must not be touched.
        """
        repaired = recover_open_files(self.path)
        for relpath, kept, _cut in repaired:
            final = self.path / relpath
            self.store.warc_file_closed(relpath, kept, file_sha256(final) if final.exists() else None, repaired=True)
        self.store.close_stale_runs()
        return repaired

    def warc_path(self, relpath: str) -> Path:
        return resolve_warc_path(self.path, relpath)

    def open_warc_files(self) -> list[Path]:
        return sorted(self.warcs_dir.glob("*" + OPEN_SUFFIX)) if self.warcs_dir.is_dir() else []
