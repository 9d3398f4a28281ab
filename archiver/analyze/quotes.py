"""Quotations in an article, and whether each can still be found in the cited source's text."""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from dataclasses import dataclass

from archiver.analyze.text import normalise_text
from archiver.urls import try_normalise


@dataclass
class Quote:
    text: str  # the quoted passage, normalised
    context: str
    position: int
    source_hint: str | None  # URL of a link in/next to the blockquote or in the quote's paragraph


MIN_INLINE_WORDS = 9  # "more than ~8 words": shorter quoted strings are titles, scare quotes, names
_CONTEXT_CHARS = 300
_DOUBLE = re.compile(r'"([^"\n]{20,}?)"')
# Single quotation marks share their character with the apostrophe (typographic ones too, once
# normalised): a quote opens after a space or an opening bracket and closes before a space or
# punctuation, and an apostrophe between two letters (it's, don't) never ends it.
_SINGLE = re.compile(r"(?:(?<=^)|(?<=[\s(\[{:;,\-]))'((?:[^'\n]|(?<=\w)'(?=\w)){20,}?)'(?=$|[\s.,;:!?)\]}\-])")


def inline_quotes(para: str) -> list[str]:
    """Passages of more than ~8 words in double or single quotation marks, straight or typographic,
    in order. A quotation inside another (single marks inside double, or the British other way
    round) is part of the outer one, not a second quote."""
    found: list[tuple[int, int, str]] = []
    for pattern in (_DOUBLE, _SINGLE):
        for m in pattern.finditer(para):
            passage = m.group(1).strip()
            if _count_words(passage) < MIN_INLINE_WORDS:
                continue
            if any(a <= m.start() and m.end() <= b for a, b, _ in found):
                continue
            found = [f for f in found if not (m.start() <= f[0] and f[1] <= m.end())]
            found.append((m.start(), m.end(), passage))
    return [passage for _, _, passage in sorted(found)]
_BLOCKS = ("p", "li", "td", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "caption", "div")


def _flat(s: str) -> str:
    return normalise_text(s).replace("\n", " ")


def _count_words(s: str) -> int:
    return len(re.findall(r"\w+", s))


