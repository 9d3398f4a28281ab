"""Classify a recheck of a cited URL against its last good observation.

The hard part is silence: pages change all the time in ways no reader cares about
(timestamps, counters, tokens, ads, rotating related links, a new layout). Decisions are
taken on extracted main text, after volatile tokens are masked and short link-like lines
dropped; what remains must match word for word, so one edited word in a quote still counts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeGuard
from urllib.parse import parse_qsl, urlencode, urlsplit

from archiver.analyze.diff import diff_summary, word_diff
from archiver.analyze.text import Extracted, similarity
from archiver.urls import try_normalise


TRANSIENT_ERRORS = {"dns", "refused", "timeout", "tls", "connection", "too_many_redirects", "reset", "protocol"}


@dataclass
class Observation:
    requested_url: str
    final_url: str | None
    http_status: int | None
    error: str | None  # None, or 'dns', 'refused', 'timeout', 'tls', 'connection', 'too_many_redirects', ...
    payload_sha256: str | None
    extracted: Extracted | None
    not_modified: bool = False  # 304 answer, or identical payload: content same as previous


@dataclass
class Verdict:
    kind: str | None  # one of archiver.analyze.kinds.KINDS, or None when nothing a reader cares about happened
    similarity: float | None
    detail: dict = field(default_factory=dict)
    state: str = "ok"  # 'ok' | 'gone' | 'soft_404' | 'failing'


# --------------------------------------------------------------------------- volatile tokens

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAYS = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
_UNITS = r"(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|weeks?|months?|years?|mins?)"
_COUNTED = (r"(?:views?|reads?|comments?|shares?|likes?|replies|reactions?|followers?|subscribers?|"
            r"visits?|visitors?|votes?|points?|clicks?|downloads?|plays?|retweets?|responses?|people)")

_VOLATILE = [
    # "Updated 5 minutes ago", "3 hrs ago", "vor 2 Stunden"
    re.compile(rf"\b(?:updated|posted|published|edited|modified)?\s*(?:about\s+)?\d+\s*{_UNITS}\s+ago\b", re.I),
    re.compile(r"\bvor\s+\d+\s+(?:sekunden|minuten|stunden|tagen|wochen)\b", re.I),
    re.compile(r"\b(?:just now|moments? ago|yesterday|today)\b", re.I),
    # ISO and numeric dates / times
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"),
    re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"),
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*(?:[A-Z]{2,4}T|UTC|GMT))?", re.I),
    # "Wednesday, February 01, 2017", "1 February 2017", "Feb. 1"
    re.compile(rf"\b(?:{_DAYS}\s*)?{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+\d{{4}})?\b", re.I),
    re.compile(rf"\b(?:{_DAYS}\s*)?\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTHS}(?:\s+\d{{4}})?\b", re.I),
    re.compile(rf"\b{_DAYS}(?=\s|$)", re.I),
    # counters: "1,234 views", "Number of views (4099)", "views: 12"
    re.compile(rf"\b\d[\d,.\s]*[kKmM]?\s+{_COUNTED}\b", re.I),
    re.compile(rf"\b{_COUNTED}\s*[:(]?\s*\d[\d,.]*[kKmM]?\)?", re.I),
    # copyright years
    re.compile(r"(?:\(c\)|©|copyright)\s*\d{4}(?:\s*-\s*\d{4})?", re.I),
    # long hex / base64-ish tokens (session ids, CSRF tokens, cache keys)
    re.compile(r"\b[0-9a-f]{12,}\b", re.I),
    re.compile(r"(?<![\w/])(?=[A-Za-z0-9+/_\-]*\d)(?=[A-Za-z0-9+/_\-]*[A-Za-z])[A-Za-z0-9+/_\-]{20,}={0,2}"),
]


def mask_volatile(line: str) -> str:
    """A line with dates, times, counters and random tokens masked."""
    for pattern in _VOLATILE:
        line = pattern.sub(" # ", line)
    return re.sub(r"\s+", " ", line).strip()


_SHORT_LINE_WORDS = 3


def _title_variants(titles) -> set[str]:
    """A page title and its parts split at ' | ', ' - ', ' :: ' (site name separators), lower-cased."""
    out = set()
    for title in titles:
        if not title:
            continue
        t = mask_volatile(title).lower()
        out.add(t)
        out.update(p.strip() for p in re.split(r"\s+(?:\||-|::|:|\u00bb|/)\s+", t) if p.strip())
    return out


def _significant_lines(text: str, ignore: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(masked, original) for each line that carries meaning: volatile parts masked, short
    link-list-like lines dropped. Comparison uses the masked form; reports show the original."""
    out = []
    for raw in text.split("\n"):
        line = mask_volatile(raw)
        wordish = re.findall(r"\w+", line.replace("#", ""))
        if len(wordish) <= _SHORT_LINE_WORDS or line.lower() in ignore:
            continue
        out.append((line, raw))
    return out


