"""Citation finder: which links of an article are its citations.

Pure functions over a page's text (no network, no database). For HTML the main
content is chosen by scoring blocks of prose in lxml: boilerplate subtrees
(navigation, share bars, comments, "related" lists, ads ...) are dropped, the
block holding most of the remaining prose is the article, and a link is cited
when it lies inside that block and outside any boilerplate within it.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from typing import Iterator

from lxml import etree
from lxml import html as lxml_html

from archiver.urls import InvalidURL, normalise_url, scheme_of

__all__ = [
    "ArticleLinks",
    "Link",
    "UnlinkedReference",
    "find_links_html",
    "find_links_markdown",
    "find_links_text",
]

CONTEXT_CAP = 400
ANCHOR_CAP = 1000  # characters of anchor text kept (a hostile anchor can be megabytes)


@dataclass
class Link:
    url: str
    href: str
    anchor_text: str
    context: str
    position: int
    cited: bool
    skip_reason: str | None = None


@dataclass
class UnlinkedReference:
    text: str
    context: str
    position: int


@dataclass
class ArticleLinks:
    title: str | None = None
    author: str | None = None
    published: str | None = None
    links: list[Link] = field(default_factory=list)
    unlinked: list[UnlinkedReference] = field(default_factory=list)
    main_html: str | None = None


# ---------------------------------------------------------------------------
# Shared helpers


_WS = re.compile(r"\s+")


def _collapse(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def _resolve(href: str, base: str | None) -> tuple[str, str | None]:
    """(url, skip_reason) for a raw href: normalised http(s) URL, or the raw href and why it is skipped."""
    raw = href.strip()
    scheme = scheme_of(raw)
    if scheme and scheme not in ("http", "https"):
        return raw, f"scheme:{scheme}"
    if not scheme and not base:
        return raw, "invalid_url: relative URL without a base"
    try:
        return normalise_url(raw, base), None
    except InvalidURL as exc:
        return raw, f"invalid_url: {exc}"
    except Exception as exc:  # noqa: BLE001 - a hostile href must never break the page
        return raw, f"invalid_url: {type(exc).__name__}"


class _Collector:
    """Dedupes links by URL in document order; a cited occurrence wins over an uncited one."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self._index: dict[str, int] = {}

    def add(self, href: str, base: str | None, anchor: str, context: str, cited: bool) -> None:
        url, skip = _resolve(href, base)
        if len(anchor) > ANCHOR_CAP:
            anchor = anchor[: ANCHOR_CAP - 1].rstrip() + "\u2026"
        if skip is not None:
            cited = False  # an unfetchable link is reported but never a citation
        i = self._index.get(url)
        if i is None:
            self._index[url] = len(self.links)
            self.links.append(Link(url, href, anchor, context, len(self.links), cited, skip))
        elif cited and not self.links[i].cited:
            old = self.links[i]
            self.links[i] = Link(url, href, anchor, context, old.position, True, skip)


_SENT_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+")


def _sentence_around(text: str, start: int, end: int, lo_bound: int = 0, hi_bound: int | None = None) -> str:
    """The sentence of ``text`` holding [start, end), whitespace-collapsed and capped.

    The search stays within [lo_bound, hi_bound) (a paragraph) without slicing it out,
    so many links in one long paragraph stay linear.
    """
    hi_bound = len(text) if hi_bound is None else hi_bound
    lo = max(lo_bound, start - CONTEXT_CAP)
    s = lo
    for m in _SENT_END.finditer(text, lo, start):
        s = m.end()
    hi = min(hi_bound, end + CONTEXT_CAP)
    after = _SENT_END.search(text, end, hi)
    e = after.end() if after else hi
    sent = _collapse(text[s:e])
    if len(sent) > CONTEXT_CAP:
        # keep the anchor visible: centre the window on it
        anchor_at = max(0, start - s)
        a = max(0, min(anchor_at - CONTEXT_CAP // 3, len(sent) - CONTEXT_CAP))
        sent = sent[a : a + CONTEXT_CAP].strip()
    return sent


# ---------------------------------------------------------------------------
# Unlinked references

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:1[89]|20)\d\d"
    rf"|\d{{1,2}}\s+(?:{_MONTHS})\.?,?\s+(?:1[89]|20)\d\d"
    rf"|(?:{_MONTHS})\.?\s+(?:1[89]|20)\d\d"
    r"|(?:1[89]|20)\d\d-\d\d-\d\d|\((?:1[89]|20)\d\d\))"
)
_REF_WORDS = re.compile(
    r"\b(?:post|posts|article|articles|report|paper|study|essay|transcript|interview|episode|podcast|"
    r"book|column|op-ed|editorial|piece|speech|blog|documentary|film|lecture|memo|letter|newsletter|"
    r"titled|entitled|wrote in|said in|published in|writing in)\b",
    re.I,
)
_QUOTED = re.compile(r"\u201c([^\u201c\u201d\n]{3,160})\u201d|\"([^\"\n]{3,160})\"")
_ACCORDING = re.compile(
    r"\b(?i:according to|in|cited in|per)\s+(?i:a|an|the|its|their|his|her)\s+"
    r"(?:(?:1[89]|20)\d\d\s+)?(?:report|study|survey|paper|analysis|review|audit)\s+"
    r"(?:by|from|published by|of)\s+(?:the\s+)?"
    r"((?:[A-Z][\w'&.-]*|of|for|and|on|the)(?:\s+(?:[A-Z][\w'&.-]*|of|for|and|on|the)){0,9})"
)
_SMALL_WORDS = {"a", "an", "the", "of", "and", "or", "for", "in", "on", "to", "at", "by", "with", "vs", "from", "is"}


