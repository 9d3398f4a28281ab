"""Measure URL normalisation (archiver/urls.py) on the links of the real pages in the shared corpus.

For every href of every page in ``articles/aeb`` and ``articles/trafilatura-eval``, resolved
against the page's URL, it counts the distinct URLs three ways, measured in the same run:

  baseline -- urljoin and a lower-cased host, IDNA 2003 (Python's "idna" codec), no dot-segment
              removal, no percent-escape normalisation: what a naive tool, and archiver
              before this change, compare;
  archiver -- normalise_url: IDNA 2008 / UTS 46, dot segments removed, unreserved escapes
              decoded and the rest upper-cased (RFC 3986 6.2.2).

and lists the hosts where IDNA 2003 and IDNA 2008 disagree (those are different sites: the
baseline would fetch the wrong one).

Usage: python scripts/measure_urls.py
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html

from archiver.urls import normalise_escapes, remove_dot_segments, try_normalise

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def pages() -> list[tuple[str, bytes]]:
    out = []
    aeb = CORPUS / "articles" / "aeb"
    truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
    for key, entry in truth.items():
        path = aeb / "html" / f"{key}.html.gz"
        if path.exists():
            out.append((entry["url"], gzip.decompress(path.read_bytes())))
    teval = CORPUS / "articles" / "trafilatura-eval"
    for url, entry in json.loads((teval / "evaldata-subset.json").read_text(encoding="utf-8")).items():
        path = teval / entry["file"]
        if not path.exists():
            path = teval / "html" / entry["file"]
        if path.exists():
            out.append((url, path.read_bytes()))
    return out


def baseline(href: str, base: str) -> str | None:
    try:
        parts = urlsplit(urljoin(base, href.strip()))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            host = parts.hostname
        return urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path or "/", parts.query, ""))
    except ValueError:
        return None


def main() -> int:
    if not CORPUS.is_dir():
        print(f"the shared corpus is not at {CORPUS}", file=sys.stderr)
        return 2
    links = 0
    old_forms: set[str] = set()
    new_forms: set[str] = set()
    merged = Counter()  # which rule made two baseline URLs one
    idna_differs: set[tuple[str, str, str]] = set()
    corpus = pages()
    for page_url, html in corpus:
        try:
            doc = lxml.html.fromstring(html)
        except (ValueError, lxml.etree.ParserError):
            continue
        for href in doc.xpath("//a/@href"):
            old, new = baseline(href, page_url), try_normalise(href, page_url)
            if old is None or new is None:
                continue
            links += 1
            old_forms.add(old)
            new_forms.add(new)
            raw_host = urlsplit(urljoin(page_url, href.strip())).hostname or ""
            old_parts, new_host = urlsplit(old), urlsplit(new).hostname or ""
            if not raw_host.isascii() and old_parts.hostname != new_host:
                idna_differs.add((raw_host, old_parts.hostname or "", new_host))
            if remove_dot_segments(old_parts.path) != old_parts.path:
                merged["dot segments removed"] += 1
            if normalise_escapes(old_parts.path + "?" + old_parts.query) != old_parts.path + "?" + old_parts.query:
                merged["percent-escapes normalised"] += 1
    print(f"{links} http(s) links on {len(corpus)} corpus pages")
    print(f"distinct URLs: baseline {len(old_forms)}, archiver {len(new_forms)} ({len(old_forms) - len(new_forms)} spellings recognised as the same URL)")
    for rule, count in merged.most_common():
        print(f"  links whose form changed by {rule}: {count}")
    print(f"hosts where IDNA 2003 (baseline) and IDNA 2008 / UTS 46 differ: {len(idna_differs)}")
    for raw, old, new in sorted(idna_differs)[:10]:
        print(f"  {raw}: baseline {old}, archiver {new}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
