"""What a reader sees on a page besides its running text: the page's own links, its images, its headings.

Main-text extractors drop link-only lines ("View this dataset") and never see images, yet a
dataset link removed from a listing or a photo taken down is exactly what a reader of a
cited source cares about. This module lists them from the DOM, leaving out page chrome
(header, nav, footer, aside) and boxes whose class or id names them as rotating or
promotional (related stories, sliders, ads, share buttons, menus): those change between
visits without anyone editing the page.

Each link and image is keyed by a stable form of its URL (host without www., path without
a trailing slash, cache-busting queries dropped) so a new template that rewrites relative
URLs as absolute, or adds an image-style token, does not look like a change.
"""

from __future__ import annotations

from typing import Any

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from archiver.analyze.text import normalise_text

# Elements whose content is page chrome, never the page's own content (<form> is not: ASP.NET wraps
# whole pages in one; <noscript> is not: lazy-loading pages put the real <img> there).
_CHROME_TAGS = {"nav", "header", "footer", "aside", "button", "select", "script", "style",
                "template", "iframe", "svg"}
# Class or id words naming boxes that rotate or promote rather than say something.
_CHROME_WORDS = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|menus|dropdown|masthead|footer|sidebar|side-bar|aside|"
    r"related|recommend(?:ed|ations)?|trending|popular|most-?read|more-?stories|promo|promotion|teaser|teasers|"
    r"ad|ads|advert|adverts|advertisement|adslot|ad-slot|dfp|sponsor|sponsored|outbrain|taboola|banner|"
    r"share|sharing|social|comment|comments|newsletter|subscribe|signup|cookie|consent|gdpr|breadcrumb|breadcrumbs|"
    r"carousel|slider|slides|slideshow|flexslider|ticker|logo|widget|widgets|toolbar|skip|pager|pagination|"
    r"site-name|byline-social|tags|tag-list)(?:$|[-_\s])",
    re.I,
)
_CACHE_QUERY = re.compile(r"^(?:utm_\w+|itok|_|cb|v|ver|version|ts|t|timestamp|rand|r|rnd|fbclid|gclid|"
                          r"mc_cid|mc_eid|sessionid|sid|phpsessid|jsessionid|ref|source|width|height|w|h|"
                          r"quality|q|fit|crop|format|auto|resize|__cf_\w+)$", re.I)
_LAYOUT_FLAG = re.compile(r"(?:^|[-_])(?:no|has|with|without|show|hide|is)[-_][^\W_]+", re.I)
_SKIP_HREF = re.compile(r"^\s*(?:#|javascript:|data:|about:)", re.I)
_TINY = 3  # pixels: tracking pixels and spacers
_WRAPPER_SHARE = 0.4  # an element named like chrome but holding this share of the page's text is a wrapper


@dataclass
class Features:
    """A page's own links and images, and its headings, in document order; and short digests of
    everything on the whole page (chrome included), so that a link or a paragraph that a new
    template merely moved out of the main content is not taken for one removed."""

    links: list[tuple[str, str]] = field(default_factory=list)  # (key, link text)
    images: list[tuple[str, str]] = field(default_factory=list)  # (key, alt text)
    headings: list[str] = field(default_factory=list)
    page_links: set[str] = field(default_factory=set)  # digest() of every link key on the page
    page_images: set[str] = field(default_factory=set)  # digest() of every image key on the page
    page_text: str = ""  # the whole page's visible text, chrome included, at most PAGE_TEXT_LIMIT characters
    own_key: str | None = None  # url_key() of the page itself

    def to_json(self) -> dict:
        return {"links": [list(x) for x in self.links], "images": [list(x) for x in self.images],
                "headings": list(self.headings), "self": self.own_key,
                "page": {"links": sorted(self.page_links), "images": sorted(self.page_images),
                         "text": self.page_text[:PAGE_TEXT_LIMIT]}}


