"""One recheck run, top to bottom: which URLs are due, fetch them, store, classify, re-find quotations.

    due URLs (per-URL schedule, or --all) -> conditional fetch
    unchanged payload -> revisit record; else full response + extracted text
    classify against the last good capture -> changes row; schedule the next check
    re-locate the quotations found in that source -> quote_checks rows
"""

from __future__ import annotations

import secrets
from typing import Any, Callable

from archiver import __version__
from archiver.runs.directory import ArchiveDir
from archiver.clock import iso_utc, utc_now
import json

from archiver.analyze.compare import Observation, classify
from archiver.analyze.judge import VolatileMask
from archiver.net.fetch import Fetcher, FetchResult
from archiver.options import RecheckOptions
from archiver.results import Change, QuoteChange, RecheckResult
from archiver.analyze.quotes import locate
from archiver.analyze.answers import failed_answer
from archiver.runs.browse import BrowserPages
from archiver.runs.recorder import Captured, Recorder, RevisitPlan, close_run
from archiver.runs.noise import second_look as second_look_at
from archiver.runs.schedule import MIN_INTERVAL, after_check
from archiver.analyze.text import Extracted, extract
from archiver.db.queries import find_article, original_capture
from archiver.urls import site_root
from archiver.warc.writer import sha256_digest_label

RESUME_WINDOW = MIN_INTERVAL  # an interrupted recheck this recent is resumed, not redone

