"""archiver: capture an article and the sources it cites into WARC, with provenance in SQLite.

    import archiver
    with archiver.Archive("archive", create=True) as archive:
        archive.capture(["https://example.org/an-article.html"])

Everything public is importable from here; see docs/api.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/archiver-project/archiver"
USER_AGENT = f"archiver/{__version__} (+{PROJECT_URL})"

# Imported on first use, so that `archiver --help` does not pay for lxml, trafilatura and requests.
_LAZY = {
    "Archive": "archiver.archive",
    "FetchOptions": "archiver.options",
    "CaptureOptions": "archiver.options",
    "BrowserOptions": "archiver.options",
    "RecheckOptions": "archiver.options",
    "ArchiverError": "archiver.errors",
    "UsageError": "archiver.errors",
    "NotFound": "archiver.errors",
    "ArchiveError": "archiver.errors",
    "ArchiveLocked": "archiver.errors",
    "SchemaTooNew": "archiver.errors",
    "ReadOnlyArchive": "archiver.errors",
    "QueryError": "archiver.errors",
    "ReadOnlyQuery": "archiver.errors",
    "ExportError": "archiver.errors",
    "BrowserMissing": "archiver.errors",
}

__all__ = [
    "__version__",
    "USER_AGENT",
    "Archive",
    "FetchOptions",
    "CaptureOptions",
    "BrowserOptions",
    "RecheckOptions",
    "ArchiverError",
    "UsageError",
    "NotFound",
    "ArchiveError",
    "ArchiveLocked",
    "SchemaTooNew",
    "ReadOnlyArchive",
    "QueryError",
    "ReadOnlyQuery",
    "ExportError",
    "BrowserMissing",
]

if TYPE_CHECKING:
    from archiver.archive import Archive
    from archiver.errors import (
        ArchiveError,
        ArchiverError,
        ArchiveLocked,
        BrowserMissing,
        ExportError,
        NotFound,
        QueryError,
        ReadOnlyArchive,
        ReadOnlyQuery,
        SchemaTooNew,
        UsageError,
    )
    from archiver.options import BrowserOptions, CaptureOptions, FetchOptions, RecheckOptions


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'archiver' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
