"""``verify --deep``: recompute what the report states from the WARC records alone and list every difference.

    texts      re-extract each capture's main text from its record (the rendered DOM for a
               browser capture): texts row and captures.title / text_sha256 / fingerprint
    citations  re-find each article's links in its captured record: citations rows
    quotations re-find the article's quotations; re-locate each checked one in the text of
               the capture it was checked against: quotes and quote_checks rows
    changes    re-judge each change event from its two captures with the same classifier
               (the URL's state before it replayed from the events before it)

Seals say whether rows were edited after their run; this says whether the rows are what the
WARC records support at all, whoever wrote them. Extraction is re-run with this archiver's
extractors: a different version may read a page differently, so the software that made each
row is named beside a difference.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from archiver.analyze.answers import usable_answer
from archiver.analyze.citations import ArticleLinks
from archiver.analyze.compare import classify
from archiver.analyze.judge import VolatileMask
from archiver.analyze.quotes import find_quotes, locate
from archiver.analyze.text import EXTRACT_LIMIT, Extracted, safe_extract
from archiver.options import CONFIRM_FAILURES
from archiver.results import Problem
from archiver.runs.directory import ArchiveDir
from archiver.runs.judge import observation_of
from archiver.runs.targets import Target
from archiver.warc.reader import read_payload

_HTML_TYPE = "text/html; charset=utf-8"  # how a browser capture's rendered DOM is extracted
_RESOURCE_LIMIT = 1 << 30
_STATE_AFTER = {"gone": "gone", "soft_404": "soft_404"}  # every other kind leaves the URL 'ok'


class DeepCheck:
    """One deep check of an archive; :meth:`run` returns the differences as problems of kind ``deep``."""

    def __init__(self, archive: ArchiveDir) -> None:
        self.archive = archive
        self.store = archive.store
        self.captures = {r["id"]: r for r in self.store.rows("SELECT * FROM captures ORDER BY id")}
        self.runs = {r["id"]: r for r in self.store.rows("SELECT id, command, args, software FROM runs")}
        self.doms = {
            r["capture_id"]: r
            for r in _rows(self.store, "SELECT * FROM attachments WHERE kind = 'dom' ORDER BY id")
        }
        self.problems: list[Problem] = []
        self.checked = {"texts": 0, "citations": 0, "quotes": 0, "quote_checks": 0, "changes": 0}
        self._extracted = lru_cache(maxsize=256)(self._extract)

    def run(self) -> tuple[list[Problem], dict[str, int]]:
        self._texts()
        articles = self.store.rows("SELECT a.*, u.url FROM articles a JOIN urls u ON u.id = a.url_id ORDER BY a.id")
        for article in articles:
            self._article(article)
        self._quote_checks()
        self._changes()
        return self.problems, self.checked

    def _differ(self, what: str, message: str, capture_id: int | None = None, run_id: int | None = None) -> None:
        software = self.runs.get(run_id, {}).get("software") if run_id else None
        made = f" (written by {software})" if software else ""
        self.problems.append(Problem("deep", f"{what}: {message}{made}", capture_id=capture_id))

    # -- reading the records ---------------------------------------------------------------

    def _original(self, capture_id: int | None) -> dict[str, Any] | None:
        row = self.captures.get(capture_id)
        seen = set()
        while row is not None and row.get("record_type") == "revisit" and row["id"] not in seen:
            seen.add(row["id"])
            row = self.captures.get(row.get("revisit_of"))
        return row

    def _payload(self, row: dict[str, Any]) -> tuple[bytes, str | None] | None:
        """The bytes text was extracted from when the row was recorded, and their content type."""
        dom = self.doms.get(row["id"])
        if dom is not None:
            return read_payload(self.archive.path, dom["warc_file"], dom["warc_offset"], _RESOURCE_LIMIT), _HTML_TYPE
        if not row.get("warc_file") or row.get("record_type") not in ("response", "resource"):
            return None
        if row["record_type"] == "response" and not usable_answer(row.get("http_status"), None):
            return None
        limit = EXTRACT_LIMIT if row["record_type"] == "response" else _RESOURCE_LIMIT
        return read_payload(self.archive.path, row["warc_file"], row["warc_offset"], limit), row.get("content_type")

    def _extract(self, capture_id: int) -> Extracted | None:
        row = self._original(capture_id)
        if row is None:
            return None
        try:
            found = self._payload(row)
        except Exception as exc:  # noqa: BLE001 -- a damaged record is reported, the check goes on
            self._differ(f"captures row {row['id']}", f"its record cannot be re-read ({exc})", row["id"])
            return None
        if found is None:
            return None
        data, content_type = found
        return safe_extract(data, content_type, row.get("final_url") or row["requested_url"])

    def _text(self, capture_id: int | None) -> str:
        extracted = self._extracted(capture_id) if capture_id is not None else None
        return extracted.text if extracted is not None and extracted.text else ""

    # -- texts and the captures columns made from them -------------------------------------

    def _texts(self) -> None:
        texts = {r["capture_id"]: r for r in self.store.rows("SELECT * FROM texts")}
        # A capture whose text was an earlier capture's of the same URL shares that row (Store.add_capture):
        # the newest earlier capture with a texts row and the same text_sha256.
        holders: dict[tuple[int, str], int] = {}
        shared: dict[int, int] = {}
        for row in self.captures.values():  # in id order
            key = (row["url_id"], row.get("text_sha256") or "")
            if row["id"] in texts:
                holders[key] = row["id"]
            elif row.get("text_sha256") and row.get("record_type") != "revisit" and key in holders:
                shared[row["id"]] = holders[key]
        for row in self.captures.values():
            if row.get("record_type") == "revisit":
                original = self._original(row["id"])
                if original is not None:
                    for name in ("text_sha256", "title"):
                        if row.get(name) != original.get(name):
                            self._differ(f"captures row {row['id']}", f"{name} {row.get(name)!r} differs from the capture it revisits ({original.get(name)!r})", row["id"], row["run_id"])
                continue
            stored = texts.get(row["id"]) or texts.get(shared.get(row["id"], 0))
            if stored is None and row.get("text_sha256") is None:
                if row.get("record_type") not in ("response", "resource"):
                    continue
            extracted = self._extracted(row["id"])
            self.checked["texts"] += 1
            what = f"captures row {row['id']} ({row.get('final_url') or row['requested_url']})"
            has_text = extracted is not None and extracted.text is not None
            if stored is None and has_text:
                self._differ(what, "the record has extractable text but no texts row holds it", row["id"], row["run_id"])
            elif stored is not None and not has_text:
                self._differ(what, "a texts row exists but no text can be extracted from the record", row["id"], row["run_id"])
            elif stored is not None:
                for name in ("text", "title", "kind"):
                    if stored[name] != getattr(extracted, name):
                        self._differ(what, f"texts.{name} is not what the record gives ({_clip(stored[name])} stored, {_clip(getattr(extracted, name))} re-extracted)", row["id"], row["run_id"])
            got = extracted if extracted is not None else None
            for name in ("text_sha256", "fingerprint", "title"):
                again = getattr(got, name) if got is not None else None
                if row.get(name) != again:
                    self._differ(what, f"captures.{name} is {_clip(row.get(name))}, the record gives {_clip(again)}", row["id"], row["run_id"])

    # -- citations and quotations ------------------------------------------------------------

    def _article(self, article: dict[str, Any]) -> None:
        from archiver.runs.capture import CaptureRun

        row = self.captures.get(article["capture_id"])
        if row is None:
            return
        what = f"article {article['id']} ({article['url']})"
        try:
            found = self._article_payload(row)
        except Exception as exc:  # noqa: BLE001
            self._differ(what, f"its record cannot be re-read ({exc})", row["id"])
            return
        if found is None:
            return
        data, content_type = found
        path = _file_path(article["url"]) if article["source"] == "file" else None
        base = None if path is not None else (row.get("final_url") or article["url"])
        target = Target(article["url"], article["url"], path)
        links = CaptureRun._find_links(data, content_type, base, target) if data else ArticleLinks()
        self._citations(article, links, row)
        text = self._text(row["id"])
        main = links.main if links.main is not None else links.main_html
        quotes = find_quotes(main, None if main is not None else text, row.get("final_url") or article["url"])
        self._quotes(article, quotes, row)

    def _article_payload(self, row: dict[str, Any]) -> tuple[bytes, str | None] | None:
        """The article's bytes as capture searched them for links (a browser capture: the rendered DOM)."""
        dom = self.doms.get(row["id"])
        if dom is not None:
            return read_payload(self.archive.path, dom["warc_file"], dom["warc_offset"], _RESOURCE_LIMIT), "text/html"
        original = self._original(row["id"])
        if original is None or not original.get("warc_file"):
            return None
        if original["record_type"] == "response" and not usable_answer(original.get("http_status"), None):
            return None
        limit = EXTRACT_LIMIT if original["record_type"] == "response" else _RESOURCE_LIMIT
        return read_payload(self.archive.path, original["warc_file"], original["warc_offset"], limit), row.get("content_type")

    def _citations(self, article: dict[str, Any], links: ArticleLinks, row: dict[str, Any]) -> None:
        stored = self.store.rows(
            "SELECT c.*, u.url FROM citations c LEFT JOIN urls u ON u.id = c.url_id WHERE c.article_id = ? ORDER BY c.position, c.id",
            (article["id"],),
        )
        self.checked["citations"] += len(stored)
        found = {link.position: link for link in links.links}
        what = f"article {article['id']} ({article['url']})"
        seen = set()
        for citation in stored:
            link = found.get(citation["position"])
            seen.add(citation["position"])
            label = f"{what}: citations row {citation['id']} ({citation['href']})"
            if link is None:
                self._differ(label, "the article's record has no such link at that position", row["id"], row["run_id"])
                continue
            expected = {
                "href": link.href[:4096], "anchor_text": link.anchor_text[:1000], "context": link.context, "cited": int(bool(link.cited)),
                "item_date": link.item_date, "item_title": (link.item_title or "")[:1000] or None,
                "list_heading": (link.list_heading or "")[:1000] or None, "evidence": link.evidence,
            }
            if citation["evidence"] == "site template" and link.cited:
                # The evidence came from the site's other pages fetched in that run, not from this
                # record: the record alone shows a citation, which the template overturned.
                # Its list fields were read with that evidence too.
                expected.update(
                    cited=0, evidence="site template", item_date=citation["item_date"], item_title=citation["item_title"],
                    list_heading=citation["list_heading"],
                )
            for name, value in expected.items():
                if citation[name] != value:
                    self._differ(label, f"{name} is {_clip(citation[name])}, the record gives {_clip(value)}", row["id"], row["run_id"])
            skip = link.skip_reason
            if skip is None and citation["skip_reason"] is None and citation["url"] != link.url:
                self._differ(label, f"it points at {citation['url']}, the record's link is {link.url}", row["id"], row["run_id"])
            if (skip is None) != (citation["skip_reason"] is None) and not (citation["skip_reason"] or "").startswith("limit:"):
                self._differ(label, f"skip reason is {_clip(citation['skip_reason'])}, the record gives {_clip(skip)}", row["id"], row["run_id"])
        for position, link in sorted(found.items()):
            if position not in seen:
                self._differ(what, f"the record has a link no citations row holds: {link.href} ({_clip(link.anchor_text)}) at position {position}", row["id"], row["run_id"])

    def _quotes(self, article: dict[str, Any], quotes, row: dict[str, Any]) -> None:
        stored = self.store.rows("SELECT * FROM quotes WHERE article_id = ? ORDER BY position, id", (article["id"],))
        self.checked["quotes"] += len(stored)
        what = f"article {article['id']} ({article['url']})"
        found = {(q.position, q.text): q for q in quotes}
        stored_keys = set()
        for quote in stored:
            key = (quote["position"], quote["text"])
            stored_keys.add(key)
            again = found.get(key)
            if again is None:
                self._differ(f"{what}: quotes row {quote['id']}", f"the article's record has no quotation {_clip(quote['text'])} at position {quote['position']}", row["id"], row["run_id"])
            elif quote["context"] != again.context:
                self._differ(f"{what}: quotes row {quote['id']}", f"context is {_clip(quote['context'])}, the record gives {_clip(again.context)}", row["id"], row["run_id"])
        for key, quote in sorted(found.items(), key=lambda kv: kv[0][0]):
            if key not in stored_keys:
                self._differ(what, f"the record has a quotation no quotes row holds: {_clip(quote.text)} at position {quote.position}", row["id"], row["run_id"])

    def _quote_checks(self) -> None:
        quotes = {q["id"]: q for q in self.store.rows("SELECT * FROM quotes")}
        checks = self.store.rows("SELECT * FROM quote_checks ORDER BY id")
        latest: dict[int, dict[str, Any]] = {}
        for check in checks:
            quote = quotes.get(check["quote_id"])
            if quote is None:
                continue
            latest[quote["id"]] = check
            self.checked["quote_checks"] += 1
            label = f"quote_checks row {check['id']} (quotation {quote['id']}, {_clip(quote['text'], 40)})"
            text = self._text(check["capture_id"])
            capture = self.captures.get(check["capture_id"])
            if text:
                status, similarity, excerpt = locate(quote["text"], text)
            elif capture is not None:
                status, similarity, excerpt = "missing", 0.0, None
            else:
                continue
            for name, again in (("status", status), ("similarity", similarity), ("excerpt", excerpt)):
                if not _same(check[name], again):
                    self._differ(label, f"{name} is {_clip(check[name])}, re-locating it in capture {check['capture_id']} gives {_clip(again)}", check["capture_id"], check["run_id"])
        for quote_id, check in latest.items():
            quote = quotes[quote_id]
            for name in ("status", "similarity", "capture_id"):
                if not _same(quote[name], check[name]):
                    self._differ(f"quotes row {quote_id}", f"{name} is {_clip(quote[name])}, its latest check says {_clip(check[name])}", quote["capture_id"])

    # -- change events -------------------------------------------------------------------------

    def _changes(self) -> None:
        state: dict[int, str] = {}
        for change in self.store.rows("SELECT c.*, u.url FROM changes c JOIN urls u ON u.id = c.url_id ORDER BY c.id"):
            self.checked["changes"] += 1
            previous_state = state.get(change["url_id"], "ok")
            state[change["url_id"]] = _STATE_AFTER.get(change["kind"], "ok")
            label = f"changes row {change['id']} ({change['kind']}, {change['url']})"
            new = self.captures.get(change["to_capture_id"])
            if new is None:
                continue
            detail = _json(change["detail"])
            if detail.get("reason") == "like_probe":
                continue  # the probe's answer (a URL that cannot exist) is not recorded: nothing to re-judge from
            old = self.captures.get(change["from_capture_id"]) if change["from_capture_id"] else None
            run = self.runs.get(change["run_id"]) or {}
            confirm = _json(run.get("args")).get("confirm") or CONFIRM_FAILURES
            streak = detail.get("failure_streak") or (0 if usable_answer(new["http_status"], new["error"]) else 1)
            previous = observation_of(old, old["requested_url"], self._extracted(old["id"]), baseline=True) if old else None
            volatile = VolatileMask.from_json(detail["volatile"]) if detail.get("volatile") else None
            verdict = classify(previous, previous_state, observation_of(new, change["url"], self._extracted(new["id"])), streak, confirm,
                               None, volatile)
            if verdict.kind != change["kind"]:
                self._differ(label, f"re-judged from captures {change['from_capture_id']} and {change['to_capture_id']} it is {verdict.kind or 'no change'}", new["id"], change["run_id"])
            elif not _same(change["similarity"], verdict.similarity):
                self._differ(label, f"similarity is {change['similarity']}, re-judged {verdict.similarity}", new["id"], change["run_id"])
            elif detail.get("diff_summary") != verdict.detail.get("diff_summary"):
                self._differ(label, f"its diff summary {detail.get('diff_summary')} is not the re-judged {verdict.detail.get('diff_summary')}", new["id"], change["run_id"])

def deep_check(archive: ArchiveDir) -> tuple[list[Problem], dict[str, int]]:
    """Every difference between the rows and what the WARC records give; and how many rows of each kind were checked."""
    return DeepCheck(archive).run()


def _rows(store, sql: str) -> list[dict[str, Any]]:
    try:
        return store.rows(sql)
    except Exception:  # noqa: BLE001 -- an older schema without the table
        return []


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-6
    return a == b


def _file_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def _clip(value: Any, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
