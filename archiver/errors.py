"""The exceptions archiver raises to its callers; every message says what to do.

Network trouble never raises: it is recorded as the capture's ``error`` (see docs/schema.md).
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class of every error archiver raises on purpose."""


class UsageError(ArchiverError):
    """A target or option the caller must fix."""


class NotFound(ArchiverError, LookupError):
    """An article, URL or capture the archive does not hold."""


class ArchiveError(ArchiverError):
    """A problem with the archive directory itself."""


class ArchiveLocked(ArchiveError):
    """Another run holds the archive's write lock."""

    def __init__(self, path: object, holder: str):
        self.holder = holder
        super().__init__(f"another archiver run ({holder}) is working on {path}")


class SchemaTooNew(ArchiveError):
    """The database was written by a newer archiver than this one."""


class ReadOnlyArchive(ArchiveError):
    """A write was asked of an archive opened read-only."""


class QueryError(ArchiverError):
    """SQL that SQLite refused."""


class ReadOnlyQuery(QueryError):
    """SQL that would change the database, refused by ``query``."""


class ExportError(ArchiverError):
    """An export that could not be written."""


class BrowserMissing(UsageError):
    """Browser capture was asked for and no Chromium is where archiver looked; the message says what to do."""


class BrowserFailed(ArchiverError):
    """Chromium could not be started (a run then fetches the page without it)."""