def digest(value: str) -> str:
    """A short stable digest (32 bits, hex): enough to tell one page's lines and links apart."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=4).hexdigest()



def url_key(url: str, base: str | None = None) -> str | None:
    """A link or image address in a form that survives template changes; None for non-addresses."""
    if not url or _SKIP_HREF.match(url):
        return None
    try:
        absolute = urljoin(base or "", url.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme in ("mailto", "tel"):
        return f"{parts.scheme}:{parts.path.lower()}"
    if parts.scheme not in ("http", "https", ""):
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = re.sub(r"/+", "/", parts.path or "/").rstrip("/") or "/"
    path = re.sub(r"/(?:index|default)\.(?:html?|php|aspx?)$", "", path) or "/"
    if not parts.query:
        return host + path
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _CACHE_QUERY.match(k)]
    return host + path + ("?" + urlencode(sorted(query)) if query else "")


_UTILITY_PATH = re.compile(
    r"/(?:print|printer-friendly|send-to-friend|send-to-a-friend|email-this|share|sharer|login|log-in|signin|sign-in|"
    r"logout|register|subscribe|signup|sign-up|newsletters?|feedback|cookies?|cookie-policy|privacy|terms|"
    r"accessibility|contact|rss|feed)(?:[/.?]|$)", re.I)


def is_utility_link(key: str, own_key: str | None) -> bool:
    """A link that serves the page rather than says something: print, share, e-mail this, log in,
    the page itself with a query, a bare mailto. Its going away is not an edit."""
    if key.startswith("mailto:"):
        return key == "mailto:"
    if key.startswith("tel:"):
        return False
    if own_key and key.split("?")[0] == own_key.split("?")[0]:
        return True
    path = key[key.find("/"):] if "/" in key else "/"
    return bool(_UTILITY_PATH.search(path))


def image_key(src: str, base: str | None = None) -> str | None:
    """An image address without the resizing path a CMS puts in front of the file (Drupal image styles)."""
    key = url_key(src, base)
    if key is None or key.startswith(("mailto:", "tel:")):
        return None
    return re.sub(r"/styles/[^/]+/(?:public|private)/", "/", key)


def _is_chrome(el, page_chars: int, anchors: tuple[str, ...] = ()) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _CHROME_TAGS:
        return True
    if el.get("role") in ("navigation", "banner", "contentinfo", "complementary", "search"):
        return True
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    names = f"{el.get('class') or ''} {el.get('id') or ''}".split()
    # "no-sidebar", "content-with-sidebar" describe the layout around the element, not the element.
    if not any(_CHROME_WORDS.search(_LAYOUT_FLAG.sub("", name)) for name in names):
        return False
    # "page has-sidebar", "layout with-header": a wrapper holding most of the page is not a box,
    # and neither is one holding a paragraph of the main text ("l-sidebar-fixed l-article-body").
    text = el.text_content()
    if len(text) >= _WRAPPER_SHARE * page_chars:
        return False
    if anchors:
        flat = " ".join(_flat(text).split())
        if any(anchor in flat for anchor in anchors):
            return False
    return True


def _flat(s: str) -> str:
    return normalise_text(s).replace("\n", " ").strip()


_LAZY_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-normal", "data-lazy", "data-echo", "data-url",
               "data-hi-res-src", "data-full-src", "data-orig-file", "data-srcset", "srcset")


def _image_src(img) -> str:
    """The image a reader gets: lazy-loading pages keep it in a data- attribute behind a placeholder src."""
    for attr in _LAZY_ATTRS:
        value = (img.get(attr) or "").strip()
        if value.startswith("{"):  # {"default": "//cdn.example/img.jpg"}: some CMSs put JSON there
            found = re.search(r"(?:https?:)?//[^\s\"']+", value)
            value = found.group() if found else ""
        value = value.split(" ")[0].rstrip(",")  # a srcset's first candidate
        if value and not value.startswith("data:"):
            return value
    return img.get("src") or ""


def _tiny(img) -> bool:
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) <= _TINY:
            return True
    return False


_ANCHOR_WORDS = 12  # a main-text paragraph this long marks the box holding it as content
_ANCHOR_CHARS = 60


def _anchors(main_text: str | None) -> tuple[str, ...]:
    """The openings of the main text's three longest paragraphs: where the article is."""
    lines = [line for line in (main_text or "").split("\n") if len(line.split()) >= _ANCHOR_WORDS]
    lines.sort(key=len, reverse=True)
    return tuple(" ".join(line.split())[:_ANCHOR_CHARS] for line in lines[:3])


def page_features(doc, base_url: str | None = None, main_text: str | None = None) -> Features:
    """Links, images and headings of a parsed page (lxml document), chrome left out.

    ``main_text``: the extracted main text, whose paragraphs mark boxes that hold the article
    however their class names read.
    """
    out = Features(own_key=url_key(base_url) if base_url else None)
    anchors = _anchors(main_text)
    if doc is None:
        return out
    body = doc.find("body")
    root = body if body is not None else doc
    base = base_url
    found = doc.xpath("//head/base/@href")
    if found:
        base = urljoin(base_url or "", found[0].strip())
    page_chars = max(1, len(root.text_content()))
    keys: dict[str, str | None] = {}  # raw href -> url_key: pages repeat their links

    def key_of(href: str) -> str | None:
        if href not in keys:
            keys[href] = url_key(href, base)
        return keys[href]

    seen_links: set[str] = set()
    seen_images: set[str] = set()

    # Iterative, in document order: hostile pages nest deeper than Python recursion goes.
    stack = [root]
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str):
            continue
        if el is not root and _is_chrome(el, page_chars, anchors):
            continue
        tag = el.tag
        if tag == "a":
            key = key_of(el.get("href") or "")
            if key and key not in seen_links:
                seen_links.add(key)
                out.links.append((key, _flat(el.text_content())[:200]))
        elif tag == "img" and not _tiny(el):
            key = image_key(_image_src(el), base)
            if key and key not in seen_images:
                seen_images.add(key)
                out.images.append((key, _flat(el.get("alt") or "")[:200]))
        elif tag in ("h1", "h2", "h3", "h4"):
            text = _flat(el.text_content())
            if text:
                out.headings.append(text)
        stack.extend(reversed(el))
    for a in root.iter("a"):
        key = key_of(a.get("href") or "")
        if key:
            out.page_links.add(digest(key))
    for img in root.iter("img"):
        key = image_key(_image_src(img), base)
        if key:
            out.page_images.add(digest(key))
    return out