def _looks_like_title(text: str) -> bool:
    words = text.split()
    if not 2 <= len(words) <= 15:
        return False
    if not (text[0].isupper() or text[0].isdigit()):
        return False
    # quoted speech usually ends with a comma or full stop inside the quotes; titles don't
    if text[-1] in ",.;:":
        return False
    if re.search(r"[.!?]\s+[A-Z]", text):
        return False
    return True


def _near_signal(text: str, start: int, end: int, window: int = 80) -> bool:
    around = text[max(0, start - window) : start] + " " + text[end : end + window]
    return bool(_DATE.search(around) or _REF_WORDS.search(around))


def _find_unlinked(chunks: list[tuple[str, list[str]]]) -> list[UnlinkedReference]:
    """Conservative unlinked references in ``chunks`` of (block text without link text, italic titles)."""
    found: list[UnlinkedReference] = []
    seen: set[str] = set()

    def add(ref: str, text: str, start: int, end: int) -> None:
        ref = _collapse(ref)
        if ref.lower() in seen:
            return
        seen.add(ref.lower())
        found.append(UnlinkedReference(ref, _sentence_around(text, start, end), len(found)))

    for text, italics in chunks:
        for m in _QUOTED.finditer(text):
            inner = (m.group(1) or m.group(2) or "").strip()
            if _looks_like_title(inner) and _near_signal(text, m.start(), m.end()):
                add(inner, text, m.start(), m.end())
        for inner in italics:
            inner = _collapse(inner)
            pos = text.find(inner)
            if pos >= 0 and _looks_like_title(inner) and _near_signal(text, pos, pos + len(inner)):
                add(inner, text, pos, pos + len(inner))
        for m in _ACCORDING.finditer(text):
            body = m.group(1).rstrip()
            # trailing connective words belong to the sentence, not the name
            body = re.sub(r"(?:\s+(?:of|for|and|on|the))+$", "", body)
            if body[:1].isupper():
                end = m.start(1) + len(body)
                add(text[m.start() : end], text, m.start(), end)
    return found


# ---------------------------------------------------------------------------
# HTML: decoding and parsing

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)


def _decode(data: bytes | str, encoding: str | None) -> str:
    if isinstance(data, str):
        return data
    candidates: list[str] = []
    if encoding:
        candidates.append(encoding)
    if data.startswith(codecs.BOM_UTF8):
        candidates.append("utf-8-sig")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates.append("utf-16")
    m = _META_CHARSET.search(data[:8192])
    if m:
        candidates.append(m.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for name in candidates:
        try:
            codec = codecs.lookup(name.strip())
        except (LookupError, ValueError):
            continue  # an invalid charset label must not crash us
        if codec.name in ("utf-8", "utf-8-sig") or codec.name.startswith("utf-16"):
            return data.decode(codec.name, errors="replace")
        if codec.name == "iso8859-1":  # browsers read latin-1 labels as windows-1252
            codec = codecs.lookup("cp1252")
        try:
            return data.decode(codec.name, errors="replace")
        except Exception:  # noqa: BLE001 - exotic codecs can fail in odd ways
            continue
    return data.decode("utf-8", errors="replace")


def _parse(text: str) -> etree._Element | None:
    # Encode ourselves: lxml refuses str input carrying an XML encoding declaration.
    data = text.replace("\x00", "").encode("utf-8", errors="replace")
    if not data.strip():
        return None
    parser = lxml_html.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=False)
    try:
        root = lxml_html.document_fromstring(data, parser=parser)
    except Exception:  # noqa: BLE001 - malformed or empty documents
        try:
            root = etree.fromstring(data, parser)
        except Exception:  # noqa: BLE001
            return None
    return root


# ---------------------------------------------------------------------------
# HTML: boilerplate marks

