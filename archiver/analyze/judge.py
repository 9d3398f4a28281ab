"""What a reader would notice between two versions of a page, said in plain words, with how much it matters.

The judgement looks at what a reader sees: the title, the main text line by line (numbers,
names, negations, headings), the page's own links and its images (archiver.analyze.features).
Noise is taken out in two ways:

* generic masks for what is volatile on any page (``5 minutes ago``, ``1,234 views``,
  copyright years, session tokens) and for dates and clock times standing on a line of
  their own (bylines, datelines, "Last updated ..."). A date or a time inside a sentence is
  content: an edited time in the text is an event.
* a :class:`VolatileMask` learned from the page itself, from two fetches a few seconds
  apart (whatever differs between them is volatile on that page: a ticker, a rotating box).

Each finding gets a summary ("number changed: 12 -> 15") and a severity; the judgement's
severity is its most serious finding's.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from archiver.analyze.diff import diff_summary, word_diff
from archiver.analyze.features import PageText, digest, is_utility_link
from archiver.analyze.kinds import SEVERITIES  # most serious first: rewrite, substantive, minor
from archiver.analyze.text import Extracted, similarity


def severity_rank(severity: str | None) -> int:
    """0 for a rewrite; unknown or missing severities last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


# --------------------------------------------------------------------------- generic masks

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAYS = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
_UNITS = r"(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|weeks?|months?|years?|mins?)"
_COUNTED = (r"(?:views?|reads?|comments?|shares?|likes?|replies|reactions?|followers?|subscribers?|"
            r"visits?|visitors?|votes?|points?|clicks?|downloads?|plays?|retweets?|responses?)")

# Volatile wherever they stand.
_ALWAYS = [
    re.compile(r"\b(?:just now|moments? ago)\b", re.I),
    # a byline's date, even where an extractor glued the byline to the first paragraph:
    # "by Jeff Foust Monday, November 18, 2019 Earlier this month, ..."
    re.compile(rf"(?<=\bby )(?:[A-Z][\w.'\-]*\s+){{1,4}}(?i:(?:{_DAYS}\s*)?{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"),
    # counters: "1,234 views", "Number of views (4099)", "views: 12"
    re.compile(rf"\b\d[\d,.]*[kKmM]?\s+{_COUNTED}\b", re.I),
    re.compile(rf"\b(?:number\s+of\s+)?{_COUNTED}\s*[:(]\s*\d[\d,.]*[kKmM]?\)?", re.I),
    # copyright years
    re.compile(r"(?:\(c\)|©|copyright)\s*\d{4}(?:\s*-\s*\d{4})?", re.I),
    # long hex / base64-ish tokens (session ids, CSRF tokens, cache keys)
    re.compile(r"\b[0-9a-f]{12,}\b", re.I),
    re.compile(r"(?<![\w/])(?=[A-Za-z0-9+/_\-]*\d)(?=[A-Za-z0-9+/_\-]*[A-Za-z])[A-Za-z0-9+/_\-]{20,}={0,2}"),
]
# Dates, times and ages: volatile only on a line that is little else (a byline, a dateline, a
# stamp); in a sentence ("18 years ago", "at 10:30") they are content.
_STAMPS = [
    # "Updated 5 minutes ago", "3 hrs ago", "vor 2 Stunden"
    re.compile(rf"\b(?:updated|posted|published|edited|modified)?\s*(?:about\s+)?\d+\s*{_UNITS}\s+ago\b", re.I),
    re.compile(r"\bvor\s+\d+\s+(?:sekunden|minuten|stunden|tagen|wochen)\b", re.I),
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"),
    re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"),
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?(?![a-z]))?(?:\s*(?:[A-Z]{2,4}T|UTC|GMT|ET|CT|PT|MT)\b)?", re.I),
    re.compile(rf"\b(?:{_DAYS}\s*)?{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+\d{{4}})?\b", re.I),
    re.compile(rf"\b(?:{_DAYS}\s*)?\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTHS}(?:\s+\d{{4}})?\b", re.I),
    re.compile(rf"\b{_DAYS}(?=\s|$)", re.I),
    re.compile(r"\b(?:today|yesterday|updated|published|posted|last\s+(?:updated|modified|reviewed))\b", re.I),
]
_STAMP_LINE_WORDS = 6  # words left on a line once its dates are out, for it to count as a stamp