Progress = Callable[[int, int, str], None]


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def tracked_urls(archive: ArchiveDir, article: str | None = None, due_only: bool = True) -> list[dict[str, Any]]:
    """URLs a recheck looks at: articles fetched from the web and their cited sources."""
    store = archive.store
    where, params = "", []
    if article is not None:
        row = find_article(store, article)
        where, params = "AND a.id = ?", [row["id"]]
    rows = store.rows(
        f"""
        SELECT DISTINCT u.* FROM urls u WHERE u.id IN (
            SELECT c.url_id FROM citations c JOIN articles a ON a.id = c.article_id
             WHERE c.cited = 1 AND c.url_id IS NOT NULL {where}
            UNION
            SELECT a.url_id FROM articles a WHERE a.source = 'web' {where}
        ) AND (u.url LIKE 'http://%' OR u.url LIKE 'https://%')
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
        self._probes: dict[str, Extracted | None] = {}

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
        for url, row in self.store.captures_of_runs(resumes).items():
            recorded[row["url_id"]] = row
        pending, unjudged = [], []
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

    def _check_in_browser(self, url_row: dict[str, Any], pages: BrowserPages):
        last_good = self._last_good(url_row["id"])
        page = pages.capture(url_row["id"], url_row["url"])
        return self._judge(url_row, page.row, last_good, fresh=page.captured)

    def _check_result(self, url_row: dict[str, Any], result: FetchResult, recorder: Recorder):
        try:
            return self._check(url_row, result, recorder)
        finally:
            result.close()

    # -- one URL ---------------------------------------------------------------------------

    def _last_good(self, url_id: int) -> dict[str, Any] | None:
        """The baseline: the latest capture judged good (by capture, or by a recheck's verdict)."""
        return self.store.row(
            "SELECT c.* FROM urls u JOIN captures c ON c.id = u.baseline_capture_id WHERE u.id = ?", (url_id,)
        )

    def _conditional_headers(self, url_id: int) -> dict[str, str]:
        last = self._last_good(url_id)
        headers = {}
        if last and last.get("etag"):
            headers["If-None-Match"] = last["etag"]
        if last and last.get("last_modified"):
            headers["If-Modified-Since"] = last["last_modified"]
        return headers

    def _extracted_of(self, capture: dict[str, Any] | None) -> Extracted | None:
        if capture is None:
            return None
        original = original_capture(self.store, capture)
        text = self.store.row("SELECT kind, title, text, features FROM texts WHERE capture_id = ?", (original["id"],))
        if text is None:
            kind = "binary" if original.get("payload_sha256") else None
            return Extracted(kind=kind or "binary", title=original.get("title"), text=None, text_sha256=None, fingerprint=None) if kind else None
        return Extracted(
            kind=text["kind"], title=text["title"], text=text["text"], text_sha256=original.get("text_sha256"), fingerprint=original.get("fingerprint"),
            features=json.loads(text["features"]) if text.get("features") else None,
        )

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
        return self._judge(url_row, captured.row, last_good, fresh=captured, second_look=True)

    def _judge(
        self, url_row: dict[str, Any], row: dict[str, Any], last_good: dict[str, Any] | None, fresh: Captured | None = None,
        second_look: bool = False,
    ) -> tuple[Change | None, list[QuoteChange], bool]:
        """Classify a recorded capture against the baseline, store the verdict, re-locate quotations.

        ``fresh``: the capture just recorded, with its extracted text; without it the row was
        recorded by an interrupted run and its text is read back from the database.
        ``second_look``: a plain fetch, which may be repeated to learn the page's noise.
        """
        url_id = url_row["id"]
        is_revisit = row.get("record_type") == "revisit"
        error_code = (row["error"] or "").split(":", 1)[0] or None
        # A cut body is a failed look, not new content.
        if error_code in ("too_large",) and row.get("http_status"):
            error_code = None
        new_obs = Observation(
            requested_url=url_row["url"],
            final_url=row["final_url"],
            http_status=row["http_status"],
            error=error_code,
            payload_sha256=row["payload_sha256"],
            extracted=fresh.extracted if fresh is not None and not is_revisit else self._extracted_of(row),
            not_modified=is_revisit,
        )
        previous_obs = None
        if last_good is not None:
            previous_obs = Observation(
                requested_url=last_good["requested_url"],
                final_url=last_good["final_url"],
                http_status=last_good["http_status"],
                error=None,
                payload_sha256=last_good["payload_sha256"],
                extracted=self._extracted_of(last_good),
            )
        ok = not failed_answer(row["http_status"], row["error"]) and row["http_status"] is not None
        streak = 0 if ok else (url_row["failure_streak"] or 0) + 1
        probe = self._probe(row) if self._needs_probe(new_obs, previous_obs) else None
        volatile = VolatileMask.from_json(json.loads(url_row["volatile"])) if url_row.get("volatile") else None
        verdict = classify(previous_obs, url_row.get("state") or "ok", new_obs, streak, self.options.confirm, probe, volatile)
        learned = None
        if verdict.kind == "content_changed" and second_look and self.options.noise_delay is not None:
            # Before calling it an edit, ask the page what on it changes by itself.
            learned = second_look_at(self.fetcher, url_row["url"], new_obs.extracted, self.options.noise_delay)
            if learned:
                volatile = volatile.merge(learned) if volatile else learned
                verdict = classify(previous_obs, url_row.get("state") or "ok", new_obs, streak, self.options.confirm, probe, volatile)
        if verdict.state == "ok":
            streak = 0

        now = utc_now()
        interval, next_check_at = after_check(url_row["check_interval"], bool(verdict.kind) or verdict.state != "ok", now)
        event = None
        if verdict.kind:
            event = {
                "from_capture_id": last_good["id"] if last_good else None,
                "to_capture_id": row["id"],
                "kind": verdict.kind,
                "similarity": verdict.similarity,
                "detail": dict(verdict.detail),
                "severity": verdict.severity,
                "summary": "\n".join(verdict.summary) or None,
                "detected_at": iso_utc(now),
                "run_id": self.run_id,
            }
        url_state = {
            "state": verdict.state,
            "failure_streak": streak,
            "check_interval": interval,
            "last_checked_at": iso_utc(now),
            "next_check_at": next_check_at,
            # Only a capture judged good becomes what the next check compares with.
            **({"baseline_capture_id": row["id"]} if verdict.state == "ok" and row["http_status"] else {}),
            **({"volatile": volatile.to_json(), "volatile_learned_at": iso_utc(now)} if learned else {}),
        }
        change_id = self.store.record_check(url_id, event, url_state)
        change = None
        if event is not None:
            change = Change(
                id=change_id, url=url_row["url"], http_status=row["http_status"], error=row["error"], final_url=row["final_url"], **event
            )
        quotes = self._recheck_quotes(url_id, url_row["url"], row, new_obs)
        return change, quotes, ok

    @staticmethod
    def _needs_probe(new: Observation, previous: Observation | None) -> bool:
        """Probe only where the answer is a 200 whose text moved: that is where soft 404s hide."""
        if new.not_modified or new.http_status != 200 or new.extracted is None or not new.extracted.text:
            return False
        if previous is None or previous.extracted is None or not previous.extracted.text:
            return False
        return new.extracted.text_sha256 != previous.extracted.text_sha256

    def _probe(self, row: dict[str, Any]) -> Extracted | None:
        """The site's answer to a URL that cannot exist (Bar-Yossef et al. 2004), once per site per run."""
        root = site_root(row["final_url"] or row["requested_url"])
        if root not in self._probes:
            probe_url = f"{root}archiver-probe-{secrets.token_hex(8)}"
            result = self.fetcher.fetch(probe_url)
            try:
                final = result.final
                extracted = None
                if final is not None and final.status == 200 and final.decoded is not None:
                    final.decoded.seek(0)
                    extracted = extract(final.decoded.read(8 * 1024 * 1024), final.content_type, final.url)
                self._probes[root] = extracted
            finally:
                result.close()
        return self._probes[root]

    # -- quotations -------------------------------------------------------------------------

    def _recheck_quotes(self, url_id: int, url: str, row: dict[str, Any], obs: Observation) -> list[QuoteChange]:
        quotes = self.store.rows(
            """SELECT q.*, u.url AS article_url FROM quotes q JOIN articles a ON a.id = q.article_id
               JOIN urls u ON u.id = a.url_id WHERE q.url_id = ?""",
            (url_id,),
        )
        if not quotes:
            return []
        text = obs.extracted.text if obs.extracted is not None and obs.extracted.text else ""
        reported = []
        checks = []
        now = iso_utc()
        state = None
        for quote in quotes:
            if text:
                status, similarity, excerpt = locate(quote["text"], text)
            elif failed_answer(row["http_status"], row["error"]):
                status, similarity, excerpt = "missing", 0.0, None
            else:
                continue
            if row["error"] and not text:
                # We could not look: keep the last status until the page is confirmed gone.
                if state is None:
                    state = self.store.value("SELECT state FROM urls WHERE id = ?", (url_id,))
                if state != "gone":
                    continue
            checks.append(
                (quote["id"], {"capture_id": row["id"], "run_id": self.run_id, "status": status, "similarity": similarity, "excerpt": excerpt, "checked_at": now})
            )
            # A quotation first checked now (its source was unreadable at capture) is no news.
            if quote["status"] is not None and status != quote["status"]:
                reported.append(QuoteChange(quote["id"], quote["article_url"], url, quote["text"], quote["status"], status, similarity, excerpt))
        self.store.record_quote_checks(checks)
        return reported
