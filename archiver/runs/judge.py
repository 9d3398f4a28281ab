"""Judging a new capture of a tracked URL against its baseline, whatever command made the capture.

Capture (of the same article, or of another article citing the same source) and recheck
both hand every new capture of a tracked URL to :class:`Judge`: it classifies the capture
against the URL's baseline, records the change event (if any) and the judgement, moves the
baseline only when the verdict says the new capture is good, and re-locates the quotations
found in that URL. A baseline never moves without a ``judgements`` row saying why.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from archiver.analyze.answers import failed_answer, usable_answer
from archiver.analyze.compare import Observation, classify
from archiver.analyze.judge import VolatileMask
from archiver.analyze.quotes import locate
from archiver.analyze.text import Extracted, extract
from archiver.clock import iso_utc, utc_now
from archiver.db.queries import original_capture, text_holder
from archiver.net.fetch import Fetcher
from archiver.results import Change, QuoteChange
from archiver.runs.noise import second_look as second_look_at
from archiver.runs.recorder import Captured
from archiver.runs.schedule import after_check, first_check
from archiver.urls import site_root

Verdict = tuple["Change | None", "list[QuoteChange]", bool]


class Judge:
    """Classifies new captures of tracked URLs for one run (capture or recheck)."""

    def __init__(self, store, run_id: int, fetcher: Fetcher | None, confirm: int, noise_delay: float | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.fetcher = fetcher
        self.confirm = confirm
        # Seconds before a second look at a page that seems edited, to learn what on it changes by
        # itself; None: no second look (capture, and recheck --no-second-look).
        self.noise_delay = noise_delay
        self._probes: dict[str, Extracted | None] = {}

    # -- the baseline ------------------------------------------------------------------------

    def baseline(self, url_id: int) -> dict[str, Any] | None:
        """The latest capture judged good (by a capture's or a recheck's verdict)."""
        return self.store.row(
            "SELECT c.* FROM urls u JOIN captures c ON c.id = u.baseline_capture_id WHERE u.id = ?", (url_id,)
        )

    def track(self, row: dict[str, Any], fresh: Captured | None = None) -> Verdict | None:
        """A capture of a URL that must be tracked (an article, a cited source).

        The first capture of a URL starts its tracking (a good answer becomes its baseline);
        any later one is judged against the baseline exactly as a recheck would. Returns the
        verdict, or None when the URL was not tracked before or the capture was judged already
        (a resumed run reusing an earlier capture).
        """
        url_row = self.store.row("SELECT * FROM urls WHERE id = ?", (row["url_id"],))
        if url_row["baseline_capture_id"] is None and url_row["next_check_at"] is None and url_row["last_checked_at"] is None:
            self.start(row)
            return None
        if self.store.value("SELECT 1 FROM judgements WHERE capture_id = ?", (row["id"],)):
            return None
        if url_row["baseline_capture_id"] is not None and url_row["baseline_capture_id"] >= row["id"]:
            return None
        return self.judge(url_row, row, self.baseline(row["url_id"]), fresh=fresh)

    def start(self, row: dict[str, Any]) -> None:
        """A URL's first capture: it joins the recheck schedule; a usable answer (2xx, whole) is its baseline.

        A URL that failed at its first capture is due for recheck at once, to see whether it answers now.
        """
        usable = _usable(row)
        interval, next_check_at = first_check(row["fetched_at"], usable)
        judgement = {
            "capture_id": row["id"], "run_id": self.run_id, "baseline_before": None,
            "baseline_after": row["id"] if usable else None, "state": "ok" if usable else "failing", "judged_at": iso_utc(),
        }
        self.store.start_tracking(row["url_id"], row["id"], usable, interval, next_check_at, judgement)

    # -- one verdict --------------------------------------------------------------------------

    def extracted_of(self, capture: dict[str, Any] | None) -> Extracted | None:
        if capture is None:
            return None
        original = original_capture(self.store, capture)
        holder = text_holder(self.store, original)
        text = self.store.row("SELECT kind, title, text, features FROM texts WHERE capture_id = ?", (holder,)) if holder is not None else None
        if text is None:
            kind = "binary" if original.get("payload_sha256") else None
            return Extracted(kind=kind or "binary", title=original.get("title"), text=None, text_sha256=None, fingerprint=None) if kind else None
        return Extracted(
            kind=text["kind"], title=text["title"], text=text["text"], text_sha256=original.get("text_sha256"), fingerprint=original.get("fingerprint"),
            features=json.loads(text["features"]) if text.get("features") else None,
        )

    def judge(
        self, url_row: dict[str, Any], row: dict[str, Any], last_good: dict[str, Any] | None, fresh: Captured | None = None,
        second_look: bool = False,
    ) -> Verdict:
        """Classify a recorded capture against the baseline, store the verdict, re-locate quotations.

        ``fresh``: the capture just recorded, with its extracted text; without it the row was
        recorded by an interrupted run and its text is read back from the database.
        ``second_look``: a plain fetch, which may be repeated to learn the page's noise.
        """
        url_id = url_row["id"]
        # A row as the recorder returns it may leave out what does not apply (a local file has no error).
        row = {**dict.fromkeys(("error", "final_url", "http_status", "payload_sha256", "record_type")), **row}
        is_revisit = row.get("record_type") == "revisit"
        status = _status_of(row)
        extracted = fresh.extracted if fresh is not None and not is_revisit else self.extracted_of(row)
        new_obs = observation_of(row, url_row["url"], extracted)
        previous_obs = None
        if last_good is not None:
            previous_obs = observation_of(last_good, last_good["requested_url"], self.extracted_of(last_good), baseline=True)
        ok = not failed_answer(status, row["error"]) and status is not None
        streak = 0 if ok else (url_row["failure_streak"] or 0) + 1
        probe = self._probe(row) if self._needs_probe(new_obs, previous_obs, row) else None
        volatile = VolatileMask.from_json(json.loads(url_row["volatile"])) if url_row.get("volatile") else None
        verdict = classify(previous_obs, url_row.get("state") or "ok", new_obs, streak, self.confirm, probe, volatile)
        learned = None
        if verdict.kind == "content_changed" and second_look and self.noise_delay is not None and self.fetcher is not None:
            # Before calling it an edit, ask the page what on it changes by itself.
            learned = second_look_at(self.fetcher, url_row["url"], new_obs.extracted, self.noise_delay)
            if learned:
                volatile = volatile.merge(learned) if volatile else learned
                verdict = classify(previous_obs, url_row.get("state") or "ok", new_obs, streak, self.confirm, probe, volatile)
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
                # The page's learned noise it was judged with, so that verify --deep re-judges alike.
                "detail": {**verdict.detail, **({"volatile": volatile.to_json()} if volatile and verdict.kind == "content_changed" else {})},
                "severity": verdict.severity,
                "summary": "\n".join(verdict.summary) or None,
                "detected_at": iso_utc(now),
                "run_id": self.run_id,
            }
        # Only a capture judged good becomes what the next check compares with.
        moves = verdict.state == "ok" and bool(status)
        url_state = {
            "state": verdict.state,
            "failure_streak": streak,
            "check_interval": interval,
            "last_checked_at": iso_utc(now),
            "next_check_at": next_check_at,
            **({"baseline_capture_id": row["id"]} if moves else {}),
            **({"volatile": volatile.to_json(), "volatile_learned_at": iso_utc(now)} if learned and volatile else {}),
        }
        judgement = {
            "capture_id": row["id"], "run_id": self.run_id, "baseline_before": url_row["baseline_capture_id"],
            "baseline_after": row["id"] if moves else url_row["baseline_capture_id"], "state": verdict.state, "judged_at": iso_utc(now),
        }
        change_id = self.store.record_check(url_id, event, url_state, judgement)
        change = None
        if event is not None:
            change = Change(
                id=change_id, url=url_row["url"], http_status=row["http_status"], error=row["error"], final_url=row["final_url"], **event
            )
        quotes = self._recheck_quotes(url_id, url_row["url"], row, new_obs)
        return change, quotes, ok

    @staticmethod
    def _needs_probe(new: Observation, previous: Observation | None, row: dict[str, Any]) -> bool:
        """Probe only where an HTTP answer is a 200 whose text moved: that is where soft 404s hide."""
        if row.get("record_type") == "resource":
            return False
        if new.not_modified or new.http_status != 200 or new.extracted is None or not new.extracted.text:
            return False
        if previous is None or previous.extracted is None or not previous.extracted.text:
            return False
        return new.extracted.text_sha256 != previous.extracted.text_sha256

    def _probe(self, row: dict[str, Any]) -> Extracted | None:
        """The site's answer to a URL that cannot exist (Bar-Yossef et al. 2004), once per site per run."""
        if self.fetcher is None:
            return None
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
               JOIN urls u ON u.id = a.url_id WHERE q.url_id = ? AND q.retired_at IS NULL""",
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


def observation_of(row: dict[str, Any], requested_url: str, extracted: Extracted | None, baseline: bool = False) -> Observation:
    """What the classifier compares, from a captures row; ``baseline``: the last capture judged good."""
    status = _status_of(row)
    error = None
    if not baseline:
        error = (row.get("error") or "").split(":", 1)[0] or None
        # A cut body is a failed look, not new content.
        if error == "too_large" and status:
            error = None
    return Observation(
        requested_url=requested_url,
        final_url=row.get("final_url"),
        http_status=status,
        error=error,
        payload_sha256=row.get("payload_sha256"),
        extracted=extracted,
        not_modified=not baseline and row.get("record_type") == "revisit",
    )


def _status_of(row: dict[str, Any]) -> int | None:
    """The HTTP status, with a local file read whole standing for a 200 (it has no HTTP answer)."""
    if row.get("record_type") == "resource" and row.get("http_status") is None and row.get("payload_sha256"):
        return 200
    return row.get("http_status")


def _usable(row: dict[str, Any]) -> bool:
    return usable_answer(_status_of(row), row.get("error"))