PAGE_TEXT_LIMIT = 200_000  # characters of visible text kept with the features
_INVISIBLE = {"script", "style", "noscript", "template", "svg", "head", "title", "meta", "link"}
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section", "article",
           "table", "ul", "ol", "dd", "dt", "figcaption", "figure", "td", "th", "main", "aside", "hr", "header", "footer",
           "nav", "form", "body", "address", "details", "summary", "dl", "caption"}


def visible_text(doc) -> str:
    """Every text a reader could see on the page, chrome included, one line per block."""
    if doc is None:
        return ""
    body = doc.find("body")
    root = body if body is not None else doc
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]  # lxml elements and comments
    while stack:  # iterative: hostile pages nest deeper than Python recursion goes
        el, closing = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if closing:
            if tag in _BLOCKS:
                parts.append("\n")
            if el.tail and el is not root:
                parts.append(el.tail)
            continue
        if not tag or tag in _INVISIBLE:
            if el.tail and el is not root:
                parts.append(el.tail)
            continue
        if tag in _BLOCKS:
            parts.append("\n")
        if el.text:
            parts.append(el.text)
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    return normalise_text("".join(parts))


def line_words(line: str, dates_as_words: bool = True) -> list[str]:
    """A line's words as compared across extractors: volatile parts masked, lower-cased,
    punctuation and list markers gone (they differ between extractors, not between versions);
    without dates and clock times when ``dates_as_words`` is false."""
    from archiver.analyze.judge import mask_stamps, mask_volatile  # judge builds on this module

    line = mask_volatile(line)
    return re.findall(r"\w+", (line if dates_as_words else mask_stamps(line)).lower())


_RUN = 4  # words in the runs that find a block on a page
_BLOCK_SHARE = 0.9


class PageText:
    """The whole page's visible text, searchable for a line an extractor may have cut or joined."""

    MAX_STARTS = 256  # places tried for a line's first word

    def __init__(self, text: str, dates_as_words: bool = True):
        self.text = text
        self.dates_as_words = dates_as_words
        self.words = [w for line in text.split("\n") for w in line_words(line, dates_as_words)]
        self.at: dict[str, list[int]] = {}
        for i, w in enumerate(self.words):
            self.at.setdefault(w, []).append(i)
        self._undated: PageText | None = None
        self._undated_runs: set[tuple[str, ...]] = set()

    def holds_block(self, line: str) -> bool:
        """Whether a block that appears whole on one side only is on this page after all, with
        its stamps refreshed ("March 11, 2019 - 5:49" changed) and possibly glued to its
        neighbours by an extractor: nine in ten of its four-word runs must be here."""
        if self._undated is None:
            self._undated = PageText(self.text, dates_as_words=False)
            w = self._undated.words
            self._undated_runs = {tuple(w[i:i + _RUN]) for i in range(len(w) - _RUN + 1)}
        words = [part for w in line_words(line, False) for part in self._undated._unglued(w)]
        if len(words) < 2 * _RUN:
            return self._undated.holds(line)
        runs = [tuple(words[i:i + _RUN]) for i in range(len(words) - _RUN + 1)]
        return sum(run in self._undated_runs for run in runs) >= _BLOCK_SHARE * len(runs)

    def holds(self, line: str) -> bool:
        """Whether the page shows ``line``'s words in order with few others between them.

        Extractors drop link texts and captions' "more" buttons and join or split blocks;
        they do not reword. So up to a fifth of extra words (at least two) may sit between.
        """
        words = [part for w in line_words(line, self.dates_as_words) for part in self._unglued(w)]
        if not words:
            return False
        budget = max(2, len(words) // 5)
        if any(w not in self.at for w in words):
            return False
        # Start where the line's rarest word could sit: few places to try, even for "the ...".
        r = min(range(len(words)), key=lambda i: len(self.at[words[i]]))
        starts = self.at[words[0]]
        tried = 0
        for p in self.at[words[r]]:
            lo = bisect.bisect_left(starts, p - r - budget)
            hi = bisect.bisect_right(starts, p - r)
            for start in starts[lo:hi]:
                tried += 1
                if tried > self.MAX_STARTS:
                    return False
                if self._run_from(start, words, budget):
                    return True
        return False

    def _run_from(self, start: int, words: list[str], budget: int) -> bool:
        pos, skipped = start, 0
        for w in words[1:]:
            found = self.at[w]
            k = bisect.bisect_right(found, pos)
            if k == len(found):
                return False
            skipped += found[k] - pos - 1
            if skipped > budget:
                return False
            pos = found[k]
        return True

    def _unglued(self, word: str) -> list[str]:
        """A word the page lacks but two of its words make ("lesskarma": an extractor joined two
        blocks without a space), as those two; otherwise the word itself."""
        if word in self.at or len(word) < 4:
            return [word]
        for cut in range(len(word) - 1, 0, -1):
            if word[:cut] in self.at and word[cut:] in self.at:
                return [word[:cut], word[cut:]]
        return [word]
