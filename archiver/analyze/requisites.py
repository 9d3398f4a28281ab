"""Page requisites: the stylesheets, images, scripts and fonts a page needs to replay faithfully."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from archiver.urls import try_normalise

_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""", re.I)


def find_requisites(html, base_url: str) -> list[tuple[str, str]]:
    """(url, kind) for every requisite of an HTML page, in document order, without duplicates.

    ``html`` is the page's markup or its already parsed tree (an lxml element, read only).
    """
    if html is not None and not isinstance(html, (bytes, str)):
        doc = html
    else:
        try:
            doc = lxml_html.fromstring(html if isinstance(html, (bytes, str)) and html else "<html></html>")
        except (ValueError, TypeError, lxml_html.etree.ParserError):
            return []
    base = base_url
    for element in doc.iter("base"):
        if element.get("href"):
            base = try_normalise(element.get("href"), base_url) or base_url
            break
    found: list[tuple[str, str]] = []

    def add(raw: str | None, kind: str) -> None:
        if not raw or raw.strip().startswith("data:"):
            return
        url = try_normalise(raw, base)
        if url:
            found.append((url, kind))

    for element in doc.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "link":
            rel = (element.get("rel") or "").lower().split()
            if "stylesheet" in rel:
                add(element.get("href"), "stylesheet")
            elif {"icon", "apple-touch-icon", "preload", "manifest"} & set(rel):
                add(element.get("href"), "icon" if "icon" in rel or "apple-touch-icon" in rel else "preload")
        elif tag == "script":
            add(element.get("src"), "script")
        elif tag in ("img", "source", "video", "audio", "input", "embed", "track"):
            add(element.get("src"), "image" if tag in ("img", "input") else "media")
            for candidate in (element.get("srcset") or "").split(","):
                add(candidate.strip().split(" ")[0], "image")
            add(element.get("poster"), "image")
        elif tag == "style" and element.text:
            for match in _CSS_URL.finditer(element.text):
                add(match.group(1) or match.group(2), "style")
        if tag and element.get("style"):
            for match in _CSS_URL.finditer(element.get("style")):
                add(match.group(1) or match.group(2), "style")
    seen: set[str] = set()
    unique = []
    for url, kind in found:
        if url not in seen:
            seen.add(url)
            unique.append((url, kind))
    return unique


def css_requisites(css: str, base_url: str) -> list[tuple[str, str]]:
    """Images, fonts and imports a stylesheet refers to."""
    found, seen = [], set()
    for match in _CSS_URL.finditer(css):
        raw = match.group(1) or match.group(2)
        if raw.startswith("data:"):
            continue
        url = try_normalise(raw, base_url)
        if url and url not in seen:
            seen.add(url)
            found.append((url, "style"))
    return found
