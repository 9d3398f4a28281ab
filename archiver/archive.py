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
from typing import TYPE_CHECKING, Any, Callable, Iterable

from archiver.errors import ReadOnlyArchive, UsageError
from archiver.options import CaptureOptions, FetchOptions, RecheckOptions
from archiver.results import (
    ArticleInfo, CaptureResult, CdxjExport, Change, ImportResult, QueryResult, RecheckResult, SkippedLine, SourceInfo, TextDiff,
    TimestampToken, TrackingChange, Untracked, VerifyResult, WaczExport,
)

if TYPE_CHECKING:
    from archiver.outputs.wacz_sign import SigningIdentity
    from archiver.runs.mementos import MementoOptions, MementoResult
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

    def import_articles(
        self,
        source: str | Path | Iterable[str],
        options: CaptureOptions | None = None,
        *,
        fetch: FetchOptions | None = None,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Capture many articles at once: a file of URLs (or the lines themselves), one per line.

        Blank lines and ``#`` comments are ignored; a line that is not an http(s) URL is
        skipped with its reason (``result.skipped``) and does not stop the others. Each URL is
        captured as its own article, with its sources, in one capture run.
        """
        from archiver.db.tracking import read_url_list

        self._writable("import")
        if isinstance(source, (str, Path)):
            try:
                text = Path(source).read_text(encoding="utf-8-sig")
            except OSError as exc:
                raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
        else:
            text = "\n".join(source)
        lines, skipped = read_url_list(text)
        targets: list[Target] = []
        first_line: dict[str, int] = {}
        for number, line in lines:
            try:
                target = parse_target(line)
            except UsageError as exc:
                skipped.append((number, f"line {number}: {exc}"))
                continue
            if target.url in first_line:
                skipped.append((number, f"line {number}: {target.url} is on line {first_line[target.url]} already"))
                continue
            first_line[target.url] = number
            targets.append(target)
        skipped.sort()
        if not targets:
            raise UsageError("no URL to import" + (f" ({len(skipped)} lines skipped: {skipped[0][1]} ...)" if skipped else ""))
        captured = self.capture(targets, options, fetch=fetch, progress=progress)
        return ImportResult(captured, [SkippedLine(n, why) for n, why in skipped])

    def pause(self, article: str | None = None, source: str | None = None) -> TrackingChange:
        """Stop rechecking an article (URL or id) and, through it, its sources; or one source (a cited URL)."""
        from archiver.db.tracking import set_paused

        self._writable("pause")
        return TrackingChange(**set_paused(self.store, True, article=article, source=source))

    def resume(self, article: str | None = None, source: str | None = None) -> TrackingChange:
        """Recheck a paused article or source again."""
        from archiver.db.tracking import set_paused

        self._writable("resume")
        return TrackingChange(**set_paused(self.store, False, article=article, source=source))

    def untrack(self, article: str) -> Untracked:
        """Remove an article from tracking: no more rechecks of it, nor of sources no other tracked article cites.

        Nothing is deleted: its captures, versions, change events and WARC records stay (the
        result counts them). Capturing the article again tracks it again.
        """
        from archiver.db.tracking import untrack

        self._writable("untrack")
        return Untracked(**untrack(self.store, article))

    def _writable(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlyArchive(f"cannot {what}: {self.path} was opened read-only")

    # -- reading -------------------------------------------------------------------------------

    def changes(self, since: str | None = None, article: str | None = None, kinds: Iterable[str] = ()) -> list[Change]:
        """Change events, oldest first; ``since`` is an ISO 8601 date or time, ``article`` a URL or id."""
        from archiver.db.queries import change_events

        return [Change(**event) for event in change_events(self.store, since=since, article=article, kinds=list(kinds))]

    def articles(self, tracking: str | None = None) -> list[ArticleInfo]:
        """Every article with its tracking state (tracked, paused, untracked), versions and its sources' states."""
        from archiver.db.tracking import list_articles

        if tracking not in (None, "tracked", "paused", "untracked"):
            raise UsageError(f"tracking {tracking!r}: choose tracked, paused or untracked")
        return [ArticleInfo(**row) for row in list_articles(self.store, tracking)]

    def sources(self, article: str | None = None, status: str | None = None) -> list[SourceInfo]:
        """Cited sources (of one article, or all) with their status: ok, failing, gone, soft_404 or paused."""
        from archiver.db.tracking import list_sources

        return [SourceInfo(**row) for row in list_sources(self.store, article, status)]

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

    def verify(
        self, article: str | None = None, head: str | None = None, progress: Callable[[str, int, int], None] | None = None, tsa_roots: str | None = None,
        deep: bool = False,
    ) -> VerifyResult:
        """Recompute every hash from the WARC files, compare with the database, check the hash chain.

        ``head``: a chain head published earlier, which must still be in the chain.
        ``tsa_roots``: PEM roots to check every timestamp token against (default: those stored with it).
        ``deep``: also re-extract texts, re-find citations and quotations and re-judge changes from the records.
        """
        from archiver.outputs.verify import verify_archive

        return verify_archive(self.directory, article=article, head=head, progress=progress, tsa_roots=tsa_roots, deep=deep)

    def mementos(
        self, options: MementoOptions | None = None, article: str | None = None, article_ids: list[int] | None = None,
        fetch: FetchOptions | None = None, progress: Progress | None = None,
    ) -> MementoResult:
        """Look up each cited source in public web archives (Memento, RFC 7089) around the day it was cited,
        fetch the mementos into the WARC and compare them with archiver's first capture; with
        ``options.submit``, also ask the save endpoint to archive each source. Every article, or one
        (``article``: URL or id), or some (``article_ids``).
        """
        from archiver.runs.mementos import MementoOptions, MementoRun

        self._writable("look up mementos")
        options = _with_fetch(options or MementoOptions(), fetch)
        return MementoRun(self.directory, options, progress).run(article, article_ids)

    def timestamp(self, tsa: str | None = None, tsa_roots: str | None = None, timeout: float = 30.0, proxy: str | None = None) -> TimestampToken:
        """An RFC 3161 token over the current chain head from the TSA at ``tsa`` (stored in the database and a WARC).

        ``tsa_roots``: PEM bundle the TSA's certificate must chain to (default: certifi's Mozilla roots).
        Raises :class:`~archiver.proof.rfc3161.TimestampError` when the TSA gives no token that verifies.
        """
        from archiver.runs.timestamp import timestamp_archive

        self._writable("timestamp")
        return timestamp_archive(self.directory, tsa, tsa_roots, timeout=timeout, proxy=proxy)

    def export_wacz(
        self, output: str | Path, article: str | None = None, sign: SigningIdentity | None = None,
        progress: Progress | None = None,
    ) -> WaczExport:
        """A WACZ package (for ReplayWeb.page) of the whole archive, or of one article and its sources.

        ``sign``: sign its datapackage-digest.json per the WACZ signing spec (archiver.outputs.wacz_sign).
        """
        from archiver.outputs.export import export_wacz

        exported = export_wacz(self.directory, Path(output), article=article, progress=progress)
        if sign is not None:
            from archiver.outputs.wacz_sign import sign_wacz

            try:
                exported.signed = sign_wacz(Path(output), sign)
            except BaseException:
                Path(output).unlink(missing_ok=True)  # asked for a signed package: no unsigned one left in its place
                raise
        return exported

    def export_cdxj(self, output: str | Path, progress: Progress | None = None) -> CdxjExport:
        """A sorted CDXJ index (for pywb) of every closed WARC file."""
        from archiver.outputs.export import export_cdxj

        return export_cdxj(self.directory, Path(output), progress=progress)

    def query(self, sql: str, params: dict[str, Any] | tuple[Any, ...] | None = None) -> QueryResult:
        """Read-only SQL on the database; a statement that would write raises :class:`~archiver.errors.ReadOnlyQuery`."""
        from archiver.db.sqlquery import run_query

        columns, rows = run_query(self.db_path, sql, params)
        return QueryResult(columns, rows)


def _with_fetch(options: Any, fetch: FetchOptions | None) -> Any:
    return options if fetch is None else replace(options, fetch=fetch)