def text_change(old: str, new: str, titles: tuple[str | None, ...] = ()) -> dict | None:
    """None when old and new main text differ only by noise; else a diff summary dict.

    Lines equal to a page title are ignored: extractors keep or drop the headline
    depending on the layout around it.
    """
    if old == new:
        return None
    ignore = _title_variants(titles)
    lo, ln = _significant_lines(old, ignore), _significant_lines(new, ignore)
    # Order is ignored: rotated teasers and reshuffled blocks are not edits.
    co, cn = Counter(m for m, _ in lo), Counter(m for m, _ in ln)
    removed = set((co - cn).elements())
    added = set((cn - co).elements())
    if not removed and not added:
        return None
    gone_lines = [pair for pair in lo if pair[0] in removed]
    new_lines = [pair for pair in ln if pair[0] in added]
    masked_ops = word_diff("\n".join(m for m, _ in gone_lines), "\n".join(m for m, _ in new_lines))
    masked = diff_summary(masked_ops)
    if masked["added"] == 0 and masked["removed"] == 0:
        return None
    # Word-level check after masking: a line that only re-wrapped is not a change.
    words_old = Counter(w for m, _ in gone_lines for w in re.findall(r"\w+", m.lower()))
    words_new = Counter(w for m, _ in new_lines for w in re.findall(r"\w+", m.lower()))
    if words_old == words_new:
        return None
    # Counted and shown on the original words: the masks are for deciding, not for reading.
    return diff_summary(word_diff("\n".join(r for _, r in gone_lines), "\n".join(r for _, r in new_lines)))


# --------------------------------------------------------------------------- error pages

_NOT_FOUND = re.compile(
    r"(?:\b(?:page|file|article|document|content|resource|url|site|story|post|item)s?\b[^.\n]{0,40}?"
    r"\b(?:(?:was|were|could|can|cannot|can't|couldn't)\s+(?:not\s+)?(?:be\s+)?found|not\s+found|not\s+exist|"
    r"does\s*n[o']t\s+exist|no\s+longer\s+(?:exists?|available)|has\s+been\s+(?:removed|deleted)|is\s+unavailable)"
    r"|\b(?:error\s*)?404\b|\bnot\s+found\b|\bno\s+longer\s+available\b|\bdoes\s*n[o']t\s+exist\b"
    r"|\bseite\s+(?:wurde\s+)?nicht\s+gefunden|\bseite\s+existiert\s+nicht|\bpage\s+introuvable|\bpage\s+non\s+trouv"
    r"|\bp[aá]gina\s+no\s+(?:encontrada|existe)|\bp[aá]gina\s+n[aã]o\s+encontrada|\bpagina\s+non\s+trovata"
    r"|\bpagina\s+niet\s+gevonden|\bstrona\s+nie\s+(?:istnieje|zosta[lł]a\s+znaleziona)|\bсервер не найден|страница не найдена"
    r"|ページが見つかりません|页面不存在|找不到页面|페이지를 찾을 수 없습니다)",
    re.I,
)
_BLOCKED = re.compile(
    r"\b(?:access\s+denied|just\s+a\s+moment|attention\s+required|checking\s+your\s+browser|verify(?:ing)?\s+you\s+are\s+(?:a\s+)?human"
    r"|human\s+verification|are\s+you\s+a\s+robot|enable\s+javascript\s+and\s+cookies|request\s+access|request\s+blocked"
    r"|too\s+many\s+requests|rate\s+limit(?:ed)?|403\s+forbidden|^forbidden$|the\s+request\s+could\s+not\s+be\s+satisfied"
    r"|bad\s+gateway|gateway\s+time-?out|service\s+(?:temporarily\s+)?unavailable|internal\s+server\s+error"
    r"|captcha|ddos\s+protection|incapsula\s+incident|security\s+check|filter\s+service\s+portal)\b",
    re.I | re.M,
)
_SHORT_PAGE_WORDS = 150