def _squash(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def mask_stamps(line: str) -> str:
    """A line with every date, clock time and age masked, wherever it stands."""
    for pattern in _STAMPS:
        line = pattern.sub(" # ", line)
    return _squash(line)


def mask_volatile(line: str) -> str:
    """A line with counters, relative times and random tokens masked; its dates and clock
    times masked too when the line is a stamp (a byline or dateline) rather than a sentence."""
    for pattern in _ALWAYS:
        line = pattern.sub(" # ", line)
    dated = line
    for pattern in _STAMPS:
        dated = pattern.sub(" # ", dated)
    if dated != line and len(re.findall(r"[^\W\d_]+", dated)) <= _STAMP_LINE_WORDS:
        line = dated
    return _squash(line)


# --------------------------------------------------------------------------- learned noise

@dataclass
class VolatileMask:
    """What differs between two fetches of one page a few seconds apart: masked on that page."""

    lines: list[str] = field(default_factory=list)  # regular expressions over masked, lower-cased lines
    links: list[str] = field(default_factory=list)  # link keys
    images: list[str] = field(default_factory=list)  # image keys

    def __bool__(self) -> bool:
        return bool(self.lines or self.links or self.images)

    def to_json(self) -> dict:
        return {"lines": self.lines, "links": self.links, "images": self.images}

    @classmethod
    def from_json(cls, data: dict | None) -> VolatileMask:
        data = data or {}
        return cls(list(data.get("lines", [])), list(data.get("links", [])), list(data.get("images", [])))

    def merge(self, other: VolatileMask) -> VolatileMask:
        return VolatileMask(_union(self.lines, other.lines), _union(self.links, other.links), _union(self.images, other.images))

    def masks_line(self, masked_lower: str) -> bool:
        return any(re.fullmatch(p, masked_lower) for p in self.lines)

    def moving_words(self, masked: str) -> list[bool] | None:
        """For a line a learned pattern matches, which of its words (split on spaces) move by
        themselves; None when no pattern matches. A line learned whole moves whole."""
        lower = masked.lower()
        words = lower.split(" ")
        for pattern in self.lines:
            if _WILD not in pattern:
                if re.fullmatch(pattern, lower):
                    return [True] * len(words)
                continue
            tokens = pattern.replace(_WILD, "\0").split(" ")
            m = re.fullmatch(" ".join(f"({_WILD})" if t == "\0" else f"({t})" for t in tokens), lower)
            if m is None:
                continue
            wild_units = [t == "\0" for t in tokens]
            # A number the two fetches happened to share, next to numbers that moved, is a
            # ticker's digit that held still by chance: it moves too.
            numeric = ["\\d+" in t for t in tokens]
            near = [w or (numeric[i] and any(wild_units[max(0, i - _NEAR):i + _NEAR + 1]))
                    for i, w in enumerate(wild_units)]
            moving = [False] * len(words)
            for unit, start in enumerate(m.start(g + 1) for g in range(len(tokens))):
                if near[unit]:
                    first = lower.count(" ", 0, start)
                    for k in range(first, first + m.group(unit + 1).count(" ") + 1):
                        moving[k] = True
            # A date is one thing: when its day or year moved by itself, its month did too
            # (two fetches may draw the same month by chance).
            for stamp in _STAMPS:
                for d in stamp.finditer(lower):
                    first, last = lower.count(" ", 0, d.start()), lower.count(" ", 0, max(d.start(), d.end() - 1))
                    if any(moving[first:last + 1]):
                        moving[first:last + 1] = [True] * (last + 1 - first)
            return moving
        return None


def _union(a: list[str], b: list[str]) -> list[str]:
    return a + [x for x in b if x not in a]


_WILD = r"\S+(?: \S+)*?"
_MAX_WILD = 8
_NEAR = 3  # words around a moving part within which a shared number may have held still by chance


def _template(a: str, b: str) -> str:
    """A pattern matching line a, line b, and lines like them: the words they share fixed, the rest
    wild; the digits of a shared word match any digits (a ticker's digits match by chance), which
    keeps a long line full of numbers to as few wild runs as it has differences."""
    wa, wb = a.split(" "), b.split(" ")
    parts: list[str] = []
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        for w in wa[i1:i2] if tag == "equal" else [None]:
            if w is not None:
                parts.append(re.escape(re.sub(r"\d+", "0", w)).replace("0", r"\d+"))
            elif not parts or parts[-1] != _WILD:
                parts.append(_WILD)
    pattern = " ".join(parts)
    return pattern.replace(f"{_WILD} {_WILD}", _WILD)


def learn_volatile(first: Extracted | None, second: Extracted | None) -> VolatileMask:
    """The parts of a page that differ between two fetches of it made moments apart."""
    mask = VolatileMask()
    if first is None or second is None:
        return mask
    la = [m.lower() for m, _ in _lines(first.text or "")]
    lb = [m.lower() for m, _ in _lines(second.text or "")]
    only_a = list((Counter(la) - Counter(lb)).elements())
    only_b = list((Counter(lb) - Counter(la)).elements())
    for a, b in _pairs(only_a, only_b, 0.4):
        if a is not None and b is not None:
            pattern = _template(a, b)
            # Few wild runs keep matching linear; a line that differs in many places is
            # better judged than masked.
            if pattern.count(_WILD) <= _MAX_WILD:
                mask.lines.append(pattern)
        else:
            mask.lines.append(re.escape(a if a is not None else b))
    fa, fb = first.features or {}, second.features or {}
    for kind in ("links", "images"):
        ka = {x[0] for x in fa.get(kind, [])}
        kb = {x[0] for x in fb.get(kind, [])}
        setattr(mask, kind, sorted(ka ^ kb))
    if (first.title or "") != (second.title or ""):
        mask.lines.append(_template(mask_volatile(first.title or "").lower(), mask_volatile(second.title or "").lower()))
    return mask


# --------------------------------------------------------------------------- lines

_SHORT_LINE_WORDS = 3


def _lines(text: str, ignore: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(masked, original) for each line that carries meaning. Short lines go unless they hold a
    number (a heading like "Budget" is judged with the headings; "Cost: 12m" is content)."""
    out = []
    for raw in text.split("\n"):
        line = mask_volatile(raw)
        wordish = re.findall(r"\w+", line.replace("#", ""))
        if not wordish or line.lower() in ignore:
            continue
        if len(wordish) <= _SHORT_LINE_WORDS and not re.search(r"\d", line.replace("#", "")):
            continue
        out.append((line, raw))
    return out


def _title_variants(titles) -> set[str]:
    """A page title and its parts split at ' | ', ' - ', ' :: ' (site name separators), lower-cased."""
    out = set()
    for title in titles:
        if not title:
            continue
        t = mask_volatile(title).lower()
        out.add(t)
        out.update(p.strip() for p in _TITLE_SPLIT.split(t) if p.strip())
    return out


_TITLE_SPLIT = re.compile(r"\s+(?:\||-|::|:|\u00bb|/|>)\s+")


def _ratio(a: str, b: str) -> float:
    wa, wb = a.lower().split(), b.lower().split()
    return difflib.SequenceMatcher(None, wa, wb, autojunk=False).ratio()


_MAX_PAIRING = 120  # lines on each side above which pairing is not tried (the page was rewritten)


def _pairs(removed: list, added: list, floor: float = 0.5):
    """(old, new) edit pairs by best word overlap; (old, None) and (None, new) for the unpaired."""
    if len(removed) > _MAX_PAIRING or len(added) > _MAX_PAIRING:
        return [(r, None) for r in removed] + [(None, a) for a in added]
    def key(x):
        return x[0] if isinstance(x, tuple) else x

    scored = sorted(((_ratio(key(r), key(a)), i, j) for i, r in enumerate(removed) for j, a in enumerate(added)),
                    reverse=True)
    used_r, used_a, out = set(), set(), []
    for score, i, j in scored:
        if score < floor:
            break
        if i in used_r or j in used_a:
            continue
        used_r.add(i)
        used_a.add(j)
        out.append((i, j))
    pairs = [(removed[i], added[j]) for i, j in sorted(out)]
    pairs += [(r, None) for i, r in enumerate(removed) if i not in used_r]
    pairs += [(None, a) for j, a in enumerate(added) if j not in used_a]
    return pairs


# --------------------------------------------------------------------------- findings

@dataclass
class Finding:
    what: str  # title, heading, paragraph_removed, paragraph_added, correction, number, name, negation,
    #            wording, rewritten_paragraph, link_removed, link_added, link_changed, image_removed,
    #            image_added, image_replaced, rewrite
    summary: str
    severity: str

    def to_json(self) -> dict:
        return {"what": self.what, "summary": self.summary, "severity": self.severity}


@dataclass
class Judgement:
    findings: list[Finding]
    diff: dict  # archiver.analyze.diff.diff_summary of the changed lines
    similarity: float

    @property
    def severity(self) -> str:
        return min((f.severity for f in self.findings), key=severity_rank)

    def summaries(self, limit: int = 12) -> list[str]:
        ordered = sorted(self.findings, key=lambda f: severity_rank(f.severity))
        out = [f.summary for f in ordered[:limit]]
        if len(ordered) > limit:
            out.append(f"... and {len(ordered) - limit} more")
        return out


def _clip(text: str, width: int = 100) -> str:
    text = _squash(text)
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


_CORRECTION = re.compile(
    r"^(?:[*\-\s]*)(?:correction|corrections|clarification|editor'?s\s+note|update[ds]?|erratum|retraction)\b"
    r"|\ban\s+earlier\s+version\s+of\s+this\b|\bthis\s+(?:article|story|post|report|page)\s+(?:has\s+been|was)\s+"
    r"(?:corrected|updated|amended|changed)",
    re.I,
)
_OPENER = re.compile(r"(?:^|[.!?:]\s+)[\"'(\[-]*(\w+)")
_NEGATIONS = {"not", "no", "never", "none", "nor", "n't", "cannot", "without", "neither", "nobody", "nothing"}
_NUMBER = re.compile(r"^[$€£¥]?\d[\d,.:]*%?$|^\d+(?:st|nd|rd|th)$")


def _tokens(line: str) -> list[str]:
    return re.findall(r"\d{1,2}:\d{2}(?::\d{2})?|[$€£¥]?\d[\d,.]*\d%?|[$€£¥]?\d%?|\w+(?:['\u2019]\w+)*", line)


def _edit_findings(old: str, new: str, headings: set[str]) -> list[Finding]:
    """Findings for one line edited into another: numbers, names, negations, else wording."""
    if old.lower() in headings or new.lower() in headings:
        return [Finding("heading", f'heading changed from "{_clip(old, 60)}" to "{_clip(new, 60)}"', "substantive")]
    to, tn = _tokens(old), _tokens(new)
    # Words that open a sentence are capitalised whatever they are: not names.
    openers = set(_OPENER.findall(old)) | set(_OPENER.findall(new))
    findings: list[Finding] = []
    changed_old: list[str] = []
    changed_new: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, to, tn, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        a, b = to[i1:i2], tn[j1:j2]
        changed_old += a
        changed_new += b
        nums_a = [t for t in a if _NUMBER.match(t.rstrip(".,"))]
        nums_b = [t for t in b if _NUMBER.match(t.rstrip(".,"))]
        if nums_a or nums_b:
            findings.append(Finding("number", f"number changed: {' '.join(nums_a) or '(none)'} -> {' '.join(nums_b) or '(none)'}",
                                    "substantive"))
        names_a = [t for t in dict.fromkeys(a) if t[:1].isupper() and t not in openers]
        names_b = [t for t in dict.fromkeys(b) if t[:1].isupper() and t not in openers]
        # A person, a place, an organisation put in, taken out or swapped (a capitalised first
        # word of the line alone is just the start of a sentence).
        if set(names_a) != set(names_b) and not (i1 == 0 and j1 == 0 and len(a) == len(b) == 1):
            findings.append(Finding("name", f"name changed: {_clip(' '.join(names_a), 40) or '(none)'} -> "
                                            f"{_clip(' '.join(names_b), 40) or '(none)'}", "substantive"))
    neg_old = sum(1 for t in to if t.lower() in _NEGATIONS or t.lower().endswith("n't"))
    neg_new = sum(1 for t in tn if t.lower() in _NEGATIONS or t.lower().endswith("n't"))
    if neg_old != neg_new:
        findings.append(Finding("negation", f'negation {"added" if neg_new > neg_old else "removed"}: "{_clip(new, 70)}"',
                                "substantive"))
    if findings:
        return findings
    share = (len(changed_old) + len(changed_new)) / max(1, len(to) + len(tn))
    if share > 0.35:
        return [Finding("rewritten_paragraph", f'paragraph rewritten: "{_clip(old, 50)}" -> "{_clip(new, 50)}"', "substantive")]
    return [Finding("wording", f'wording changed: "{_clip(" ".join(changed_old), 50)}" -> "{_clip(" ".join(changed_new), 50)}"'
                    f' in "{_clip(new, 60)}"', "minor")]


def _title_parts(title: str | None) -> list[str]:
    t = mask_volatile(title or "").lower()
    return [p.strip() for p in _TITLE_SPLIT.split(t) if p.strip()] or [t]


def _title_changed(old: str | None, new: str | None) -> bool:
    """Whether the title says something else. Titles are "Headline | Site" in some order and
    the headline is their longest part: when that part is still in the new title, only the
    site name or the separators changed (a new template), not the title."""
    if not old or not new:
        return False
    a, b = _title_parts(old), _title_parts(new)
    if a == b:
        return False
    return max(a, key=len) not in b or max(b, key=len) not in a


def _feature_findings(old: dict, new: dict, mask: VolatileMask | None) -> list[Finding]:
    """Links and images gone from or new on the page. Additions are minor: redesigns and rotating
    boxes add links all the time, and nothing a reader cited is lost by them."""
    findings: list[Finding] = []
    for kind in ("links", "images"):
        volatile = set(getattr(mask, kind)) if mask else set()
        before = {k: label for k, label in old.get(kind, []) if k not in volatile}
        after = {k: label for k, label in new.get(kind, []) if k not in volatile}
        # Still (or already) somewhere on the page: moved in or out of a box by a new template.
        new_page, old_page = _page(new, kind), _page(old, kind)
        gone = [k for k in before if k not in after and (new_page is None or digest(k) not in new_page)]
        came = [k for k in after if k not in before and (old_page is None or digest(k) not in old_page)]
        if kind == "links":
            by_label = {after[k].lower(): k for k in came if after[k]}
            gone = [k for k in gone if not is_utility_link(k, old.get("self"))]
            for k in gone:
                label = before[k]
                moved_to = by_label.pop(label.lower(), None) if label else None
                if moved_to is not None:
                    came.remove(moved_to)
                    findings.append(Finding("link_changed", f'link "{_clip(label, 50)}" now points to {moved_to} (was {k})',
                                            "substantive"))
                else:
                    findings.append(Finding("link_removed", f"link removed: {_describe(label, k)}", "substantive"))
            findings += [Finding("link_added", f"link added: {_describe(after[k], k)}", "minor") for k in came]
        else:
            for k_old, k_new in _pairs(gone, came, 0.0) if gone and came else [(k, None) for k in gone] + [(None, k) for k in came]:
                if k_old and k_new:
                    findings.append(Finding("image_replaced", f"image replaced: {_describe(before[k_old], k_old)} -> "
                                                              f"{_describe(after[k_new], k_new)}", "substantive"))
                elif k_old:
                    findings.append(Finding("image_removed", f"image removed: {_describe(before[k_old], k_old)}", "substantive"))
                else:
                    findings.append(Finding("image_added", f"image added: {_describe(after[k_new], k_new)}", "minor"))
    return findings


_ADDITIONS = ("link_added", "image_added")


def _describe(label: str, key: str) -> str:
    return f'"{_clip(label, 50)}" ({key})' if label else key


def _page(features: dict | None, kind: str) -> set[str] | None:
    page = (features or {}).get("page")
    return set(page.get(kind, [])) if page else None


def _still_there(pairs, old_features: dict | None, new_features: dict | None):
    """The pairs left once lines that both versions show somewhere on the page are taken out:
    a new template or an extractor's boundary moved them, nobody wrote or deleted them.
    An edit pair goes only when each side is on the other page (a word inserted leaves
    the old line inside the new page, but not the new line inside the old one)."""
    if not pairs:
        return pairs
    old_page, new_page = _page_text(old_features), _page_text(new_features)
    if old_page is None or new_page is None:
        return pairs
    kept = []
    for before, after in pairs:
        if before is not None and after is not None:
            there = new_page.holds(before[1]) and old_page.holds(after[1])
        elif before is not None:
            there = new_page.holds_block(before[1])
        else:
            there = old_page.holds_block(after[1])
        if not there:
            kept.append((before, after))
    return kept


def _page_text(features: dict | None) -> PageText | None:
    text = ((features or {}).get("page") or {}).get("text")
    return PageText(text) if text else None


def _take(lines: list[tuple[str, str]], counts: Counter) -> list[tuple[str, str]]:
    """The lines counted in ``counts`` (as many of each as counted), in document order."""
    out = []
    for pair in lines:
        if counts[pair[0]] > 0:
            counts[pair[0]] -= 1
            out.append(pair)
    return out


def _moved_block(words: list[str], page: PageText | None) -> bool:
    """Whether words that came or went inside a line are a block the other page shows
    elsewhere: an extractor gluing a box to the line, or leaving it out, not a writer."""
    return page is not None and len(re.findall(r"\w+", " ".join(words))) >= 2 and page.holds(" ".join(words))


def _without_learned_noise(mask: VolatileMask, before, after, old_page: PageText | None = None,
                           new_page: PageText | None = None):
    """An edit pair with what the page moves by itself taken out: None when nothing else
    changed, else the pair with the moving words shown as "#" in both lines, so that an edit
    elsewhere in a learned line is still judged (and summarised without the noise)."""
    if before is None or after is None:
        # A line that comes or goes whole, in the shape of one the page moves by itself (a
        # ticker whose every number moved pairs with nothing), is that line again.
        return None if mask.moving_words((before or after)[0]) is not None else (before, after)
    # The lesson was learned on today's version of the line; the old one is read against it.
    moving = mask.moving_words(after[0])
    matched, other, flipped = after[0], before[0], False
    if moving is None:
        moving = mask.moving_words(before[0])
        matched, other, flipped = before[0], after[0], True
    if moving is None:
        return before, after
    mw, ow = matched.split(" "), other.split(" ")
    keep_m, keep_o = list(mw), list(ow)
    real = False
    opcodes = difflib.SequenceMatcher(None, [w.lower() for w in ow], [w.lower() for w in mw], autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        region = moving[j1:j2] if j2 > j1 else moving[max(0, j1 - 1):j1 + 1]
        if region and all(region):
            keep_o[i1:i2] = ["#"] * (i2 - i1)
            keep_m[j1:j2] = ["#"] * (j2 - j1)
            continue
        # A learned line is one an extractor glued together; what its boundary took in or let go
        # (a box of headlines) is elsewhere on the other page.
        o_page, m_page = (new_page, old_page) if not flipped else (old_page, new_page)
        if all(not side or _moved_block(side, page) for side, page in ((ow[i1:i2], o_page), (mw[j1:j2], m_page))):
            continue
        real = True
    if not real:
        return None
    o_text, m_text = _squash(" ".join(keep_o)), _squash(" ".join(keep_m))
    if flipped:
        return (before[0], m_text), (after[0], o_text)
    return (before[0], o_text), (after[0], m_text)


_REWRITE_SIMILARITY = 0.5
_REWRITE_SHARE = 0.5  # share of the old lines gone or rewritten


def judge(old: Extracted, new: Extracted, mask: VolatileMask | None = None) -> Judgement | None:
    """None when a reader would see no difference between old and new; else what changed."""
    titles = (old.title, new.title)
    ignore = _title_variants(titles)
    lo, ln = _lines(old.text or "", ignore), _lines(new.text or "", ignore)
    # Order is ignored: rotated teasers and reshuffled blocks are not edits.
    co, cn = Counter(m for m, _ in lo), Counter(m for m, _ in ln)
    gone_masked, came_masked = co - cn, cn - co
    gone, came = _take(lo, gone_masked), _take(ln, came_masked)
    # A line that only re-wrapped or changed case is not an edit.
    if Counter(w for m, _ in gone for w in re.findall(r"\w+", m.lower())) == Counter(
            w for m, _ in came for w in re.findall(r"\w+", m.lower())):
        gone, came = [], []

    findings: list[Finding] = []
    if _title_changed(old.title, new.title) and not (
            mask and mask.masks_line(mask_volatile(new.title or "").lower())):
        findings.append(Finding("title", f'title changed from "{_clip(old.title or "", 70)}" to "{_clip(new.title or "", 70)}"',
                                "substantive"))
    headings = {h.lower() for h in (old.features or {}).get("headings", []) + (new.features or {}).get("headings", [])}
    pairs = _still_there(_pairs(gone, came), old.features, new.features)
    if mask is not None and mask.lines:
        old_page, new_page = _page_text(old.features), _page_text(new.features)
        pairs = [p for p in (_without_learned_noise(mask, b, a, old_page, new_page) for b, a in pairs) if p is not None]
    gone = [b for b, _ in pairs if b is not None]
    came = [a for _, a in pairs if a is not None]
    for before, after in pairs:
        if before and after:
            findings += _edit_findings(before[1], after[1], headings)
        elif before:
            what = "heading" if before[1].lower() in headings else "paragraph"
            findings.append(Finding(f"{what}_removed" if what == "paragraph" else what,
                                    f'{what} removed: "{_clip(before[1])}"', "substantive"))
        else:
            raw = after[1]
            if _CORRECTION.search(raw):
                findings.append(Finding("correction", f'correction appended: "{_clip(raw)}"', "substantive"))
            else:
                what = "heading" if raw.lower() in headings else "paragraph"
                findings.append(Finding(f"{what}_added" if what == "paragraph" else what,
                                        f'{what} added: "{_clip(raw)}"', "substantive"))
    if old.features is not None and new.features is not None:
        findings += _feature_findings(old.features, new.features, mask)
    # Something added beside what was there (a link, an image) is said when the page also
    # changed otherwise; on its own it is how redesigns and rotating boxes look.
    if not findings or all(f.what in _ADDITIONS for f in findings):
        return None
    sim = round(similarity(old.text or "", new.text or ""), 4) if (gone or came) else 1.0
    touched = len(gone)
    if (gone or came) and (sim < _REWRITE_SIMILARITY or (lo and touched / len(lo) >= _REWRITE_SHARE and touched >= 3)):
        findings.insert(0, Finding("rewrite", f"rewritten: {touched} of {len(lo)} paragraphs changed"
                                              f" (similarity {sim:.2f})", "rewrite"))
    diff = diff_summary(word_diff("\n".join(r for _, r in gone), "\n".join(r for _, r in came)))
    return Judgement(findings, diff, sim)


def judgement_detail(j: Judgement) -> dict[str, Any]:
    """What a change event stores of a judgement (changes.detail)."""
    return {"severity": j.severity, "summary": j.summaries(), "findings": [f.to_json() for f in j.findings[:50]],
            "diff_summary": j.diff}


__all__ = ["SEVERITIES", "severity_rank", "mask_volatile", "VolatileMask", "learn_volatile", "Finding", "Judgement",
           "judge", "judgement_detail"]