_BLOCK_TAGS = frozenset(
    "p div li ul ol dl dt dd blockquote td th tr table tbody thead tfoot caption h1 h2 h3 h4 h5 h6 pre "
    "section article main aside nav header footer figure figcaption form body html address details "
    "summary center fieldset hgroup menu".split()
)
_SKIP_TAGS = frozenset("script style template noscript head title select option textarea svg math iframe".split())
_BOILER_TAGS = frozenset("nav aside footer header form button menu dialog".split())
_BOILER_ROLES = frozenset(
    "navigation banner contentinfo complementary search menu menubar toolbar dialog alertdialog tablist".split()
)
_BOILER_TOKENS = frozenset(
    """nav navbar navigation navigations menu menus submenu megamenu mainmenu topmenu
    share shares sharing sharebar sharetools sharer social socials socialmedia
    comment comments commentlist commenting disqus replies respond
    related sidebar sidebars rail rightrail leftrail
    footer header masthead newsletter newsletters subscribe subscription subscriptions signup
    promo promos promotion promotions promoted
    ad ads adv advert adverts advertisement advertisements advertising adslot adunit adsense adcontainer
    adwrapper adwrap dfp gpt sponsor sponsors sponsored sponsorship
    tag tags taglist tagcloud topics breadcrumb breadcrumbs crumbs
    popular trending recommended recommendations recommendation recirc recirculation
    breaking ticker teaser teasers carousel
    widget widgets outbrain taboola zergnet cookie cookies consent gdpr paywall
    login signin toolbar pagination pager byline bio author authors meta postmeta entrymeta dateline
    skip skiplink skiplinks print email subnav utility""".split()
)
_BOILER_PHRASES = re.compile(
    r"(?:^|-)(?:more-(?:stories|news|from|articles|on)|read-more|most-(?:read|popular|viewed|shared|emailed)"
    r"|you-may-(?:like|also)|also-(?:read|like)|about-(?:the-)?author|author-(?:box|info|bio|card)"
    r"|further-reading-links|next-(?:article|post|story)|prev(?:ious)?-(?:article|post|story)"
    r"|post-(?:navigation|nav)|in-(?:this|other)-news|top-stories|latest-(?:news|stories|posts))(?:-|$)"
)
_HINT_PHRASES = re.compile(
    r"(?:^|-)(?:article-?body|article-?content|article-?text|articlebody|entry-content|entry-body|post-content|"
    r"post-body|post-text|story-?body|story-content|story-text|body-text|main-content|content-body|"
    r"page-content|blog-post|single-post|td-post-content|article-main|rich-text|richtext)(?:-|$)"
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")


def _attr_tokens(el: etree._Element) -> str:
    """class/id/aria-label/itemprop of ``el`` as one '-'-joined lower-case token string."""
    parts = []
    for name in ("class", "id", "aria-label", "itemprop", "data-component", "data-module"):
        v = el.get(name)
        if v and len(v) < 500:
            parts.append(_CAMEL.sub(r"\1-\2", v))
    if not parts:
        return ""
    return "-".join(t for t in _TOKEN_SPLIT.split(" ".join(parts).lower()) if t)


def _is_boiler(el: etree._Element, tag: str, toks: str) -> bool:
    if tag in _BOILER_TAGS:
        return True
    role = (el.get("role") or "").strip().lower()
    if role in _BOILER_ROLES:
        return True
    if el.get("aria-hidden") == "true" or el.get("hidden") is not None:
        return True
    if not toks:
        return False
    if _HINT_PHRASES.search(toks):
        return False  # "article-body-with-sidebar" is the article, not its sidebar
    if any(t in _BOILER_TOKENS for t in toks.split("-")):
        return True
    return bool(_BOILER_PHRASES.search(toks))


def _is_hint(el: etree._Element, tag: str, toks: str) -> bool:
    if tag in ("article", "main"):
        return True
    if (el.get("role") or "").lower() == "main":
        return True
    if "articlebody" in (el.get("itemprop") or "").lower():
        return True
    return bool(toks and _HINT_PHRASES.search(toks))


# ---------------------------------------------------------------------------
# HTML: one pass over the tree


def _walk(root: etree._Element) -> Iterator[tuple[bool, etree._Element]]:
    """(entering, node) events in document order; unlike iterwalk it also yields comments."""
    stack: list[tuple[etree._Element, bool]] = [(root, True)]
    while stack:
        el, entering = stack.pop()
        yield entering, el
        if entering:
            stack.append((el, False))
            tag = el.tag
            if isinstance(tag, str) and tag.lower() in _SKIP_TAGS:
                continue
            stack.extend((c, True) for c in reversed(el))


@dataclass
class _Block:
    el: etree._Element
    pieces: list[str] = field(default_factory=list)
    size: int = 0
    text_len: int = 0  # visible text outside links
    link_len: int = 0  # visible text inside links
    italics: list[str] = field(default_factory=list)

    def add(self, s: str, in_link: bool) -> None:
        self.pieces.append(s)
        self.size += len(s)
        n = len(s.strip())
        if in_link:
            self.link_len += n
        else:
            self.text_len += n


@dataclass
class _RawLink:
    el: etree._Element
    href: str
    block: _Block
    start: int
    end: int = -1
    text: list[str] = field(default_factory=list)


class _Page:
    """Blocks, links and per-element prose figures of one parsed page, built in linear time."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.order: list[etree._Element] = []  # elements in document order
        self.parent: dict[etree._Element, etree._Element | None] = {}
        self.block_of: dict[etree._Element, _Block] = {}
        self.blocks: list[_Block] = []
        self.links: list[_RawLink] = []
        self.boiler: set[etree._Element] = set()
        self.hints: list[etree._Element] = []
        self.base_href: str | None = None
        self._build()

    def _build(self) -> None:
        for base in self.root.iter("base"):
            if base.get("href"):
                self.base_href = base.get("href")
                break
        owner_stack: list[_Block] = []
        link_stack: list[_RawLink] = []
        italic_stack: list[list[str]] = []
        parent_stack: list[etree._Element] = []
        for entering, el in _walk(self.root):
            tag = el.tag
            is_elem = isinstance(tag, str)
            ltag = tag.lower() if is_elem else ""
            if entering:
                self.parent[el] = parent_stack[-1] if parent_stack else None
                parent_stack.append(el)
                if not is_elem:
                    continue
                self.order.append(el)
                if ltag in _SKIP_TAGS:
                    continue
                toks = _attr_tokens(el)
                if _is_boiler(el, ltag, toks):
                    self.boiler.add(el)
                if _is_hint(el, ltag, toks):
                    self.hints.append(el)
                if ltag in _BLOCK_TAGS or not owner_stack:
                    blk = _Block(el)
                    self.blocks.append(blk)
                    self.block_of[el] = blk
                    owner_stack.append(blk)
                owner = owner_stack[-1]
                if ltag in ("a", "area") and el.get("href") is not None:
                    rl = _RawLink(el, el.get("href") or "", owner, owner.size)
                    self.links.append(rl)
                    link_stack.append(rl)
                if ltag in ("cite", "em", "i") and not link_stack:
                    italic_stack.append([])
                if ltag == "img" and link_stack and el.get("alt"):
                    link_stack[-1].text.append(" " + el.get("alt", "") + " ")
                if el.text:
                    self._text(owner, el.text, link_stack, italic_stack)
            else:
                parent_stack.pop()
                if is_elem and ltag not in _SKIP_TAGS:
                    if owner_stack and owner_stack[-1].el is el:
                        owner_stack.pop()
                        if owner_stack:
                            owner_stack[-1].add(" ", bool(link_stack))  # block boundary
                    if link_stack and link_stack[-1].el is el:
                        rl = link_stack.pop()
                        rl.end = rl.block.size
                    if ltag in ("cite", "em", "i") and italic_stack and not link_stack:
                        words = "".join(italic_stack.pop())
                        if owner_stack:
                            owner_stack[-1].italics.append(words)
                if el.tail and owner_stack:
                    self._text(owner_stack[-1], el.tail, link_stack, italic_stack)

    @staticmethod
    def _text(owner: _Block, s: str, link_stack: list[_RawLink], italic_stack: list[list[str]]) -> None:
        owner.add(s, bool(link_stack))
        for rl in link_stack:
            rl.text.append(s)
        if italic_stack:
            italic_stack[-1].append(s)


# ---------------------------------------------------------------------------
# HTML: choosing the main content

_MIN_PROSE = 40  # characters of non-link text for a block to count as prose


_LEAF_BLOCKS = frozenset("p blockquote pre h1 h2 h3 h4 h5 h6 li ul ol dl dt dd table tbody tr td th figure figcaption".split())


def _prose_weight(b: _Block) -> int:
    total = b.text_len + b.link_len
    if b.text_len < _MIN_PROSE or b.link_len > 0.6 * total:
        return 0
    return b.text_len


def _in_prose(b: _Block) -> bool:
    """A citation sits in running text: a bare list of links ("Related:", tag lists) is not one."""
    if b.el.tag == "blockquote":
        return True  # quoted and embedded posts (tweets) link to what they quote
    total = b.text_len + b.link_len
    return b.text_len >= 15 and b.link_len <= 0.5 * total


# Self-promotion trailers: "Follow us on Twitter", "Subscribe to our newsletter" ...
_PROMO = re.compile(
    r"^\W*(?:follow|subscribe|sign up|like us|join us|want more|need more|download (?:our|the) app|"
    r"get (?:our|the) (?:newsletter|app)|click here to subscribe)\b|\bfollow (?:us|him|her|me|them) on\b|"
    r"\bsign up for (?:our|the)\b.{0,40}\bnewsletter|\bsubscribe to (?:our|the)\b",
    re.I,
)
# Share-button and recirculation-module URLs.
_SHARE_URL = re.compile(
    r"^https?://(?:[a-z0-9-]+\.)*(?:facebook\.com/(?:sharer|share\.php|dialog/share)|twitter\.com/(?:intent|share)|"
    r"x\.com/intent|pinterest\.[a-z.]+/pin/create|linkedin\.com/(?:sharearticle|shareArticle|cws/share)|"
    r"reddit\.com/submit|wa\.me/|api\.whatsapp\.com/send|t\.me/share|plus\.google\.com/share|"
    r"tumblr\.com/(?:share|widgets/share)|getpocket\.com/(?:save|edit)|news\.ycombinator\.com/submitlink)",
    re.I,
)
_RECIRC_QUERY = re.compile(r"[?&][^=&]*=[^&]*(?:related|recirc|recommend|trending|mostpopular|most-popular)", re.I)


def _not_a_citation_url(url: str) -> bool:
    return bool(_SHARE_URL.match(url) or _RECIRC_QUERY.search(url))


def _choose_main(page: _Page) -> tuple[etree._Element | None, set[etree._Element]]:
    """The main-content element and the boilerplate marks still in force."""
    raw: dict[etree._Element, int] = {}
    for b in page.blocks:
        raw[b.el] = _prose_weight(b)
    order = page.order
    for el in reversed(order):
        v = raw.get(el, 0)
        if v:
            p = page.parent.get(el)
            while p is not None and not isinstance(p.tag, str):
                p = page.parent.get(p)
            if p is not None:
                raw[p] = raw.get(p, 0) + v
    total_raw = raw.get(page.root, 0)
    # A "boilerplate" class on a wrapper holding most of the prose (body.has-sidebar,
    # an ASP.NET page-wide <form>) describes the page, not a boilerplate box.
    boiler = {el for el in page.boiler if not (total_raw and raw.get(el, 0) >= 0.6 * total_raw)}

    clean: dict[etree._Element, int] = {}
    for b in page.blocks:
        clean[b.el] = _prose_weight(b)
    for el in reversed(order):
        v = clean.get(el, 0)
        if el in boiler:
            clean[el] = 0
            continue
        if v:
            p = page.parent.get(el)
            if p is not None:
                clean[p] = clean.get(p, 0) + v
    total = clean.get(page.root, 0)
    if total <= 0:
        return None, boiler

    start = page.root
    best = 0
    depth_of: dict[etree._Element, int] = {}
    for h in page.hints:
        v = clean.get(h, 0)
        if v >= 0.4 * total and (v > best * 1.05 or (v >= 0.95 * best and _depth(h, page, depth_of) > _depth(start, page, depth_of))):
            start, best = h, v
    node = start
    target = clean.get(start, 0)
    while True:
        kids = [c for c in node if isinstance(c.tag, str)]
        if not kids:
            break
        child = max(kids, key=lambda c: clean.get(c, 0))
        if child.tag in _LEAF_BLOCKS:
            break  # the article is the container of paragraphs, never one paragraph
        if clean.get(child, 0) >= 0.9 * target:
            node = child
        else:
            break
    return node, boiler


def _depth(el: etree._Element, page: _Page, memo: dict[etree._Element, int]) -> int:
    if el in memo:
        return memo[el]
    d = 0
    p = page.parent.get(el)
    while p is not None:
        d += 1
        p = page.parent.get(p)
    memo[el] = d
    return d


# ---------------------------------------------------------------------------
# HTML: metadata


def _jsonld_objects(root: etree._Element) -> Iterator[dict]:
    for script in root.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                yield item
                if "@graph" in item:
                    stack.append(item["@graph"])


def _person_name(v: object) -> str | None:
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, dict):
        return _person_name(v.get("name"))
    if isinstance(v, list):
        names = [n for n in (_person_name(x) for x in v) if n]
        return ", ".join(names) if names else None
    return None


def _meta(root: etree._Element, *keys: str) -> str | None:
    wanted = {k.lower() for k in keys}
    found: dict[str, str] = {}
    for m in root.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        if key in wanted and key not in found and (m.get("content") or "").strip():
            found[key] = m.get("content").strip()
    for k in keys:
        if k.lower() in found:
            return found[k.lower()]
    return None


_ISO = re.compile(r"^\d{4}-\d\d(?:-\d\d)?(?:[T ][0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)?$")


def _metadata(root: etree._Element, main: etree._Element | None) -> tuple[str | None, str | None, str | None]:
    ld = [o for o in _jsonld_objects(root) if any(k in o for k in ("headline", "datePublished", "author"))]
    title = _meta(root, "og:title", "twitter:title")
    if not title:
        t = root.find(".//title")
        title = _collapse(t.text_content()) if t is not None else None
    if not title:
        h1 = root.find(".//h1")
        title = _collapse(h1.text_content()) if h1 is not None else None
    if not title:
        title = next((o["headline"] for o in ld if isinstance(o.get("headline"), str)), None)

    # JSON-LD names the person; meta author is often the site's name
    author = next((n for n in (_person_name(o.get("author")) for o in ld) if n), None)
    if author and author.startswith(("http://", "https://")):
        author = None
    if not author:
        author = _meta(root, "author", "article:author", "byl", "sailthru.author", "parsely-author", "dc.creator")
        if author and author.startswith(("http://", "https://")):
            author = None  # article:author is often a profile URL
    if not author:
        for a in root.iter("a"):
            if "author" in (a.get("rel") or "").lower().split():
                author = _collapse(a.text_content()) or None
                if author:
                    break
    if author:
        author = re.sub(r"^by\s+", "", author, flags=re.I)

    published = _meta(
        root,
        "article:published_time",
        "datepublished",
        "og:published_time",
        "published_time",
        "parsely-pub-date",
        "sailthru.date",
        "dc.date.issued",
        "dcterms.created",
        "date",
        "pubdate",
    )
    if not published:
        published = next((o["datePublished"] for o in ld if isinstance(o.get("datePublished"), str)), None)
    if not published:
        scope = main if main is not None else root
        for t in list(scope.iter("time")) + ([] if scope is root else list(root.iter("time"))):
            dt = (t.get("datetime") or "").strip()
            if dt and _ISO.match(dt):
                published = dt
                break
    if published:
        published = published.strip()
    return (title or None), (author or None), (published or None)


def _trafilatura_metadata(text: str, url: str) -> tuple[str | None, str | None]:
    """(author, date) from trafilatura's metadata extractor; (None, None) when unavailable."""
    try:
        from trafilatura import extract_metadata
    except Exception:  # noqa: BLE001 - optional helper: an import failure must not break us
        return None, None
    try:
        meta = extract_metadata(text, default_url=url)
    except Exception:  # noqa: BLE001
        return None, None
    if meta is None:
        return None, None
    return getattr(meta, "author", None) or None, getattr(meta, "date", None) or None


# ---------------------------------------------------------------------------
# Public API


def find_links_html(html: bytes | str, base_url: str, encoding: str | None = None) -> ArticleLinks:
    """Every link of an HTML page, each marked cited (in the article's main content) or not."""
    try:
        return _find_links_html(html, base_url, encoding)
    except RecursionError:
        return ArticleLinks()


def _find_links_html(html: bytes | str, base_url: str, encoding: str | None) -> ArticleLinks:
    text = _decode(html or b"", encoding)
    root = _parse(text)
    if root is None:
        return ArticleLinks()
    page = _Page(root)
    base = base_url
    if page.base_href:
        url, skip = _resolve(page.base_href, base_url)
        if skip is None:
            base = url
    main, boiler = _choose_main(page)

    # Pass down the tree: is each element inside main, and inside boilerplate within main?
    state: dict[etree._Element, int] = {}  # 0 outside main, 1 main content, 2 boilerplate in main
    for el in page.order:
        p = page.parent.get(el)
        ps = state.get(p, 0) if p is not None else 0
        if el is main:
            s = 1
        elif ps == 1 and el in boiler:
            s = 2
        else:
            s = ps
        state[el] = s

    out = _Collector()
    block_text: dict[int, str] = {}
    block_promo: dict[int, bool] = {}
    for rl in page.links:
        blk = rl.block
        key = id(blk)
        if key not in block_text:
            block_text[key] = "".join(blk.pieces)
            block_promo[key] = bool(_PROMO.search(block_text[key][:300]))
        btext = block_text[key]
        end = rl.end if rl.end >= 0 else blk.size
        anchor = _collapse("".join(rl.text))
        if not anchor:
            anchor = _collapse(rl.el.get("aria-label") or rl.el.get("title") or "")
        context = _sentence_around(btext, rl.start, end) if btext.strip() else anchor
        cited = state.get(rl.el, 0) == 1 and _in_prose(blk) and not block_promo[key]
        href = rl.href
        if not href.strip() or href.strip().startswith("#"):
            cited = False  # in-page jumps (footnote markers, "back to top") cite nothing
        if cited and _not_a_citation_url(href.strip()):
            cited = False
        out.add(href, base, anchor, context, cited)

    main_html = None
    unlinked: list[UnlinkedReference] = []
    if main is not None:
        try:
            main_html = lxml_html.tostring(main, encoding="unicode")
        except Exception:  # noqa: BLE001
            main_html = None
        spans: dict[int, list[tuple[int, int]]] = {}
        for rl in page.links:
            spans.setdefault(id(rl.block), []).append((rl.start, rl.end if rl.end >= 0 else rl.block.size))
        chunks = []
        for b in page.blocks:
            if state.get(b.el, 0) == 1 and b.text_len >= 20:
                chunks.append((_blank_links(b, spans.get(id(b), [])), b.italics))
        unlinked = _find_unlinked(chunks)
    title, author, published = _metadata(root, main)
    if published is None:  # its date search is thorough but costly: only when we found none
        t_author, t_date = _trafilatura_metadata(text, base_url)
        author = author or t_author
        published = published or t_date
    return ArticleLinks(title, author, published, out.links, unlinked, main_html)


def _blank_links(b: _Block, spans: list[tuple[int, int]]) -> str:
    """Block text with its link texts blanked, so a linked title is never an unlinked one."""
    text = "".join(b.pieces)
    if not spans:
        return text
    out, pos = [], 0
    for s, e in spans:
        if s < pos:
            continue  # nested link: already blanked
        out.append(text[pos:s])
        out.append(" " * (e - s))
        pos = e
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------
# Markdown and plain text

# A bare URL runs to whitespace or an angle bracket; trailing punctuation is trimmed after.
_BARE_URL = re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\"'`\u201c\u201d\u2018\u2019]+", re.I)
_TRAIL = ".,;:!?'\"*_\u2019\u201d"