def _wordcount(text: str | None) -> int:
    return len(re.findall(r"\w+", text or ""))


def _head(ex: Extracted, lines: int = 4) -> str:
    return "\n".join((ex.text or "").split("\n")[:lines])


def error_page_reason(ex: Extracted | None) -> str | None:
    """'not_found' or 'blocked' when a 200 answer is really an error/challenge page, else None."""
    if ex is None or ex.kind not in ("html", "text"):
        return None
    title = ex.title or ""
    short = _wordcount(ex.text) < _SHORT_PAGE_WORDS
    if _BLOCKED.search(title) or (short and _BLOCKED.search(_head(ex))):
        return "blocked"
    if _NOT_FOUND.search(title) and _wordcount(ex.text) < 4 * _SHORT_PAGE_WORDS:
        return "not_found"
    if short and _NOT_FOUND.search(_head(ex)):
        return "not_found"
    return None


# --------------------------------------------------------------------------- URLs

_CACHE_BUSTERS = re.compile(r"^(?:utm_\w+|_|cb|cachebust(?:er)?|nocache|ts|t|timestamp|v|ver|rand|r|rnd|fbclid|gclid|"
                            r"mc_cid|mc_eid|sessionid|sid|phpsessid|jsessionid|ref|source|__cf_\w+)$", re.I)
_RANDOMISH = re.compile(r"^(?:[0-9a-f]{8,}|\d{8,})$", re.I)


def same_address(a: str | None, b: str | None) -> bool:
    """Whether two URLs name the same page: scheme, www., trailing slash and cache-busting queries aside."""
    if not a or not b:
        return a == b
    return _address_key(a) == _address_key(b)


def _address_key(url: str) -> tuple[str, str, str]:
    norm = try_normalise(url) or url
    parts = urlsplit(norm)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    path = re.sub(r"/(?:index|default|home)\.(?:html?|php|aspx?)$", "", path) or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _CACHE_BUSTERS.match(k) and not _RANDOMISH.match(v)]
    return host, path, urlencode(sorted(query))


def _is_home(url: str) -> bool:
    host, path, query = _address_key(url)
    return not query and re.fullmatch(r"/(?:[a-z]{2}(?:-[a-z]{2})?|home|index|start|default)?/?", path.lower()) is not None


# --------------------------------------------------------------------------- classification

def _failure_kind(new: Observation) -> str | None:
    """'gone_now', 'transient', 'blocked' or None when the answer is a usable one."""
    status = new.http_status
    if new.error:
        # Unknown error codes are treated like network errors: confirmed before calling the page gone.
        return "transient"
    if status in (404, 410, 451):
        return "gone_now"
    if status in (202, 429):
        # 202 with no content is how some WAFs (AWS) answer with a JS challenge.
        return "blocked"
    if status is None:
        return "transient"
    if status == 304 and new.not_modified:
        return None  # the server says the content we hold is still current
    if status >= 300:  # 5xx, other 4xx, an unfollowed redirect: confirm before calling it gone
        return "transient"
    return None


def _has_text(ex: Extracted | None) -> TypeGuard[Extracted]:
    return ex is not None and ex.kind != "binary" and bool(ex.text)


