"""Citation finder: which links of an article are its citations.

Pure functions over a page's text (no network, no database). For HTML the main
content is chosen by scoring blocks of prose in lxml: boilerplate subtrees
(navigation, share bars, comments, "related" lists, ads ...) are dropped, the
block holding most of the remaining prose is the article, and a link is cited
when it lies inside that block and outside any boilerplate within it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from lxml import etree
from lxml import html as lxml_html

from archiver.analyze.document import HtmlDocument, decode_html
from archiver.analyze.templates import TemplateIndex, host_of
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
    evidence: str | None = None  # why a link of the page is not a citation ("nav", "template", ...)
    item_date: str | None = None  # date written beside the link in its list item (ISO 8601 when readable)
    item_title: str | None = None  # title the list item or paragraph gives the linked work
    list_heading: str | None = None  # the heading or sentence introducing the link's list
    # Cited, but shaped like a site's template (a bare list of links): pages of the same site
    # could still show it is template. Judged without that evidence (``templates=None``).
    provisional: bool = False


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
    main: object | None = field(default=None, repr=False, compare=False)  # the article's element in the shared tree


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

    def add(
        self, href: str, base: str | None, anchor: str, context: str, cited: bool, evidence: str | None = None,
        resolved: tuple[str, str | None] | None = None, **item: Any,
    ) -> None:
        url, skip = resolved if resolved is not None else _resolve(href, base)
        if len(anchor) > ANCHOR_CAP:
            anchor = anchor[: ANCHOR_CAP - 1].rstrip() + "\u2026"
        if skip is not None:
            cited = False  # an unfetchable link is reported but never a citation
        if cited:
            evidence = None
        i = self._index.get(url)
        if i is None:
            self._index[url] = len(self.links)
            self.links.append(Link(url, href, anchor, context, len(self.links), cited, skip, evidence, **item))
        elif cited and (not self.links[i].cited or (self.links[i].provisional and not item.get("provisional"))):
            old = self.links[i]
            self.links[i] = Link(url, href, anchor, context, old.position, True, skip, None, **item)


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

def _decode(data: bytes | str, encoding: str | None) -> str:
    return decode_html(data, f"text/html; charset={encoding}" if encoding else None)


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
    popular trending recommended recommendations recommendation recirc recirculation similar
    breaking ticker teaser teasers carousel
    widget widgets outbrain taboola zergnet cookie cookies consent gdpr
    login signin toolbar pagination pager byline bio author authors meta postmeta entrymeta dateline
    skip skiplink skiplinks print email subnav utility rollover hovercard tooltip popover prev previous prevnext nextprev""".split()
)
_BOILER_PHRASES = re.compile(
    r"(?:^|-)(?:more-(?:stories|news|from|articles|on)|read-more|most-(?:read|popular|viewed|shared|emailed)"
    r"|you-may-(?:like|also)|also-(?:read|like)|about-(?:the-)?author|author-(?:box|info|bio|card)"
    r"|further-reading-links|next-(?:article|post|story)|prev(?:ious)?-(?:article|post|story)"
    r"|post-(?:navigation|nav)|in-(?:this|other)-news|top-stories|latest-(?:news|stories|posts)|next-prev|prev-next)(?:-|$)"
)
_HINT_PHRASES = re.compile(
    r"(?:^|-)(?:article-?body|article-?content|article-?text|articlebody|entry-content|entry-body|post-content|"
    r"post-body|post-text|story-?body|story-content|story-text|body-text|main-content|content-body|"
    r"page-content|blog-post|single-post|td-post-content|article-main|rich-text|richtext)(?:-|$)"
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")


_TOKEN_MEMO: dict[str, str] = {}  # pages repeat the same few class strings thousands of times


def _attr_tokens(el: etree._Element) -> str:
    """class/id/aria-label/itemprop of ``el`` as one '-'-joined lower-case token string."""
    parts = []
    for name in ("class", "id", "aria-label", "itemprop", "data-component", "data-module"):
        v = el.get(name)
        if v and len(v) < 500:
            parts.append(v)
    if not parts:
        return ""
    key = " ".join(parts)
    toks = _TOKEN_MEMO.get(key)
    if toks is None:
        toks = "-".join(t for t in _TOKEN_SPLIT.split(_CAMEL.sub(r"\1-\2", key).lower()) if t)
        if len(_TOKEN_MEMO) > 50_000:
            _TOKEN_MEMO.clear()
        _TOKEN_MEMO[key] = toks
    return toks


# Off-screen positioning hides link spam from readers. (display:none is not evidence: pages fold
# whole article sections away behind "read more" buttons with it.)
_HIDDEN_STYLE = re.compile(r"(?:left|top|text-indent)\s*:\s*-\d{4,}(?:px|em)", re.I)


def _is_boiler(el: etree._Element, tag: str, toks: str) -> bool:
    if tag in _BOILER_TAGS:
        return True
    role = (el.get("role") or "").strip().lower()
    if role in _BOILER_ROLES:
        return True
    if el.get("aria-hidden") == "true" or el.get("hidden") is not None:
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True  # invisible to readers: hidden widgets, off-screen link spam
    if not toks:
        return False
    if _HINT_PHRASES.search(toks):
        return False  # "article-body-with-sidebar" is the article, not its sidebar
    if any(t in _BOILER_TOKENS for t in toks.split("-")):
        return True
    return bool(_BOILER_PHRASES.search(toks))


_COMMENT_TOKENS = frozenset("comment comments commentlist commenting disqus replies respond discussion".split())


def _is_comments(el: etree._Element, tag: str, toks: str) -> bool:
    """A comment section (or one comment): readers' words, never the article's."""
    if tag in ("html", "body", "main") or not toks or _HINT_PHRASES.search(toks):
        return False
    parts = toks.split("-")
    if tag == "article":  # <article class="post comments-open"> is the post; <article class="comment"> is not
        return parts[0] in _COMMENT_TOKENS
    return any(t in _COMMENT_TOKENS for t in parts) or "usercomments" in (el.get("itemtype") or "").lower()


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
    has_img: bool = False
    alt: str = ""

    @property
    def image_only(self) -> bool:
        """An image made a link (a thumbnail, a full-size view): its words are the image's alt text."""
        return self.has_img and not "".join(self.text).strip()


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
        self.comments: set[etree._Element] = set()  # comment sections: never the article, whatever their size
        self.clean: dict[etree._Element, int] = {}  # prose weight outside boilerplate, per element
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
                    if _is_comments(el, ltag, toks):
                        self.comments.add(el)
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
                if ltag == "img" and link_stack:
                    link_stack[-1].has_img = True
                    if el.get("alt") and not "".join(link_stack[-1].text).strip():
                        link_stack[-1].alt = el.get("alt", "")
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
    """Running text: a sentence with a link in it, as opposed to a bare list of links."""
    if b.el.tag == "blockquote":
        return True  # quoted and embedded posts (tweets) link to what they quote
    total = b.text_len + b.link_len
    return b.text_len >= 15 and b.link_len <= 0.5 * total


# ---------------------------------------------------------------------------
# HTML: evidence that a link inside the article is not a citation

# A sentence that asks the reader to do something for the site: "Follow us on Twitter" ...
_PROMO = re.compile(
    r"^\W*(?:follow|subscribe|sign up|like us|join us|want more|need more|download (?:our|the) app|"
    r"get (?:our|the) (?:newsletter|app)|click here to subscribe|support (?:us|our)|become a (?:member|subscriber|supporter)|"
    r"donate|don't miss|never miss|get a subscription|join our|get .{1,60} delivered)\b|\bfollow (?:us|him|her|me|them)\b|"
    r"\bsign up (?:for|to) (?:our|the)\b.{0,40}\bnewsletter|\bsubscribe (?:to|for) (?:our|the)\b",
    re.I,
)
# Anchor texts of calls to action.
_CTA_ANCHOR = re.compile(
    r"^\W*(?:subscribe|sign ?up|sign in|log ?in|register|join (?:us|now|today|the conversation|our)|donate|support (?:us|our|this)|"
    r"become a (?:member|subscriber|patron|supporter)|follow (?:us|me|him|her|them)|get (?:the|our) (?:newsletter|app)|"
    r"download (?:the|our) app|(?:our|the|free|daily|weekly) newsletters?|newsletters?|start (?:your |a )?free trial|"
    r"give a gift|subscribe now|share (?:this|on)|bookmark(?: and share| this)?|new call-to-action|tweet(?: this)?|email (?:this|a friend)|print(?: this)?|"
    r"leave a (?:comment|reply)|\d* ?comments?|reply|back to top|skip to|click here to (?:get|subscribe|download|sign|join|read more)|"
    r"(?:get|download) .{0,40} app\b|read more (?:on|at) |request reprint|learn more\W*$|view all|see all)\b",
    re.I,
)
_CTA_URL = re.compile(
    r"^https?://(?:(?:subscribe|subscription|subscriptions|join|account|myaccount|login|signin|checkout|"
    r"newsletters?|promo|promos)\.[^/]+|(?:[^/]+\.)?(?:eepurl\.com|list-manage\.com|mailchi\.mp|patreon\.com/join|cta-redirect\.hubspot\.com))"
    r"|^https?://[^/]+(?:/[^?#]*)?/(?:subscribe|subscriptions?|newsletters?|signup|sign-up|register|login|log-in|signin|"
    r"sign-in|donate|donation|membership|join-us|myaccount|checkout|promos?)(?:[/.?#]|$)",
    re.I,
)
# Share-button and recirculation-module URLs.
_SHARE_URL = re.compile(
    r"^https?://(?:[a-z0-9-]+\.)*(?:facebook\.com/(?:sharer|share\.php|dialog/share)|twitter\.com/(?:intent|share|hashtag)|"
    r"x\.com/(?:intent|hashtag)|pinterest\.[a-z.]+/pin/create|linkedin\.com/(?:sharearticle|shareArticle|cws/share)|"
    r"reddit\.com/submit|wa\.me/|b\.hatena\.ne\.jp/add|addthis\.com/bookmark|api\.whatsapp\.com/send|t\.me/share|plus\.google\.com/share|instagram\.com/explore/tags|"
    r"tumblr\.com/(?:share|widgets/share)|getpocket\.com/(?:save|edit)|news\.ycombinator\.com/submitlink)",
    re.I,
)
_RECIRC_QUERY = re.compile(r"[?&][^=&]*=[^&]*(?:related|recirc|recommend|trending|mostpopular|most-popular)", re.I)
_AD_URL = re.compile(r"^https?://(?:[^/]+\.)?(?:doubleclick\.net|googleadservices\.com|googlesyndication\.com|adservice\.google\.[a-z.]+|outbrain\.com|taboola\.com|zergnet\.com)/", re.I)
# Author, profile, tag, topic and category pages: where a site files the article, not what it cites.
_TAXONOMY_URL = re.compile(
    r"^https?://[^/]+(?:/[^?#]*)?/(?:tags?|topics?|category|categories|author|authors|byline|bylines|profiles?|people|"
    r"staff|contributors?|writers?|columnists?|journalists?|users?|members?|kategorien|autor|autoren|thema|themen|"
    r"schlagwort|schlagworte|rubrik|etiqueta|tema|categoria)(?:/|$)|[?&](?:tag|tags|author|cat|category|termo|topic)=",
    re.I,
)
_AUTHOR_URL = re.compile(
    r"^https?://[^/]+(?:/[^?#]*)?/(?:author|authors|byline|bylines|profiles?|people|staff|contributors?|writers?|"
    r"columnists?|journalists?|autor|autoren)(?:/|$)|[?&]author=",
    re.I,
)
# A person's (or a desk's) name as a link text: "Abigail Van Buren", "News Nation Bureau", "@handle".
_NAME = re.compile(r"^@?\w[\w.'\-]*$|^(?:[A-Z\u00c0-\u00de][\w.'\-]*|van|von|de|der|del|da|bin|al|la|le)(?: (?:[A-Z\u00c0-\u00de][\w.'\-]*|van|von|de|der|del|da|bin|al|la|le)){1,4}$")
_GENERIC_ANCHOR = re.compile(r"^\W*(?:click here|here|this|more|more information|learn more|find out more|read more|details)\W*$", re.I)
_TAG_LEAD = re.compile(r"\b(?:tags?|tagged(?: with)?|categor(?:y|ia|ies)|filed under|topics?|schlagw\w*|themen|etiquetas)\s*:[^.:!?]{0,120}$", re.I)
_SEARCH_URL = re.compile(
    r"^https?://[^/]+(?:/[^?#]*)?/(?:search|suche|buscar|busca|recherche|cerca|zoeken)(?:/|\?|$)|^https?://[^?#]+\?(?:[^#]*&)?(?:q|s|query|search|keyword)=",
    re.I,
)
_CREDIT = re.compile(r"\b(?:powered|powdered|proudly powered|built|hosted|theme|site) (?:by|with|on)\b", re.I)
_SOURCES_WORD = re.compile(r"\b(?:sources?|references?|further reading|bibliography|notes|citations?)\b", re.I)
_SOCIAL_PROFILE = re.compile(
    r"^https?://(?:www\.|m\.)?(?:twitter\.com|x\.com|facebook\.com|instagram\.com|youtube\.com|linkedin\.com|tiktok\.com|"
    r"threads\.net|pinterest\.com|flipboard\.com|t\.me|bsky\.app)/(?:(?:in|company|user|c|channel|profile)/)?@?[\w.\-]+/?(?:\?[^#]*)?$",
    re.I,
)
_PAGINATION_ANCHOR = re.compile(
    r"^\W*(?:(?:next|previous|prev|older|newer|first|last)(?: (?:page|posts?|entries|articles?|stories|results))?|"
    r"page \d+|\d{1,3}|load more|show more|more|home|view all.*|see all.*|weiter.*|zur\u00fcck.*)\W*$",
    re.I,
)
# A heading that announces a recirculation module ("Related stories", "Most read" ...).
_RECIRC_HEAD = re.compile(
    r"^\W*(?:related(?: \w+){0,2}|more (?:stories|news|from|on|articles|posts|like this|in|to read|coverage)\b.*|"
    r"recommended(?: \w+){0,2}|most (?:read|popular|viewed|shared|emailed|commented)\b.*|popular(?: \w+){0,2}|"
    r"trending(?: \w+){0,2}|you (?:may|might) (?:also )?(?:like|enjoy|be interested in)\b.*|also (?:read|on|see)\b.*|"
    r"read (?:also|next|more)\b.*|up next|what to read next|don'?t miss\b.*|top stories|editor'?s picks?|"
    r"latest(?: \w+){0,2}|around the web|sponsored(?: \w+){0,2}|advertisement|from (?:our|the) partners?\b.*|"
    r"share(?: this)?(?: \w+)?|follow us\b.*|tags?|topics?|filed under|categor(?:y|ies)|\d* ?comments?|"
    r"(?:leave|post) a (?:comment|reply)|about the authors?|more by .{1,40}|newsletter)\W*$",
    re.I,
)
_WORDS = re.compile(r"\w{2,}")
# How a related-content box introduces itself: "Related coverage from ...:", "More from ...".
_RECIRC_START = re.compile(
    r"^\W*(?:related|more (?:from|stories|news|on|articles|coverage)|read more|recommended|you (?:may|might) also|"
    r"also read|read also|trending|popular|most read|don'?t miss|see also from|other stories)\b",
    re.I,
)
_EMBED = re.compile(r"(?:^|-)(?:twitter-tweet|tweet|instagram-media|tiktok-embed|reddit-card|bluesky-embed|mastodon-embed|fb-post|threads-post|embedded-post|embed)(?:-|$)")
_IMAGE_URL = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg|bmp|tiff?)(?:$|[?#])", re.I)
_MEDIA_ANCHOR = re.compile(r"^\W*(?:video|videos|photos?|gallery|watch|listen|podcast|audio|see full gallery)\W*$", re.I)
_TAG_PREFIX = re.compile(r"^\W*(?:tags?|tagged(?: with)?|filed under|categor(?:y|ies)|topics?|more on|themen|schlagw\u00f6rter)\s*:", re.I)
# "Related: <a>...</a>" as a line of its own.
_RECIRC_PREFIX = re.compile(r"^\W*(?:related(?: \w+)?|read more|also read|read also|see more|more|recommended|watch|listen|trending|also|leggi anche(?: su)?|lesen sie auch|lire aussi|lea tambi\u00e9n|mehr zum thema)\s*[:|\u2014\u2013-]", re.I)
# What introduces a list of sources: such a list is content, even one that looks like a sidebar.
_CITE_INTRO = re.compile(
    r"\b(?:sources?|references?|further reading|reading list|bibliography|works cited|footnotes?|notes|citations?|"
    r"background|briefings?|transcripts?|previous(?:ly)?|earlier|in this series|see also|documents?|examples?|"
    r"for (?:folks|readers|you) to (?:review|read)|here are|read the|links|reports?|coverage|roundup|links? (?:of|for) the)\b",
    re.I,
)
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_ITEM_TAGS = frozenset("li dd dt tr td th".split())
_LIST_TAGS = frozenset("ul ol dl table tbody menu".split())


_SECOND_LEVEL = frozenset("co com org net gov ac edu ne or go gob nic mil".split())


def site_of(host: str) -> str:
    """The name a site goes by across its hosts, near enough: news.bbc.co.uk -> bbc,
    video.site.com -> site, www.site.de -> site (one publisher's national editions)."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else host


def _own_addresses(root: etree._Element) -> set[str]:
    found = set()
    for el in root.iter("link", "meta"):
        if el.tag == "link" and "canonical" in (el.get("rel") or "").lower().split():
            value = el.get("href")
        elif el.tag == "meta" and (el.get("property") or el.get("name") or "").lower() == "og:url":
            value = el.get("content")
        else:
            continue
        if value:
            try:
                found.add(normalise_url(value.strip()))
            except Exception:  # noqa: BLE001 - a broken canonical names nothing
                pass
    return found


def _not_a_citation_url(url: str) -> bool:
    return bool(_SHARE_URL.match(url) or _RECIRC_QUERY.search(url))


def _text_of(el: etree._Element, cap: int = 400) -> str:
    """Visible text of ``el``, reading no further than about ``cap`` characters."""
    parts: list[str] = []
    n = 0
    try:
        for piece in el.itertext():
            parts.append(piece)
            n += len(piece)
            if n > cap * 2 + 200:
                break
    except (ValueError, TypeError):
        return ""
    return _collapse("".join(parts))[:cap]


def _elements(items: Iterator) -> Iterator[etree._Element]:
    return (c for c in items if isinstance(c.tag, str))


def _intro_of(el: etree._Element) -> str:
    """The heading or sentence just before ``el`` (or its first line), which says what the block is."""
    prev = el.getprevious()
    while prev is not None and (not isinstance(prev.tag, str) or not _text_of(prev, 10)):
        prev = prev.getprevious()
    if prev is not None:
        text = _text_of(prev, 2000)
        return text[-200:] if len(text) > 200 else text
    # a box whose first child is its heading: <section><h3>Related</h3><ul>...</ul></section>
    first = next(_elements(iter(el)), None)
    if first is not None and isinstance(first.tag, str) and first.tag.lower() in _HEADINGS:
        return _text_of(first, 200)
    return ""


_MONTH_NUM = {m[:3].lower(): i for i, m in enumerate(
    "January February March April May June July August September October November December".split(), 1)}
_ITEM_DATE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTHS})\.?,?\s+(?P<y1>(?:1[89]|20)\d\d)"
    rf"|(?P<m2>{_MONTHS})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>(?:1[89]|20)\d\d)"
    rf"|(?P<y3>(?:1[89]|20)\d\d)-(?P<m3>\d\d)-(?P<d3>\d\d)"
    rf"|(?P<m4>{_MONTHS})\.?\s+(?P<y4>(?:1[89]|20)\d\d))\b"
)


def item_date(text: str) -> str | None:
    """The first date written in ``text``, as ISO 8601 (``2018-05-10``, or ``2018-05`` for a month)."""
    m = _ITEM_DATE.search(text)
    if not m:
        return None
    g = m.groupdict()
    try:
        if g["y1"]:
            y, mo, d = int(g["y1"]), _MONTH_NUM[g["m1"][:3].lower()], int(g["d1"])
        elif g["y2"]:
            y, mo, d = int(g["y2"]), _MONTH_NUM[g["m2"][:3].lower()], int(g["d2"])
        elif g["y3"]:
            y, mo, d = int(g["y3"]), int(g["m3"]), int(g["d3"])
        else:
            return f"{int(g['y4']):04d}-{_MONTH_NUM[g['m4'][:3].lower()]:02d}"
    except KeyError:
        return None
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


_QUOTED_TITLE = re.compile(r"[\u201c\"\u00ab]([^\u201c\u201d\"\u00ab\u00bb]{3,300})[\u201d\"\u00bb]")


def _item_title(item_text: str, anchor: str) -> str | None:
    """The title an item gives its link: a quoted title holding the anchor, else the anchor."""
    for m in _QUOTED_TITLE.finditer(item_text):
        inner = m.group(1).strip()
        if anchor and (anchor in inner or inner in anchor):
            return inner.rstrip(",.;: ")
    title = anchor.strip(" \"'\u201c\u201d\u2018\u2019\u00ab\u00bb,.;:")
    return title or None


class _Evidence:
    """Per-element facts about the article's scope, computed once per page."""

    def __init__(self, page: _Page, scope: set[etree._Element], roots: set[etree._Element], boiler: set[etree._Element], templates: TemplateIndex | None, base: str) -> None:
        self.page = page
        self._roots = roots
        self._site = site_of(host_of(base))
        self.page_urls = _own_addresses(page.root)  # rel=canonical, og:url: the page under its other names
        self._bare: dict[int, bool] = {}
        self._by_block: dict[int, list] | None = None
        self.scope = scope
        self.boiler = boiler
        self.templates = templates
        self.base = base
        self.recirc: set[etree._Element] = set()  # boxes and lists announced as recirculation
        self.cite_lists: set[etree._Element] = set()  # lists announced as sources
        self._mark_announced()

    def _mark_announced(self) -> None:
        for el in self.scope_order():
            tag = el.tag.lower()
            if tag in _LIST_TAGS and tag != "tbody":
                if self._announced_as_sources(el):
                    self.cite_lists.add(el)
                continue
            if tag in _HEADINGS or (tag in ("p", "div", "strong", "b", "span") and len(el) <= 2):
                text = _text_of(el, 120)
                if not text or len(text) > 100 or next(el.iter("a", "area"), None) is not None:
                    continue  # a heading names a box; it is not itself a link
                if _RECIRC_HEAD.match(text):
                    self._mark_after(el, self.recirc)
                elif tag in _HEADINGS and _CITE_INTRO.search(text):
                    self._mark_after(el, self.cite_lists)

    @staticmethod
    def _announced_as_sources(lst: etree._Element) -> bool:
        """A list the text introduces: a heading naming sources ("Sources", "Previous briefings"),
        or a sentence leading into it with a colon ("here are five briefings for folks to review:")."""
        prev = lst.getprevious()
        while prev is not None and (not isinstance(prev.tag, str) or not _text_of(prev, 10)):
            prev = prev.getprevious()
        if prev is None:
            return False
        intro = _text_of(prev, 2000)
        if not intro or _RECIRC_HEAD.match(intro[:120]) or _RECIRC_PREFIX.match(intro) or _RECIRC_START.match(intro[-200:]):
            return False
        if prev.tag.lower() in _HEADINGS or len(intro) <= 80 and next(prev.iter("a"), None) is None:
            return bool(_CITE_INTRO.search(intro))
        return intro.rstrip().endswith(":") and next(prev.iter("a"), None) is None or bool(
            intro.rstrip().endswith(":") and _CITE_INTRO.search(intro[-200:])
        )

    def _mark_after(self, heading: etree._Element, into: set[etree._Element]) -> None:
        """The box a heading opens: its parent when the heading leads a box, else what follows it up to the next heading."""
        parent = heading.getparent()
        core = max((self.page.clean.get(r, 0) for r in self.scope_roots), default=0)
        if (
            parent is not None
            and parent not in self.scope_roots
            and next(_elements(iter(parent)), None) is heading
            and self.page.clean.get(parent, 0) <= 0.25 * core  # a box, not the article's own text
            and len(_text_of(parent, 4000)) < 3000
        ):
            into.add(parent)
            return
        if heading.tag.lower() not in _HEADINGS:
            return  # a "Read more" label in the text flow announces nothing after it
        sib = heading.getnext()
        taken = 0
        while sib is not None and taken < 3:
            if isinstance(sib.tag, str):
                if sib.tag.lower() in _HEADINGS:
                    break
                if sib.tag.lower() == "p" and len(_text_of(sib, 400)) > 300:
                    break  # running text after the box is the article again
                into.add(sib)
                taken += 1
                if sib.tag.lower() in _LIST_TAGS:
                    break
            sib = sib.getnext()

    def same_host(self, url: str) -> bool:
        """On the article's own site (www.site.example and video.site.example alike)."""
        return site_of(host_of(url)) == self._site

    def bare(self, blk: _Block) -> bool:
        """A block that is links and little else: at most one word of its own per link."""
        key = id(blk)
        if key not in self._bare:
            if self._by_block is None:
                self._by_block = {}
                for rl in self.page.links:
                    self._by_block.setdefault(id(rl.block), []).append(rl)
            n_links = len(self._by_block.get(key, ())) or 1
            own = len(_WORDS.findall(self._own_text(blk))) if blk.text_len else 0
            self._bare[key] = own <= max(1, n_links)
        return self._bare[key]

    def _own_text(self, blk: _Block) -> str:
        spans = [(rl.start, rl.end if rl.end >= 0 else blk.size) for rl in (self._by_block or {}).get(id(blk), ())]
        return _blank_links(blk, spans)

    @property
    def scope_roots(self) -> set[etree._Element]:
        return self._roots

    def scope_order(self) -> list[etree._Element]:
        return [el for el in self.page.order if el in self.scope and isinstance(el.tag, str)]

    def within(self, el: etree._Element, marks: set[etree._Element]) -> etree._Element | None:
        node = el
        while node is not None and node in self.scope:
            if node in marks:
                return node
            node = self.page.parent.get(node)
        return None


def _scope(page: _Page, main: etree._Element, boiler: set[etree._Element]) -> tuple[set[etree._Element], set[etree._Element]]:
    """The article: its densest prose container, widened to the article element around it and to
    the source lists attached to it ("Sources", "Previous briefings") -- (all elements, roots)."""
    clean = page.clean
    core_weight = clean.get(main, 0) or 1
    roots = [main]
    node = page.parent.get(main)
    climbed = 0
    while node is not None and climbed < 6 and isinstance(node.tag, str) and node.tag.lower() not in ("body", "html"):
        if node in boiler:
            break
        toks = _attr_tokens(node)
        if (node.tag.lower() == "article" or "articlebody" in (node.get("itemprop") or "").lower() or (toks and _HINT_PHRASES.search(toks))) and clean.get(node, 0) <= 1.3 * core_weight:
            roots = [node]
            core_weight = max(core_weight, clean.get(node, 0))
        node = page.parent.get(node)
        climbed += 1
    # The article's lead or standfirst in a box of its own just before (or after) the body:
    # contiguous siblings of running text belong to it.
    top = roots[0]
    parent = page.parent.get(top)
    if parent is not None and isinstance(parent.tag, str) and parent.tag.lower() not in ("body", "html"):
        siblings = list(_elements(iter(parent)))
        if top in siblings:
            i = siblings.index(top)
            for step in (-1, 1):
                j, skipped = i + step, 0
                while 0 <= j < len(siblings) and skipped <= 2:
                    sib = siblings[j]
                    if clean.get(sib, 0) == 0 and (sib in boiler or next(sib.iter("a"), None) is None):
                        skipped += 1  # an ad slot or a figure between the lead and the body
                    elif sib in boiler or clean.get(sib, 0) < _MIN_PROSE or not _mostly_prose(page, sib):
                        break
                    else:
                        roots.append(sib)
                    j += step
    # Source lists that sit beside the article body rather than in it.
    anc = top
    for _ in range(3):
        parent = page.parent.get(anc)
        if parent is None or not isinstance(parent.tag, str) or parent.tag.lower() in ("html",):
            break
        siblings = list(_elements(iter(parent)))
        i = siblings.index(anc) if anc in siblings else -1
        for j, sib in enumerate(siblings):
            if j == i or sib in boiler:
                continue
            if sib.tag.lower() in _HEADINGS or (sib.tag.lower() in ("p", "div", "strong") and len(_text_of(sib, 300)) <= 200):
                text = _text_of(sib, 300)
                if text and _CITE_INTRO.search(text) and not _RECIRC_HEAD.match(text):
                    k = j + 1
                    roots.append(sib)
                    while k < len(siblings) and siblings[k].tag.lower() not in _HEADINGS and siblings[k] not in boiler and k - j <= 2:
                        roots.append(siblings[k])
                        if siblings[k].tag.lower() in _LIST_TAGS:
                            break
                        k += 1
        anc = parent
        if clean.get(parent, 0) > 1.5 * core_weight:
            break  # past the article: what is beside it now is the rest of the site
    scope: set[etree._Element] = set()
    for r in roots:
        for el in r.iter():
            scope.add(el)
    return scope, set(roots)


def _mostly_prose(page: _Page, el: etree._Element) -> bool:
    """Running text rather than a teaser box: its blocks' words are mostly not links."""
    text = links = 0
    for sub in el.iter():
        b = page.block_of.get(sub)
        if b is not None:
            text += b.text_len
            links += b.link_len
        if text > 4000:
            break
    return text >= _MIN_PROSE and links <= 0.3 * (text + links)


def _judge(ev: _Evidence, rl: _RawLink, url: str | None, anchor: str, prose: bool, block_text: str, context: str, before: str = "") -> str | None:
    """Why the link is not a citation, or None when it is one.

    ``block_text``: the start of the link's block; ``before``: the block's text just before the link.
    """
    el = rl.el
    page = ev.page
    if el not in ev.scope:
        return "outside the article"
    href = rl.href.strip()
    if not href or href.startswith("#"):
        return "in-page jump"
    if url is None:
        return None  # unfetchable: reported with its skip reason
    if url == ev.base or url in ev.page_urls:
        return "the page itself"
    node = el
    embedded = False
    while node is not None and node in ev.scope:
        if node in ev.boiler and node not in ev.scope_roots:
            kind = _boiler_kind(node)
            # an embedded post sits in a "social" or "embed" wrapper; it is quoted, not chrome
            if not (embedded and kind in ("share button", "page chrome", "aside", "follow link")):
                return kind
        if not embedded and isinstance(node.tag, str) and node.tag.lower() == "blockquote" and _EMBED.search(_attr_tokens(node)):
            embedded = True
        node = page.parent.get(node)
    rel = (el.get("rel") or "").lower().split()
    if "tag" in rel or "author" in rel or "category" in rel:
        return "author or tag page"
    if "next" in rel or "prev" in rel:
        return "pagination"
    if _not_a_citation_url(href) or _SHARE_URL.match(url):
        return "share button"
    if _AD_URL.match(url):
        return "advertisement"
    if _CREDIT.search(context) and len(anchor.split()) <= 3:
        return "page chrome"  # "Powered by WordPress"
    if _CTA_URL.match(url) or _CTA_ANCHOR.match(anchor) and len(anchor.split()) <= 8:
        return "call to action"
    if context and _PROMO.search(context) and not _SOURCES_WORD.search(context[:40]):
        return "call to action"
    if _GENERIC_ANCHOR.match(anchor) and _PROMO.search(block_text):
        return "call to action"  # "Get the magazine delivered ... Click here for more information."
    if _TAG_LEAD.search(before):
        return "author or tag page"  # "... - Tags: <a>ferries</a>, <a>budget</a>"
    if _AUTHOR_URL.match(url) and _NAME.match(anchor) and ev.within(el, ev.cite_lists) is None:
        return "author or tag page"  # "Additional reporting by <a>Name</a>", datelines, author boxes
    cite_list = ev.within(el, ev.cite_lists)
    if cite_list is None and ev.within(el, ev.recirc) is not None:
        return "related-content module"
    if cite_list is None and not prose:
        if _RECIRC_PREFIX.match(block_text):
            return "related-content module"
        if _TAXONOMY_URL.match(url):
            return "author or tag page"
        if _SEARCH_URL.match(url):
            return "navigation"  # keyword rows linking a site search, not a document
        if _SOCIAL_PROFILE.match(url):
            return "follow link"
        if _PAGINATION_ANCHOR.match(anchor):
            return "pagination"
        if re.match(r"^\W*by\b", block_text, re.I) and len(block_text) < 120:
            return "byline"
        if _IMAGE_URL.search(url):
            return "image link"
        if _RECIRC_HEAD.match(anchor) and len(anchor) < 40:
            return "related-content module"
        if ev.bare(rl.block) and ev.same_host(url) and not item_date(block_text):
            # a line that is nothing but a headline of the same site: a teaser ("more stories");
            # a single word of the same site in a bare row of links: a tag or a section
            return "related-content module" if len(anchor.split()) >= 2 else "author or tag page"
        if _MEDIA_ANCHOR.match(anchor):
            return "related-content module"
    if cite_list is None and rl.image_only and (_IMAGE_URL.search(url) or ev.same_host(url)):
        return "image link"  # a full-size view or a story's thumbnail; the image itself is a requisite
    if _TAG_PREFIX.match(block_text) and len(block_text) < 300:
        return "author or tag page"
    elif prose and re.match(r"^\W*by\s+\S", block_text, re.I) and len(block_text) < 120 and _TAXONOMY_URL.match(url):
        return "byline"
    if cite_list is None and ev.templates is not None:
        if ev.templates.is_template(el):
            return "site template"
    return None


def _boiler_kind(el: etree._Element) -> str:
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if el.get("aria-hidden") == "true" or el.get("hidden") is not None or _HIDDEN_STYLE.search(el.get("style") or ""):
        return "hidden"
    toks = _attr_tokens(el)
    parts = set(toks.split("-")) if toks else set()
    if parts & _COMMENT_TOKENS:
        return "comments"
    if tag in ("nav", "menu") or parts & {"nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "pagination", "pager"}:
        return "navigation"
    if tag in ("header", "footer") or parts & {"header", "footer", "masthead"}:
        return "header or footer"
    if parts & {"share", "shares", "sharing", "social", "socials", "sharebar", "sharetools"}:
        return "share button"
    if parts & {"newsletter", "subscribe", "subscription", "signup", "promo"}:
        return "call to action"
    if parts & {"ad", "ads", "advert", "advertisement", "sponsor", "sponsored", "dfp", "outbrain", "taboola"}:
        return "advertisement"
    if parts & {"tag", "tags", "taglist", "topics", "author", "authors", "byline", "bio"}:
        return "author or tag page"
    if parts & {"related", "recommended", "popular", "trending", "recirc", "teaser", "teasers"} or _BOILER_PHRASES.search(toks or ""):
        return "related-content module"
    return "page chrome" if tag != "aside" else "aside"


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
    # Comment sections keep their mark: a long discussion under a short post is still not the post.
    boiler = {el for el in page.boiler if el in page.comments or not (total_raw and raw.get(el, 0) >= 0.6 * total_raw)}

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
    page.clean = clean
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
    return _tighten(page, node, boiler), boiler


def _tighten(page: _Page, node: etree._Element, boiler: set[etree._Element]) -> etree._Element:
    """Inside a wide container (a page whose prose is spread over a whole <body>), the element
    that keeps most of the prose while shedding most of the link lists: where the article ends."""
    clean = page.clean
    listed: dict[etree._Element, int] = {}
    for b in page.blocks:
        if b.link_len and not _in_prose(b):
            listed[b.el] = b.link_len
    for el in reversed(page.order):
        v = listed.get(el, 0)
        if el in boiler:
            listed[el] = 0
            continue
        if v:
            p = page.parent.get(el)
            if p is not None:
                listed[p] = listed.get(p, 0) + v
    floor = 0.6 * clean.get(node, 0)

    def score(el: etree._Element) -> float:
        return clean.get(el, 0) - 0.5 * listed.get(el, 0)

    best, best_score = node, score(node)
    stack = [node]
    while stack:
        el = stack.pop()
        for c in el:
            if not isinstance(c.tag, str) or c.tag in _LEAF_BLOCKS or clean.get(c, 0) < floor:
                continue
            sc = score(c)
            if sc > best_score:
                best, best_score = c, sc
            stack.append(c)
    return best


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


def _trafilatura_metadata(text, url: str) -> tuple[str | None, str | None]:
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


def find_links_html(
    html: bytes | str | HtmlDocument, base_url: str, encoding: str | None = None, templates: TemplateIndex | None = None
) -> ArticleLinks:
    """Every link of an HTML page, each marked cited or not (with the evidence why not).

    Inside the article a link is a citation unless something shows it is not one: page
    chrome, a call to action, an author or tag page, a related-content module, comments,
    or (given ``templates``, built from other pages of the same site) a site template.
    ``html`` may be an :class:`HtmlDocument` already decoded and parsed for other readers.
    """
    try:
        return _find_links_html(html, base_url, encoding, templates)
    except RecursionError:
        return ArticleLinks()


def _find_links_html(html, base_url: str, encoding: str | None, templates) -> ArticleLinks:
    if isinstance(html, HtmlDocument):
        doc = html
    else:
        doc = HtmlDocument.from_bytes(html or b"", f"text/html; charset={encoding}" if encoding else None)
    root = doc.root
    if root is None:
        return ArticleLinks()
    page = _Page(root)
    base = base_url
    if page.base_href:
        url, skip = _resolve(page.base_href, base_url)
        if skip is None:
            base = url
    try:
        self_url = normalise_url(base_url)
    except Exception:  # noqa: BLE001
        self_url = base_url
    main, boiler = _choose_main(page)
    if main is not None:
        scope, roots = _scope(page, main, boiler)
    else:
        scope, roots = set(), set()
    ev = _Evidence(page, scope, roots, boiler, templates, self_url)
    if templates is not None:
        templates.bind(self_url)

    out = _Collector()
    block_text: dict[int, str] = {}
    resolutions: dict[str, tuple[str, str | None]] = {}  # the same href recurs (menus, share bars)
    for rl in page.links:
        blk = rl.block
        key = id(blk)
        if key not in block_text:
            block_text[key] = "".join(blk.pieces)
        btext = block_text[key]
        end = rl.end if rl.end >= 0 else blk.size
        anchor = _collapse("".join(rl.text))
        if not anchor:
            anchor = _collapse(rl.alt or rl.el.get("aria-label") or rl.el.get("title") or "")
        context = _sentence_around(btext, rl.start, end) if btext.strip() else anchor
        resolved = resolutions.get(rl.href)
        if resolved is None:
            resolved = resolutions[rl.href] = _resolve(rl.href, base)
        url, skip = resolved
        prose = _in_prose(blk)
        why = _judge(ev, rl, url if skip is None else None, anchor, prose, _collapse(btext[:300]), context, btext[max(0, rl.start - 200) : rl.start])
        item: dict[str, Any] = {}  # _item_fields, and "provisional": True
        if why is None and rl.el in scope:
            item = _item_fields(ev, rl, blk, btext, anchor)
            if item.get("item_date") and len(btext) <= 2 * CONTEXT_CAP and len(_collapse(btext)) <= CONTEXT_CAP:
                context = _collapse(btext)  # a list item is its own context: date, title, comment
        if why is None and templates is None and (not prose or ev.bare(blk) or blk.el.tag in _ITEM_TAGS) and ev.within(rl.el, ev.cite_lists) is None:
            item["provisional"] = True
        out.add(rl.href, base, anchor, context, why is None, why, (url, skip), **item)

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
            if b.el in scope and b.text_len >= 20 and ev.within(b.el, boiler) in (None, *roots):
                chunks.append((_blank_links(b, spans.get(id(b), [])), b.italics))
        unlinked = _find_unlinked(chunks)
    title, author, published = _metadata(root, main)
    if published is None:  # its date search is thorough but costly: only when we found none
        t_author, t_date = _trafilatura_metadata(doc.copy_root(), base_url)  # a copy: it may prune what it reads
        author = author or t_author
        published = published or t_date
    result = ArticleLinks(title, author, published, out.links, unlinked, main_html)
    result.main = main
    return result


def _item_fields(ev: _Evidence, rl: _RawLink, blk: _Block, btext: str, anchor: str) -> dict[str, str | None]:
    """Date, title and list heading of a link that is one item of a list (or a short dated line)."""
    tag = blk.el.tag.lower() if isinstance(blk.el.tag, str) else ""
    is_item = tag in _ITEM_TAGS
    if len(btext) > 2000 or not (is_item or len(btext) <= 600):
        return {}  # running text, not an item of a list
    text = _collapse(btext)
    date = item_date(text) if (is_item or len(text) <= 300) else None
    if not is_item and date is None:
        return {}
    heading = None
    container = blk.el
    if is_item:
        node = ev.page.parent.get(blk.el)
        while node is not None and isinstance(node.tag, str) and node.tag.lower() not in _LIST_TAGS and node in ev.scope:
            node = ev.page.parent.get(node)
        if node is not None and isinstance(node.tag, str) and node.tag.lower() == "tbody":
            node = ev.page.parent.get(node)
        container = node if node is not None else blk.el
    intro = _intro_of(container)
    if intro and len(intro) <= 200:
        heading = intro
    return {"item_date": date, "item_title": _item_title(text, anchor), "list_heading": heading}


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


def canonical_url(html: bytes | str | HtmlDocument) -> str | None:
    """The address a saved page names for itself (rel=canonical, og:url), to resolve its relative links.

    A page saved from a browser and captured as a local file keeps its links relative to
    where it came from, not to the file.
    """
    if isinstance(html, HtmlDocument):
        doc = html.root
    else:
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