def _trim_bare(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets from a bare URL."""
    while url:
        ch = url[-1]
        if ch in _TRAIL:
            url = url[:-1]
        elif ch in ")]}" and url.count(ch) > url.count({")": "(", "]": "[", "}": "{"}[ch]):
            url = url[:-1]
        else:
            break
    return url


def _bare_href(url: str) -> str:
    return url if "://" in url else "http://" + url


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_REF_DEF = re.compile(r"^[ ]{0,3}\[([^\]\n]+)\]:[ \t]*<?(\S+?)>?(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*$", re.M)
# [text](target "title") -- target may hold one level of balanced parentheses
_INLINE_LINK = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
_REF_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\](?:\[([^\]\n]*)\])?")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto|file):[^\s<>]+)>", re.I)
_MD_IMAGE_TEXT = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_MARKUP = re.compile(r"(?:(?<=\s)|^)[*_]+(?=\S)|(?<=\S)[*_]+(?=\s|$|[.,;:!?)])|`+|^[ \t]*(?:#+|>+|[-*+][ \t])|<(?=(?:https?|ftp|mailto|file):)|(?<=\S)>(?=\s|$)", re.M)


_MD_SPECIAL = re.compile(r"[\[*_`#>]")


def _md_text(s: str) -> str:
    """Visible text of a small piece of Markdown (for anchors and contexts)."""
    if not _MD_SPECIAL.search(s):
        return _collapse(s)
    s = _MD_IMAGE_TEXT.sub(r"\1", s)
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
    s = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", s)
    return _collapse(_MD_MARKUP.sub("", s))


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in re.finditer(r"\n[ \t]*\n|\n(?=[ \t]*(?:[-*+]|\d+[.)])[ \t])", text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


class _Paragraphs:
    """Maps an offset to the (start, end) of its paragraph, for context sentences."""

    def __init__(self, text: str) -> None:
        self.spans = _paragraph_spans(text)
        self.starts = [s for s, _ in self.spans]

    def around(self, pos: int) -> tuple[int, int]:
        import bisect

        i = max(0, bisect.bisect_right(self.starts, pos) - 1)
        return self.spans[i]


def _context_md(text: str, paras: _Paragraphs, start: int, end: int) -> str:
    ps, pe = paras.around(start)
    # the sentence is found in raw text, then its markup is stripped
    raw = _sentence_around(text, start, min(end, pe), ps, pe)
    return _md_text(raw)[:CONTEXT_CAP]


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for s, e in sorted(spans):
        if s < pos:
            continue
        out.append(text[pos:s])
        out.append(" " * (e - s))
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, 0
    fields: dict[str, str] = {}
    for line in m.group(1).splitlines():
        k, sep, v = line.partition(":")
        if sep and k.strip() and not k.startswith((" ", "\t")):
            fields[k.strip().lower()] = v.strip().strip("\"'")
    return fields, m.end()


def _first_title(text: str, markdown: bool) -> str | None:
    if markdown:
        m = re.search(r"^#[ \t]+(.+?)[ \t#]*$", text, re.M)
        if m:
            return _md_text(m.group(1)) or None
        m = re.search(r"^(.+)\n=+[ \t]*$", text, re.M)
        if m:
            return _md_text(m.group(1)) or None
    for line in text.splitlines():
        if line.strip():
            t = _md_text(line) if markdown else _collapse(line)
            return t[:300] or None
    return None


_DATE_LINE = re.compile(r"\b((?:1[89]|20)\d\d-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?(?:Z|[+-]\d\d:?\d\d)?)?)\b")


def canonical_url(html: bytes | str) -> str | None:
    """The address a saved page names for itself (rel=canonical, og:url), to resolve its relative links.

    A page saved from a browser and captured as a local file keeps its links relative to
    where it came from, not to the file.
    """
    head = html[:262_144]
    try:
        doc = lxml_html.fromstring(head) if head.strip() else None
    except (etree.ParserError, ValueError):
        return None
    if doc is None:
        return None
    candidates = doc.xpath("//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONICAL', 'canonical')), ' '), ' canonical ')]/@href")
    candidates += doc.xpath("//meta[@property='og:url' or @name='og:url']/@content")
    for candidate in candidates:
        try:
            return normalise_url(candidate.strip())
        except InvalidURL:
            continue
    return None


def find_links_markdown(text: str, base_url: str | None = None) -> ArticleLinks:
    """Links of a Markdown article; all of it is main content, so every link is cited."""
    try:
        return _find_links_markdown(text or "", base_url)
    except RecursionError:
        return ArticleLinks()


def _find_links_markdown(text: str, base_url: str | None) -> ArticleLinks:
    if isinstance(text, bytes):
        text = _decode(text, None)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fm, body_start = _front_matter(text)
    # code is quoted material, not citation: blank it out but keep offsets stable
    masked = _blank(text, [(0, body_start)] + [(m.start(), m.end()) for m in _FENCE.finditer(text)])
    masked = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), masked)

    defs: dict[str, str] = {}
    def_spans = []
    for m in _REF_DEF.finditer(masked):
        defs.setdefault(_collapse(m.group(1)).lower(), m.group(2))
        def_spans.append((m.start(), m.end()))
    masked = _blank(masked, def_spans)

    found: list[tuple[int, int, str, str]] = []  # (start, end, href, anchor)
    taken: list[tuple[int, int]] = []
    for m in _INLINE_LINK.finditer(masked):
        if m.group(1):  # an image embed is not a link (an image inside a link is the outer match's anchor)
            taken.append((m.start(), m.end()))
            continue
        found.append((m.start(), m.end(), m.group(3), _md_text(m.group(2))))
        taken.append((m.start(), m.end()))
    masked2 = _blank(masked, taken)
    for m in _REF_LINK.finditer(masked2):
        if m.group(1):
            continue
        label = m.group(3) if m.group(3) else m.group(2)
        href = defs.get(_collapse(label).lower())
        if href is None:
            continue
        found.append((m.start(), m.end(), href, _md_text(m.group(2))))
        taken.append((m.start(), m.end()))
    masked3 = _blank(masked2, taken)
    for m in _AUTOLINK.finditer(masked3):
        found.append((m.start(), m.end(), m.group(1), m.group(1)))
        taken.append((m.start(), m.end()))
    masked4 = _blank(masked3, taken)
    for m in _BARE_URL.finditer(masked4):
        url = _trim_bare(m.group(0))
        if len(url) > 4:
            found.append((m.start(), m.start() + len(url), _bare_href(url), url))
            taken.append((m.start(), m.start() + len(url)))
    found.sort(key=lambda f: f[0])

    paras = _Paragraphs(text)
    out = _Collector()
    for start, end, href, anchor in found:
        out.add(href, base_url, anchor, _context_md(text, paras, start, end), True)

    plain = _blank(masked, taken)
    chunks = [(plain[s:e], _md_italics(text[s:e])) for s, e in paras.spans if plain[s:e].strip()]
    title = fm.get("title") or _first_title(text[body_start:], markdown=True)
    author = fm.get("author") or fm.get("authors") or None
    published = fm.get("date") or fm.get("published") or None
    return ArticleLinks(title, author, published, out.links, _find_unlinked(chunks), None)


def _md_italics(s: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"(?<![*_\w])([*_])(?!\s)([^*_\n]{3,160}?)(?<!\s)\1(?![*_\w])", s)]


def find_links_text(text: str, base_url: str | None = None) -> ArticleLinks:
    """Bare URLs in plain text, all cited."""
    try:
        return _find_links_text(text or "", base_url)
    except RecursionError:
        return ArticleLinks()


def _find_links_text(text: str, base_url: str | None) -> ArticleLinks:
    if isinstance(text, bytes):
        text = _decode(text, None)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paras = _Paragraphs(text)
    out = _Collector()
    spans = []
    for m in _BARE_URL.finditer(text):
        url = _trim_bare(m.group(0))
        if len(url) <= 4:
            continue
        start, end = m.start(), m.start() + len(url)
        spans.append((start, end))
        ps, pe = paras.around(start)
        out.add(_bare_href(url), base_url, url, _sentence_around(text, start, end, ps, pe), True)
    plain = _blank(text, spans)
    chunks: list[tuple[str, list[str]]] = [(plain[s:e], []) for s, e in paras.spans if plain[s:e].strip()]
    return ArticleLinks(_first_title(text, markdown=False), None, None, out.links, _find_unlinked(chunks), None)
