"""One recheck run, top to bottom: which URLs are due, fetch them, store, classify, re-find quotations.

    due URLs (per-URL schedule, or --all) -> conditional fetch
    unchanged payload -> revisit record; else full response + extracted text
    classify against the last good capture -> changes row; schedule the next check
    re-locate the quotations found in that source -> quote_checks rows
    a tracked article fetched whole and edited -> a new article version (runs/versions.py),
                                                  its citations added or removed -> changes row
"""

from __future__ import annotations

from typing import Any, Callable

from archiver import __version__
from archiver.runs.directory import ArchiveDir
from archiver.clock import iso_utc
from archiver.net.fetch import Fetcher, FetchResult
from archiver.options import MAX_SOURCES, RecheckOptions
from archiver.results import Change, QuoteChange, RecheckResult
from archiver.runs.browse import BrowserPages
from archiver.runs.recorder import Captured, Recorder, RevisitPlan, close_run
from archiver.runs.judge import Judge
from archiver.runs.versions import cited_urls, find_article_links, limit_sources, save_quotes, save_version
from archiver.analyze.text import EXTRACT_LIMIT
from archiver.runs.schedule import MIN_INTERVAL
from archiver.db.queries import find_article, original_capture, text_of_capture
from archiver.warc.writer import sha256_digest_label

RESUME_WINDOW = MIN_INTERVAL  # an interrupted recheck this recent is resumed, not redone

Progress = Callable[[int, int, str], None]


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def tracked_urls(archive: ArchiveDir, article: str | None = None, due_only: bool = True) -> list[dict[str, Any]]:
    """URLs a recheck looks at: articles fetched from the web and their cited sources.

    Articles removed from tracking or paused, and URLs paused, are left out (``archiver pause``).
    """
    store = archive.store
    where, params = "", []
    if article is not None:
        row = find_article(store, article)
        where, params = "AND a.id = ?", [row["id"]]
    rows = store.rows(
        f"""
        SELECT DISTINCT u.* FROM urls u WHERE u.id IN (
            SELECT c.url_id FROM citations c JOIN articles a ON a.id = c.article_id
             WHERE c.cited = 1 AND c.url_id IS NOT NULL AND a.untracked_at IS NULL AND a.paused_at IS NULL {where}
            UNION
            SELECT a.url_id FROM articles a WHERE a.source = 'web' AND a.untracked_at IS NULL AND a.paused_at IS NULL {where}
        ) AND u.paused_at IS NULL AND (u.url LIKE 'http://%' OR u.url LIKE 'https://%')
        ORDER BY u.id
        """,
        params + params,
    )
    if due_only:
        now = iso_utc()
        rows = [r for r in rows if r["next_check_at"] is None or r["next_check_at"] <= now]
    return rows


