"""The public API: one :class:`Archive` with a method for each thing archiver does.

    import archiver

    with archiver.Archive("archive", create=True) as archive:      # write lock taken, crashes repaired
        result = archive.capture(["https://example.org/an-article.html"])
        archive.recheck()
    with archiver.Archive("archive", readonly=True) as archive:    # beside a running capture
        print(archive.report("https://example.org/an-article.html", format="md"))

The command line is a thin layer over these calls (docs/api.md shows each with its CLI twin).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable

from archiver.errors import ReadOnlyArchive, UsageError
from archiver.options import CaptureOptions, FetchOptions, RecheckOptions
from archiver.results import CaptureResult, CdxjExport, Change, QueryResult, RecheckResult, TextDiff, VerifyResult, WaczExport
from archiver.runs.targets import Target, parse_target
from archiver.runs.directory import ArchiveDir, default_archive_dir

Progress = Callable[[int, int, str], None]  # (done, total, what is being worked on)

REPORT_FORMATS = ("md", "html", "json")


class Archive:
    """An archive directory (``archive.db`` + ``warcs/``), opened for writing or for reading.

    Opened for writing (the default), it holds the archive's write lock until :meth:`close`
    and repairs what a killed run left behind (``.open`` WARC files, runs still marked
    running). ``wait`` says what to do when another run holds the lock: ``False`` raise
    :class:`~archiver.errors.ArchiveLocked` at once, ``True`` wait for it, a number wait
    that many seconds. Opened with ``readonly=True`` it takes no lock and can be read while
    another process writes; :meth:`capture` and :meth:`recheck` then raise
    :class:`~archiver.errors.ReadOnlyArchive`.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        create: bool = False,
        readonly: bool = False,
        wait: bool | float = False,
    ) -> None:
        self.directory = ArchiveDir(path if path is not None else default_archive_dir(), create=create, readonly=readonly)
        self.readonly = readonly
        if not readonly:
            try:
                timeout = None if wait is True or wait is False else float(wait)
                self.directory.lock(wait=wait is not False, timeout=timeout)
                self.directory.recover()
            except BaseException:
                self.directory.close()
                raise

    @property
    def path(self) -> Path:
        return self.directory.path

    @property
    def db_path(self) -> Path:
        return self.directory.db_path

    @property
    def store(self):
        """The open database (:class:`archiver.db.store.Store`), for SQL of your own."""
        return self.directory.store

    def close(self) -> None:
        """Release the lock and close the database."""
        self.directory.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Archive {str(self.path)!r}{' read-only' if self.readonly else ''}>"

    # -- writing -------------------------------------------------------------------------------

    def capture(
        self,
        targets: Iterable[str | Path | Target],
        options: CaptureOptions | None = None,
        *,
        fetch: FetchOptions | None = None,
        progress: Progress | None = None,
    ) -> CaptureResult:
        """Capture each target (an http(s) URL or a local HTML, Markdown or text file) and every source it cites.

        Network trouble never raises: each failure is in the result (and the database)
        with its reason. Raises :class:`~archiver.errors.UsageError` for a target that is
        neither a URL nor a readable file.
        """
        from archiver.net.browser import prepare_browser
        from archiver.runs.capture import CaptureRun

        self._writable("capture")
        parsed = [t if isinstance(t, Target) else parse_target(str(t)) for t in targets]
        if not parsed:
            raise UsageError("nothing to capture: give at least one URL or file")
        options = _with_fetch(options or CaptureOptions(), fetch)
        prepare_browser(options)
        return CaptureRun(self.directory, options, progress).run(parsed)

    def recheck(
        self,
        options: RecheckOptions | None = None,
        *,
        fetch: FetchOptions | None = None,
        progress: Progress | None = None,
    ) -> RecheckResult:
        """Fetch the tracked articles and cited sources again (those due, unless ``options.due_only`` is off) and record what changed."""
        from archiver.runs.recheck import RecheckRun

        self._writable("recheck")
        options = _with_fetch(options or RecheckOptions(), fetch)
        return RecheckRun(self.directory, options, progress).run()

    def _writable(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlyArchive(f"cannot {what}: {self.path} was opened read-only")

    # -- reading -------------------------------------------------------------------------------

    def changes(self, since: str | None = None, article: str | None = None, kinds: Iterable[str] = ()) -> list[Change]:
        """Change events, oldest first; ``since`` is an ISO 8601 date or time, ``article`` a URL or id."""
        from archiver.db.queries import change_events

        return [Change(**event) for event in change_events(self.store, since=since, article=article, kinds=list(kinds))]

    def diff(self, url: str, from_capture: int | None = None, to_capture: int | None = None) -> TextDiff:
        """Word-level diff of the main text of ``url`` (default: its latest two captures whose texts differ)."""
        from archiver.analyze.diff import word_diff
        from archiver.db.queries import capture_texts

        (old_id, old), (new_id, new) = capture_texts(self.store, url, from_capture, to_capture)
        return TextDiff(url, old_id, new_id, old, new, word_diff(old, new) if old != new else [])

    def report(self, article: str, format: str = "md", replay_base: str | None = None) -> str:
        """The provenance report of an article (URL or id) as Markdown, self-contained HTML or JSON."""
        from archiver.outputs.report import build_report

        if format not in REPORT_FORMATS:
            raise UsageError(f"report format {format!r}: choose one of {', '.join(REPORT_FORMATS)}")
        return build_report(self.store, article, format, replay_base=replay_base, archive_dir=str(self.path))

    def report_data(self, article: str, replay_base: str | None = None) -> dict[str, Any]:
        """The report as data (the JSON report's shape: docs/report-json.md)."""
        from archiver.outputs.report import gather_report

        return gather_report(self.store, article, replay_base=replay_base, archive_dir=str(self.path))

    def verify(self, article: str | None = None, head: str | None = None, progress: Callable[[str, int, int], None] | None = None) -> VerifyResult:
        """Recompute every hash from the WARC files, compare with the database, check the hash chain.

        ``head``: a chain head published earlier, which must still be in the chain.
        """
        from archiver.outputs.verify import verify_archive

        return verify_archive(self.directory, article=article, head=head, progress=progress)

    def export_wacz(self, output: str | Path, article: str | None = None) -> WaczExport:
        """A WACZ package (for ReplayWeb.page) of the whole archive, or of one article and its sources."""
        from archiver.outputs.export import export_wacz

        return export_wacz(self.directory, Path(output), article=article)

    def export_cdxj(self, output: str | Path) -> CdxjExport:
        """A sorted CDXJ index (for pywb) of every closed WARC file."""
        from archiver.outputs.export import export_cdxj

        return export_cdxj(self.directory, Path(output))

    def query(self, sql: str, params: dict[str, Any] | tuple[Any, ...] | None = None) -> QueryResult:
        """Read-only SQL on the database; a statement that would write raises :class:`~archiver.errors.ReadOnlyQuery`."""
        from archiver.db.sqlquery import run_query

        columns, rows = run_query(self.db_path, sql, params)
        return QueryResult(columns, rows)


def _with_fetch(options: Any, fetch: FetchOptions | None) -> Any:
    return options if fetch is None else replace(options, fetch=fetch)