def classify(previous: Observation | None, previous_state: str, new: Observation, failure_streak: int,
             confirm: int = 2, probe: Extracted | None = None) -> Verdict:
    """Verdict for ``new`` given the last good observation and the URL's state before this check."""
    was_bad = previous_state in ("gone", "soft_404")

    def bad(kind: str, state: str, **detail) -> Verdict:
        # Only the transition is an event: a page that stays gone is not news each time.
        return Verdict(None if previous_state == state else kind, None, detail, state)

    failure = _failure_kind(new)
    if failure == "gone_now":
        return bad("gone", "gone", reason=f"http_{new.http_status}", http_status=new.http_status)
    if failure == "blocked":
        # We could not look (rate limit, challenge): never evidence that the page went away.
        return Verdict(None, None, {"reason": "blocked", "http_status": new.http_status},
                       previous_state if was_bad else "failing")
    if failure == "transient":
        reason: str | None = new.error or f"http_{new.http_status}"
        if failure_streak >= confirm:
            return bad("gone", "gone", reason=reason, failure_streak=failure_streak, http_status=new.http_status)
        return Verdict(None, None, {"reason": reason, "failure_streak": failure_streak},
                       previous_state if was_bad else "failing")

    # A usable 2xx answer from here on.
    ex = new.extracted
    if new.not_modified and previous is not None:
        if was_bad:
            return Verdict("restored", 1.0, {"reason": "not_modified"}, "ok")
        return Verdict(None, 1.0, {}, "ok")

    reason = error_page_reason(ex)
    if reason == "blocked":
        return Verdict(None, None, {"reason": "blocked", "title": ex.title if ex else None},
                       previous_state if was_bad else "failing")
    if reason == "not_found":
        return bad("soft_404", "soft_404", reason="error_page", title=ex.title if ex else None)

    prev_ex = previous.extracted if previous else None
    prev_final = (previous.final_url or previous.requested_url) if previous else new.requested_url
    new_final = new.final_url or new.requested_url
    redirected = not same_address(new_final, new.requested_url) and not same_address(new_final, prev_final)

    if probe is not None and _has_text(ex) and _has_text(probe):
        sim_probe = similarity(ex.text or "", probe.text or "")  # both non-empty (_has_text)
        prev_like_probe = _has_text(prev_ex) and similarity(prev_ex.text or "", probe.text or "") >= 0.9
        if sim_probe >= 0.9 and not prev_like_probe:
            return bad("soft_404", "soft_404", reason="like_probe", probe_similarity=round(sim_probe, 3))

    if redirected and _is_home(new_final) and not _is_home(new.requested_url):
        return bad("soft_404", "soft_404", reason="redirect_home", redirect_to=new_final)

    if ex is None or ex.kind == "binary" or (ex.kind == "pdf" and not ex.text) or (
            prev_ex is not None and (prev_ex.kind == "binary" or not prev_ex.text) and not ex.text):
        return _compare_bytes(previous, new, was_bad, redirected, new_final)

    if previous is None or prev_ex is None or not prev_ex.text:
        # No good baseline: this answer becomes one.
        if was_bad:
            return Verdict("restored", None, {"reason": "content_back"}, "ok")
        return Verdict(None, None, {"reason": "baseline"}, "ok")

    new_text = ex.text or ""
    if not new_text.strip():
        return bad("soft_404", "soft_404", reason="empty_page")

    change = text_change(prev_ex.text, new_text, (prev_ex.title, ex.title))
    sim = 1.0 if change is None else round(similarity(prev_ex.text, new_text), 4)
    detail: dict = {}
    if change is not None:
        detail["diff_summary"] = change
    if redirected:
        detail["redirect_to"] = new_final
        if change is not None and sim < 0.3:
            return bad("soft_404", "soft_404", reason="redirect_unrelated", similarity=sim, **detail)
    if was_bad:
        detail["reason"] = "content_back"
        detail["content_changed"] = change is not None
        return Verdict("restored", sim, detail, "ok")
    if change is not None:
        detail["reason"] = "text_changed"
        if prev_ex.title != ex.title:
            detail["title"] = {"from": prev_ex.title, "to": ex.title}
        return Verdict("content_changed", sim, detail, "ok")
    if redirected:
        detail["reason"] = "same_text_new_address"
        return Verdict("moved", sim, detail, "ok")
    return Verdict(None, sim, {}, "ok")


def _compare_bytes(previous: Observation | None, new: Observation, was_bad: bool, redirected: bool,
                   new_final: str) -> Verdict:
    """Payloads without text (images, archives, unreadable PDFs): only the bytes can tell."""
    detail: dict = {"redirect_to": new_final} if redirected else {}
    if was_bad:
        return Verdict("restored", None, {"reason": "content_back", **detail}, "ok")
    if previous is None or not previous.payload_sha256 or not new.payload_sha256:
        return Verdict(None, None, {"reason": "baseline", **detail}, "ok")
    if previous.payload_sha256 != new.payload_sha256:
        return Verdict("binary_changed", None, {"reason": "payload_differs", "from_sha256": previous.payload_sha256,
                                                "to_sha256": new.payload_sha256, **detail}, "ok")
    if redirected:
        return Verdict("moved", 1.0, {"reason": "same_payload_new_address", **detail}, "ok")
    return Verdict(None, 1.0, {}, "ok")