class RecheckRun:
    def __init__(self, archive: ArchiveDir, options: RecheckOptions, progress: Progress | None = None):
        self.archive = archive
        self.store = archive.store
        self.options = options
        self.progress = progress

    def run(self) -> RecheckResult:
        urls = tracked_urls(self.archive, self.options.article, self.options.due_only)
        settings = self.options.settings()
        # Resuming after a crash: a URL the interrupted run(s) already judged is not checked
        # again; one whose capture was recorded but not yet judged is judged from that capture.
        resumes = self.store.interrupted_runs(
            "recheck",
            lambda args: args.get("article") == self.options.article and args.get("due_only") == self.options.due_only,
            RESUME_WINDOW,
        )
        recorded = {}
        for captured in self.store.captures_of_runs(resumes).values():
            recorded[captured["url_id"]] = captured
        pending: list[dict[str, Any]] = []
        unjudged: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for url_row in urls:
            row = recorded.get(url_row["id"])
            if row is None:
                pending.append(url_row)
            elif not url_row["last_checked_at"] or url_row["last_checked_at"] < row["fetched_at"]:
                unjudged.append((url_row, row))
        run_args = dict(settings, resumes=resumes) if resumes else settings
        run_id = self.store.start_run("recheck", run_args, f"archiver/{__version__}")
        self.run_id = run_id
        changes: list[Change] = []
        quote_changes: list[QuoteChange] = []
        checked = failed = 0
        status = "failed"
        failure: BaseException | None = None
        total = len(pending) + len(unjudged)
        recorder = Recorder(self.archive, run_id, settings, self.options.warc_size)
        self.fetcher = Fetcher(self.options.fetch)
        self.judge = Judge(self.store, run_id, self.fetcher, self.options.confirm, self.options.noise_delay)
        # Tracked articles fetched whole are read again for their links (a new version when edited).
        self.articles = {r["url_id"] for r in self.store.rows("SELECT url_id FROM articles WHERE source = 'web'")}
        self.article_changes: list[Change] = []
        in_browser = self._browser_baselines() if self.options.browser else set()
        pages = BrowserPages(self.archive, recorder, run_id, self.fetcher, self.options.browser_options) if in_browser else None
        try:
            by_url = {row["url"]: row for row in pending}
            jobs = [(row["url"], self._conditional_headers(row["id"])) for row in pending if row["id"] not in in_browser]
            outcomes = ((url_row, self._judge(url_row, row, self._last_good(url_row["id"]))) for url_row, row in unjudged)
            fetched = ((by_url[url], self._check_result(by_url[url], result, recorder)) for url, result in self.fetcher.fetch_many(jobs))
            browsed = ((url_row, self._check_in_browser(url_row, pages)) for url_row in pending if url_row["id"] in in_browser)
            for done, (url_row, (change, quotes, ok)) in enumerate(_chain(outcomes, fetched, browsed), 1):
                checked += 1
                failed += 0 if ok else 1
                if change:
                    changes.append(change)
                changes.extend(self.article_changes)  # an article's citations changed with its text
                self.article_changes.clear()
                quote_changes.extend(quotes)
                if self.progress:
                    self.progress(done, total, url_row["url"])
            status = "finished"
        except BaseException as exc:
            failure = exc
            raise
        finally:
            close_run(
                self.store,
                run_id,
                status,
                lambda: {"urls_total": total, "captured": checked - failed, "failed": failed, "changes": len(changes)},
                failure,
                *([pages.close] if pages else []),
                recorder.close,
                self.fetcher.close,
            )
        return RecheckResult(run_id, checked, failed, changes, quote_changes)

    def _browser_baselines(self) -> set[int]:
        """URLs captured in the browser before (not in its plain fallback): rechecked in it again."""
        return {r["id"] for r in self.store.rows("SELECT DISTINCT url_id AS id FROM browser_loads WHERE error IS NULL")}

    def _check_in_browser(self, url_row: dict[str, Any], pages: BrowserPages | None):
        last_good = self._last_good(url_row["id"])
        assert pages is not None  # made whenever a URL is rechecked in the browser
        page = pages.capture(url_row["id"], url_row["url"])
        verdict = self._judge(url_row, page.row, last_good, fresh=page.captured)
        if url_row["id"] in self.articles and page.row.get("http_status") == 200 and page.row.get("record_type") == "response":
            self._article_edit(url_row, page.captured, page.data, page.content_type)
        return verdict

    def _check_result(self, url_row: dict[str, Any], result: FetchResult, recorder: Recorder):
        try:
            return self._check(url_row, result, recorder)
        finally:
            result.close()

    # -- one URL ---------------------------------------------------------------------------

    def _last_good(self, url_id: int) -> dict[str, Any] | None:
        return self.judge.baseline(url_id)

    def _conditional_headers(self, url_id: int) -> dict[str, str]:
        last = self._last_good(url_id)
        headers = {}
        if last and last.get("etag"):
            headers["If-None-Match"] = last["etag"]
        if last and last.get("last_modified"):
            headers["If-Modified-Since"] = last["last_modified"]
        return headers

    def _check(self, url_row: dict[str, Any], result: FetchResult, recorder: Recorder) -> tuple[Change | None, list[QuoteChange], bool]:
        url_id = url_row["id"]
        last_good = self._last_good(url_id)
        final = result.final
        revisit = None
        if last_good is not None and final is not None and final.status is not None and result.error is None:
            original = original_capture(self.store, last_good)
            if final.status == 304:
                revisit = RevisitPlan("not_modified", original, original.get("warc_record_id"))
            elif (
                final.status == 200
                and original.get("warc_payload_digest")
                and final.body_sha256
                and sha256_digest_label(final.body_sha256) == original["warc_payload_digest"]
                and final.url == original.get("final_url")
            ):
                revisit = RevisitPlan("identical", original, original.get("warc_record_id"))
        captured = recorder.record_fetch(url_id, result, revisit=revisit)
        verdict = self._judge(url_row, captured.row, last_good, fresh=captured, second_look=True)
        if revisit is None and final is not None and final.status == 200 and final.decoded is not None and url_id in self.articles:
            final.decoded.seek(0)
            self._article_edit(url_row, captured, final.decoded.read(EXTRACT_LIMIT), final.content_type)
        return verdict

    def _article_edit(self, url_row: dict[str, Any], captured: Captured, data: bytes, content_type: str | None) -> None:
        """A tracked article fetched whole: when its text or its citations differ from its latest
        version, the fetch is a new version (citations added or removed: a change event)."""
        row = captured.row
        article = self.store.row("SELECT * FROM articles WHERE url_id = ? AND source = 'web'", (url_row["id"],))
        if article is None or not data:
            return
        links = find_article_links(data, content_type, row.get("final_url") or url_row["url"], url_row["url"])
        limit_sources(links, MAX_SOURCES, False)
        latest = self.store.row("SELECT * FROM article_versions WHERE article_id = ? ORDER BY version DESC LIMIT 1", (article["id"],))
        if latest is not None:
            before = [r["url"] for r in self.store.rows(
                """SELECT DISTINCT u.url FROM version_citations vc JOIN urls u ON u.id = vc.url_id
                   WHERE vc.version_id = ? AND vc.cited = 1 ORDER BY vc.position""",
                (latest["id"],),
            )]
            if latest["text_sha256"] == row.get("text_sha256") and sorted(before) == sorted(cited_urls(links)):
                return
        article_id, version, change = save_version(self.store, self.run_id, url_row["id"], row, links, "web")
        # The new version's quotations, located in what its sources said at their last good capture.
        texts: dict[str, str] = {}
        holders: dict[str, int] = {}
        for url in cited_urls(links):
            source = self.store.row("SELECT baseline_capture_id FROM urls WHERE url = ?", (url,))
            if not source or not source["baseline_capture_id"]:
                continue
            found = text_of_capture(self.store, source["baseline_capture_id"])
            if found is not None:
                holders[url], texts[url] = source["baseline_capture_id"], found[1]
        text = captured.extracted.text if captured.extracted is not None else None
        save_quotes(self.store, self.run_id, article_id, version["id"], links, text, row.get("final_url") or url_row["url"], texts, holders.get)
        if change is not None:
            self.article_changes.append(change)

    def _judge(
        self, url_row: dict[str, Any], row: dict[str, Any], last_good: dict[str, Any] | None, fresh: Captured | None = None,
        second_look: bool = False,
    ) -> tuple[Change | None, list[QuoteChange], bool]:
        return self.judge.judge(url_row, row, last_good, fresh=fresh, second_look=second_look)