def _href(el, base_url: str | None) -> str | None:
    href = (el.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    return try_normalise(href, base_url) or None


def _first_link(el, base_url: str | None) -> str | None:
    if el is None:
        return None
    links = [el] if el.tag == "a" else el.iter("a")
    for a in links:
        url = _href(a, base_url)
        if url:
            return url
    return None


def find_quotes(main_html, text: str | None = None, base_url: str | None = None) -> list[Quote]:
    """Blockquotes and quoted passages of more than ~8 words (double or single marks, straight or
    typographic), in document order.

    ``main_html`` is the article's main content: its element in the page's parsed tree (read,
    never changed), or its markup.
    """
    if main_html is not None and not isinstance(main_html, str):
        return _quotes_from_html(main_html, base_url)
    if main_html and main_html.strip():
        return _quotes_from_html(main_html, base_url)
    if text:
        return _quotes_from_text(text, base_url)
    return []


def _quotes_from_html(main_html, base_url: str | None) -> list[Quote]:
    import lxml.html

    if isinstance(main_html, str):
        try:
            root = lxml.html.fragment_fromstring(main_html, create_parent="div")
        except Exception:  # unparsable markup: no quotes rather than a crash
            return []
    else:
        root = main_html
    quotes: list[Quote] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "blockquote":
            if any(anc.tag == "blockquote" for anc in el.iterancestors()):
                continue  # nested blockquotes belong to the outer one
            body = _flat(el.text_content())
            if not body:
                continue
            cite = el.get("cite")
            hint = (try_normalise(cite, base_url) if cite else None) or _first_link(el, base_url)
            nxt = el.getnext()
            if hint is None and nxt is not None and _count_words(nxt.text_content()) <= 40:
                hint = _first_link(nxt, base_url)  # "-- <a>source</a>" right after the quote
            prev = el.getprevious()
            context = _flat(prev.text_content())[-_CONTEXT_CHARS:] if prev is not None else ""
            quotes.append(Quote(body, context, len(quotes), hint))
        elif el.tag in _BLOCKS:
            if any(anc.tag == "blockquote" for anc in el.iterancestors()):
                continue
            # Only the innermost text blocks, so a <div> holding <p>s is not read twice.
            if any(isinstance(c.tag, str) and c.tag in _BLOCKS + ("blockquote",) for c in el.iterdescendants()):
                continue
            para = _flat(el.text_content())
            for passage in inline_quotes(para):
                quotes.append(Quote(passage, para[:_CONTEXT_CHARS * 2], len(quotes), _first_link(el, base_url)))
    return quotes


_MD_LINK = re.compile(r"\[[^\]]*\]\(\s*(https?://[^)\s]+)[^)]*\)|<(https?://[^>\s]+)>|(https?://[^\s)\]>]+)")


def _md_link(s: str, base_url: str | None) -> str | None:
    m = _MD_LINK.search(s)
    if not m:
        return None
    return try_normalise(next(g for g in m.groups() if g), base_url)


def _quotes_from_text(text: str, base_url: str | None) -> list[Quote]:
    lines = normalise_text(text).split("\n")
    quotes: list[Quote] = []
    i = 0
    prev_para = ""
    while i < len(lines):
        line = lines[i]
        if line.startswith(">"):
            block = []
            while i < len(lines) and lines[i].startswith(">"):
                block.append(lines[i].lstrip(">").strip())
                i += 1
            raw = " ".join(b for b in block if b)
            hint = _md_link(raw, base_url)
            if hint is None and i < len(lines) and _count_words(lines[i]) <= 40:
                hint = _md_link(lines[i], base_url)
            body = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", raw)
            if body.strip():
                quotes.append(Quote(body.strip(), prev_para[-_CONTEXT_CHARS:], len(quotes), hint))
            continue
        for passage in inline_quotes(line):
            quotes.append(Quote(passage, line[:_CONTEXT_CHARS * 2], len(quotes), _md_link(line, base_url)))
        prev_para = line
        i += 1
    return quotes


# --------------------------------------------------------------------------- locating

_TOKEN = re.compile(r"\w+")
_ELLIPSIS = re.compile(r"\s*(?:\[\s*\.\.\.\s*\]|\(\s*\.\.\.\s*\)|\.{3,}|\[\s*\u2026\s*\]|\u2026)\s*")
ALTERED_MIN = 0.6


class _Source:
    """Source text tokenised once: lower-case words, their spans, and one joined string to search."""

    def __init__(self, text: str):
        self.text = normalise_text(text)
        self.spans = [(m.start(), m.end()) for m in _TOKEN.finditer(self.text)]
        self.tokens = [self.text[a:b].lower() for a, b in self.spans]
        self.joined = " " + " ".join(self.tokens) + " "
        # Start offset in `joined` of each token, to map string hits back to token indices.
        self.starts = []
        pos = 1
        for tok in self.tokens:
            self.starts.append(pos)
            pos += len(tok) + 1

    def find(self, words: list[str], from_token: int = 0) -> int | None:
        """Index of the first token of an exact run of ``words`` at or after from_token."""
        if not words:
            return from_token
        needle = " " + " ".join(words) + " "
        start = self.starts[from_token] - 1 if from_token < len(self.starts) else len(self.joined)
        hit = self.joined.find(needle, start)
        if hit < 0:
            return None
        return bisect.bisect_left(self.starts, hit + 1)

    def excerpt(self, first: int, last: int) -> str:
        return self.text[self.spans[first][0]:self.spans[last][1]]


def _words(s: str) -> list[str]:
    return [w.lower() for w in _TOKEN.findall(normalise_text(s))]


def locate(quote_text: str, source_text: str) -> tuple[str, float, str | None]:
    """('present' | 'altered' | 'missing', similarity, best matching excerpt of the source).

    Ellipses split the quote into fragments that must appear in order. When the exact
    words are not there, candidate places are found by shared word pairs and aligned locally.
    """
    fragments = [f for f in (_words(part) for part in _ELLIPSIS.split(normalise_text(quote_text))) if f]
    if not fragments:
        return "missing", 0.0, None
    src = _Source(source_text or "")
    if not src.tokens:
        return "missing", 0.0, None

    pos, first, last = 0, None, None
    for frag in fragments:
        hit = src.find(frag, pos)
        if hit is None:
            break
        first = hit if first is None else first
        last = hit + len(frag) - 1
        pos = last + 1
    else:
        assert first is not None and last is not None  # every fragment was found
        return "present", 1.0, src.excerpt(first, last)

    quote = [w for frag in fragments for w in frag]
    best = _best_alignment(quote, src)
    if len(fragments) > 1:
        # An ellipsis leaves words out on purpose: score each fragment where it stands, so the
        # words skipped between them are not counted against the quote.
        by_fragment = _fragments_alignment(fragments, src)
        if by_fragment is not None and (best is None or by_fragment[0] > best[0]):
            best = by_fragment
    if best is None:
        return "missing", 0.0, None
    sim, a, b = best
    status = "altered" if sim >= ALTERED_MIN else "missing"
    return status, round(sim, 4), src.excerpt(a, b)


def _fragments_alignment(fragments: list[list[str]], src: _Source) -> tuple[float, int, int] | None:
    """(similarity, first token, last token) with each fragment found exactly or aligned after the one before."""
    pos, score, first, last = 0, 0.0, None, None
    for frag in fragments:
        hit = src.find(frag, pos)
        if hit is not None:
            frag_sim, a, b = 1.0, hit, hit + len(frag) - 1
        else:
            offset = src.starts[pos] - 1 if pos < len(src.starts) else None
            if offset is None:
                continue
            tail = _Source(src.joined[offset:])
            found = _best_alignment(frag, tail)
            if found is None:
                continue
            frag_sim, a, b = found[0], found[1] + pos, found[2] + pos
        score += frag_sim * len(frag)
        first = a if first is None else first
        last = b
        pos = b + 1
    if first is None or last is None:
        return None
    return score / sum(len(f) for f in fragments), first, last


def _best_alignment(quote: list[str], src: _Source) -> tuple[float, int, int] | None:
    n = len(quote)
    # Vote for where the quote would start in the source, using word pairs shared with it;
    # pairs are rare enough in prose that a few candidates cover the real spot.
    pairs: dict[tuple[str, str], list[int]] = {}
    for i in range(n - 1):
        pairs.setdefault((quote[i], quote[i + 1]), []).append(i)
    if n == 1:
        pairs = {(quote[0], ""): [0]}
    votes: Counter[int] = Counter()
    toks = src.tokens
    wanted = {p[0] for p in pairs}
    for j, tok in enumerate(toks):
        if tok in wanted:
            nxt = toks[j + 1] if j + 1 < len(toks) else ""
            for i in pairs.get((tok, nxt), ()) or (pairs.get((tok, ""), ()) if n == 1 else ()):
                votes[(j - i) // max(1, n // 4)] += 1
    if not votes:
        # Not even one shared word pair: fall back to single shared rare-ish words.
        qset = set(quote)
        for j, tok in enumerate(toks):
            if tok in qset and len(tok) > 3:
                votes[j // max(1, n // 4)] += 1
        if not votes:
            return None
    bucket = max(1, n // 4)
    best: tuple[float, int, int] | None = None
    for cand, _ in votes.most_common(5):
        lo = max(0, cand * bucket - n)
        hi = min(len(toks), cand * bucket + 2 * n + bucket)
        window = toks[lo:hi]
        sm = difflib.SequenceMatcher(None, quote, window, autojunk=False)
        blocks = [blk for blk in sm.get_matching_blocks() if blk.size]
        if not blocks:
            continue
        matched = sum(blk.size for blk in blocks)
        a = blocks[0].b
        b = blocks[-1].b + blocks[-1].size - 1
        span = b - a + 1
        sim = 2.0 * matched / (n + span)
        if best is None or sim > best[0]:
            best = (sim, lo + a, lo + b)
    return best
