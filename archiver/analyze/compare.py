"""Classify a recheck of a cited URL against its last good observation.

The hard part is silence: pages change all the time in ways no reader cares about
(timestamps, counters, tokens, ads, rotating related links, a new layout). Content is
judged by archiver.analyze.judge on what a reader sees (title, main text, the page's own
links and images) after generic and page-learned noise is masked; what remains must match
word for word, so one edited word in a quote still counts. Before that, answers that are
not the page at all are told apart: error pages (soft 404), CDN challenges (we could not
look), and login, consent and region walls (``blocked``: the page is there, readers are kept out).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeGuard
from urllib.parse import parse_qsl, urlencode, urlsplit

from archiver.analyze.judge import VolatileMask, judge, judgement_detail, mask_volatile  # noqa: F401 -- mask_volatile re-exported
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
    state: str = "ok"  # 'ok' | 'gone' | 'soft_404' | 'blocked' | 'failing'

    @property
    def severity(self) -> str | None:
        """'rewrite' | 'substantive' | 'minor' for a content change, else None."""
        return self.detail.get("severity")

    @property
    def summary(self) -> list[str]:
        """Plain-language lines saying what changed (content changes and blocks)."""
        return list(self.detail.get("summary") or [])


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
_WALL_SUMMARY = {
    "login_wall": "now behind a login or subscription wall",
    "consent_wall": "now shows a consent wall instead of the page",
    "region_block": "now not available in this region",
}


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


# Walls: the page answers 200 but shows readers a gate instead of itself.
_WALLS = (
    ("login_wall", re.compile(
        r"\b(?:(?:sign|log)\s*in|register|subscribe|create\s+(?:a\s+)?(?:free\s+)?account)\s+(?:now\s+)?to\s+"
        r"(?:continue|keep\s+reading|read|view|see|access|unlock)"
        r"|\bplease\s+(?:sign|log)\s*in\b|\byou\s+(?:must|need\s+to)\s+(?:be\s+)?(?:sign(?:ed)?|log(?:ged)?)\s*in"
        r"|\b(?:this|the)\s+(?:content|article|story|page|document)\s+is\s+(?:only\s+)?(?:available|reserved)\s+"
        r"(?:to|for)\s+(?:subscribers|members|registered\s+users)"
        r"|\bsubscribers?\s+only\b|\balready\s+a\s+subscriber\b|\bmembers?\s+only\s+(?:content|area|article)",
        re.I)),
    ("consent_wall", re.compile(
        r"\bwe\s+value\s+your\s+privacy\b|\b(?:accept|agree\s+to|allow)\s+(?:all\s+)?cookies\b"
        r"|\bcookie\s+(?:consent|settings|preferences|choices)\b|\bbefore\s+you\s+continue\b"
        r"|\bwe\s+and\s+our\s+(?:\d+\s+)?(?:vendors|partners)\b|\bmanage\s+(?:your\s+)?(?:privacy\s+)?"
        r"(?:options|preferences|choices|settings)\b|\b(?:reject|accept)\s+all\b|\byour\s+privacy\s+choices\b"
        r"|\bconsent\s+to\s+(?:the\s+use\s+of\s+)?(?:cookies|your\s+data|data\s+processing)",
        re.I)),
    ("region_block", re.compile(
        r"\b(?:not|isn't|is\s+not)\s+(?:currently\s+)?available\s+in\s+your\s+(?:country|region|location|area|territory)"
        r"|\bunavailable\s+in\s+your\s+(?:country|region|location|area)"
        r"|\b(?:not\s+)?(?:available|accessible)\s+(?:from|to\s+users\s+in)\s+your\s+(?:country|region|location)"
        r"|\bgeo[-\s]?(?:blocked|restricted|blocking)\b|\bunavailable\s+for\s+legal\s+reasons\b"
        r"|\baccess\s+from\s+your\s+(?:country|region|location|area)\s+(?:is|has\s+been)\s+(?:blocked|restricted|denied)"
        r"|\bnot\s+available\s+(?:in|to\s+visitors\s+from)\s+(?:the\s+)?(?:european\s+union|eu|eea|europe)\b",
        re.I)),
)
_WALL_KEEPS = 0.5  # share of the old page's words a walled answer may still show (a teaser paragraph)


def wall_reason(ex: Extracted | None, previous: Extracted | None = None) -> str | None:
    """'login_wall', 'consent_wall' or 'region_block' when a 200 answer gates the page, else None.

    Gate wording in the title or main text counts on a short page, or on one that keeps less
    than half of the page it replaced (a paywall's teaser paragraph). Gate wording only
    elsewhere on the page (an overlay the extractor leaves out, or a cookie banner beside
    the article) counts only when the main text is short and the old page's is gone.
    Wording the page already had (an article about cookies) never counts.
    """
    if ex is None or ex.kind not in ("html", "text"):
        return None
    text = ex.text or ""
    words = _wordcount(text)
    old_words = _wordcount(previous.text) if previous is not None else 0
    short = words < _SHORT_PAGE_WORDS
    shrunk = old_words > 0 and words < _WALL_KEEPS * old_words
    if not (short or shrunk):
        return None
    main = f"{ex.title or ''}\n{text}"
    page = ((ex.features or {}).get("page") or {}).get("text") or ""
    overlay = page[:20_000] if short and (shrunk or previous is None) and _wordcount(page) < 4 * _SHORT_PAGE_WORDS else ""
    old = f"{previous.title or ''}\n{previous.text or ''}" if previous is not None else ""
    for reason, pattern in _WALLS:
        hits = {m.group(0).lower() for m in pattern.finditer(f"{main}\n{overlay}")}
        if hits and not hits <= {m.group(0).lower() for m in pattern.finditer(old)}:
            return reason
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
    """'gone_now', 'walled', 'transient', 'blocked' or None when the answer is a usable one."""
    status = new.http_status
    if new.error:
        # Unknown error codes are treated like network errors: confirmed before calling the page gone.
        return "transient"
    if status in (404, 410):
        return "gone_now"
    if status in (401, 451):
        return "walled"  # authentication required; unavailable for legal reasons (a region block)
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
             confirm: int = 2, probe: Extracted | None = None, volatile: VolatileMask | None = None) -> Verdict:
    """Verdict for ``new`` given the last good observation and the URL's state before this check.

    ``volatile``: what is known to differ between fetches of this page moments apart.
    """
    was_bad = previous_state in ("gone", "soft_404", "blocked")

    def bad(kind: str, state: str, **detail) -> Verdict:
        # Only the transition is an event: a page that stays gone is not news each time.
        return Verdict(None if previous_state == state else kind, None, detail, state)

    failure = _failure_kind(new)
    if failure == "gone_now":
        return bad("gone", "gone", reason=f"http_{new.http_status}", http_status=new.http_status)
    if failure == "walled":
        wall = "login_wall" if new.http_status == 401 else "region_block"
        return bad("blocked", "blocked", reason=wall, http_status=new.http_status, summary=[_WALL_SUMMARY[wall]])
    if failure == "blocked":
        # We could not look (rate limit, challenge): never evidence that the page went away.
        return Verdict(None, None, {"reason": "blocked", "http_status": new.http_status},
                       previous_state if was_bad else "failing")
    if failure == "transient":
        failed = new.error or f"http_{new.http_status}"
        if failure_streak >= confirm:
            return bad("gone", "gone", reason=failed, failure_streak=failure_streak, http_status=new.http_status)
        return Verdict(None, None, {"reason": failed, "failure_streak": failure_streak},
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
    walled = wall_reason(ex, previous.extracted if previous else None)
    if walled:
        return bad("blocked", "blocked", reason=walled, title=ex.title if ex else None, summary=[_WALL_SUMMARY[walled]])

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

    change = judge(prev_ex, ex, volatile)
    sim = 1.0 if change is None else change.similarity
    detail: dict = {}
    if change is not None:
        detail.update(judgement_detail(change))
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
