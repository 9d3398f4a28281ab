"""Site templates: link blocks that recur, in the same form, on other pages of the same site.

A list of links that appears only in this article is content; the same list on the
author's other posts ("Latest posts", a blogroll, a partner box) is the site's template.
archiver usually fetches such sibling pages anyway (an author cites their earlier posts),
so their link blocks are evidence at no extra request. Without siblings there is no
evidence and nothing is called template.

A block is a link's nearest block element, widened from a list item to its whole list.
Two blocks are "the same" when they link the same set of URLs (leaving out the two pages
themselves, which a "latest posts" box lists on one and not the other) or when they read
the same words.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from lxml import etree

from archiver.urls import try_normalise

__all__ = ["TemplateIndex", "host_of"]

_CONTAINER_TAGS = frozenset(
    "p li dd dt tr td th ul ol dl table div section nav header footer aside blockquote figure "
    "h1 h2 h3 h4 h5 h6 article main body form menu".split()
)
_ITEM_TAGS = frozenset("li dd dt tr td th".split())
_LIST_TAGS = frozenset("ul ol dl table menu".split())
_WS = re.compile(r"\s+")
_MAX_TEXT = 2000  # characters: longer blocks are articles, not template boxes


def host_of(url: str) -> str:
    """The host a page belongs to, without a leading www."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _container(el: etree._Element) -> etree._Element:
    node = el.getparent()
    while node is not None and not (isinstance(node.tag, str) and node.tag.lower() in _CONTAINER_TAGS):
        node = node.getparent()
    if node is None:
        return el
    if node.tag.lower() in _ITEM_TAGS:
        up = node
        for _ in range(4):
            up = up.getparent()
            if up is None:
                break
            if isinstance(up.tag, str) and up.tag.lower() in _LIST_TAGS:
                return up
    return node


def _text_key(el: etree._Element) -> str | None:
    try:
        text = _WS.sub(" ", el.text_content()).strip().lower()
    except (ValueError, TypeError):
        return None
    if len(text) < 20 or len(text) > _MAX_TEXT:
        return None
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=12).hexdigest()


def _urls(container: etree._Element, base: str) -> frozenset[str]:
    found = set()
    for a in container.iter("a", "area"):
        href = (a.get("href") or "").strip()
        if href and not href.startswith("#"):
            url = try_normalise(href, base)
            if url:
                found.add(url.split("#", 1)[0])
    return frozenset(found)


class _Sibling:
    def __init__(self, url: str, blocks: set[frozenset[str]], texts: set[str]) -> None:
        self.url = url
        self.blocks = blocks
        self.texts = texts


class TemplateIndex:
    """The link blocks of a site's other pages; asks whether a block of this page is one of them."""

    def __init__(self) -> None:
        self.siblings: list[_Sibling] = []
        self._article = ""
        self._base = ""
        self._memo: dict[etree._Element, bool] = {}

    def __len__(self) -> int:
        return len(self.siblings)

    def add_page(self, root: etree._Element | None, url: str) -> None:
        """Index the link blocks of a sibling page (its parsed tree and address)."""
        if root is None:
            return
        blocks: set[frozenset[str]] = set()
        texts: set[str] = set()
        seen: set[etree._Element] = set()
        for a in root.iter("a", "area"):
            c = _container(a)
            if c in seen:
                continue
            seen.add(c)
            urls = _urls(c, url)
            if urls:
                blocks.add(urls)
            key = _text_key(c)
            if key:
                texts.add(key)
        self.siblings.append(_Sibling(try_normalise(url) or url, blocks, texts))

    def bind(self, article_url: str) -> None:
        """Start judging the links of one article (its blocks are looked at lazily, link by link)."""
        self._article = article_url.split("#", 1)[0]
        self._base = article_url
        self._memo = {}

    def is_template(self, el: etree._Element) -> bool:
        """Whether the block holding link ``el`` recurs on a sibling page."""
        if not self.siblings:
            return False
        c = _container(el)
        if c in self._memo:
            return self._memo[c]
        urls = _urls(c, self._base)
        key = _text_key(c)
        found = False
        for sib in self.siblings:
            if sib.url == self._article:
                continue
            if key and key in sib.texts:
                found = True
                break
            mine = urls - {self._article, sib.url}
            if len(mine) >= 2 and any(len(b) >= len(mine) and b - {self._article, sib.url} == mine for b in sib.blocks):
                found = True
                break
        self._memo[c] = found
        return found
