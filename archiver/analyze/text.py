"""Main-text extraction and text similarity: what a recheck compares instead of raw bytes."""

from __future__ import annotations

import difflib
import functools
import hashlib
import io
import logging
import operator
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from archiver.analyze.document import HtmlDocument, decode_html

log = logging.getLogger(__name__)


@dataclass
class Extracted:
    kind: str  # 'html' | 'pdf' | 'text' | 'binary'
    title: str | None
    text: str | None  # normalised main text (None for binary)
    text_sha256: str | None  # sha256 hex of text (utf-8)
    fingerprint: str | None  # 64-bit simhash over word shingles, 16 hex chars
    lang: str | None = None
    # The page's own links, images and headings (archiver.analyze.features.Features.to_json), HTML only.
    features: dict | None = None
    # The decoded and parsed page, kept when asked for: citations, quotations and requisites
    # then read the very tree the text came from instead of decoding and parsing again.
    document: HtmlDocument | None = field(default=None, repr=False, compare=False)


# --------------------------------------------------------------------------- normalisation

_TRANSLATE = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u2035\u02bc"},
    # Guillemets are quotation marks in French and Swiss text.
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u2039\u203a"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"},
    **{ord(c): " " for c in "\u00a0\u2007\u202f\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000\t\f\v"},
    **{ord(c): None for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad"},
    ord("\u2026"): "...",
    ord("\u2028"): "\n",
    ord("\u2029"): "\n",
    ord("\r"): "\n",
}

_SPACES = re.compile(r" {2,}")


def normalise_text(s: str) -> str:
    """NFC, ASCII quotes/dashes/ellipsis, no NBSP or zero-width chars, one line per paragraph."""
    if not s:
        return ""
    s = unicodedata.normalize("NFC", s).translate(_TRANSLATE)
    # Every page's text passes here several times: whole-string C-level passes, not a Python
    # loop over lines (a run of spaces never spans a line, so collapsing first is the same).
    if "  " in s:
        s = _SPACES.sub(" ", s)
    return "\n".join(filter(None, map(str.strip, s.split("\n"))))


# Word tokens. A punctuation mark is never a word: matching only words skips it, as matching
# it as a token of its own and dropping it did (at a third less cost).
_WORD = re.compile(r"\w+(?:['.\-]\w+)*", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of normalised text (punctuation dropped)."""
    return _WORD.findall(normalise_text(text).lower())


# --------------------------------------------------------------------------- fingerprint & similarity

def _shingles(ws: list[str], k: int = 3) -> set[str]:
    if len(ws) < k:
        return {" ".join(ws)} if ws else set()
    return {" ".join(ws[i:i + k]) for i in range(len(ws) - k + 1)}


def fingerprint(text: str) -> str:
    """64-bit simhash of 3-word shingles, as 16 hex chars (near-equal texts differ in few bits)."""
    # The same value as hashing each shingle with blake2b in a Python loop, at a fraction of
    # the cost (capture fingerprints every page): the words are encoded in one pass (a word
    # holds no space), shingles and digests are built by C-level maps, and each of the 64
    # bit counts is one AND and one popcount over a digest byte column read as a big integer.
    shingles = _encoded_shingles(text)
    if not shingles:
        return "0" * 16
    digests = b"".join(map(_DIGEST, map(_blake2b_8, shingles)))
    count = len(shingles)
    lowest_bits = int.from_bytes(b"\x01" * count, "little")  # bit 0 of every byte of a column
    result = 0
    for pos in range(8):
        column = int.from_bytes(digests[pos::8], "little")  # byte ``pos`` of every digest
        for bit in range(8):
            if ((column >> bit) & lowest_bits).bit_count() * 2 > count:
                result |= 1 << (pos * 8 + bit)
    return f"{result:016x}"


# Characters of a long text tokenised at a time: the word list of a 4 MiB text is some 40 MB.
_SHINGLE_CHUNK = 1 << 16


def _encoded_shingles(text: str) -> set[bytes]:
    """The text's distinct 3-word shingles (``_shingles(words(text))``), utf-8 encoded.

    A long text is read in chunks cut at a space or a line break (never inside a word), the
    last two words of one chunk starting the next, so no whole word list is ever held.
    """
    if len(text) <= _SHINGLE_CHUNK:
        ws = words(text)
        if len(ws) < 3:
            return {s.encode("utf-8") for s in _shingles(ws)}
        encoded = " ".join(ws).encode("utf-8").split(b" ")
        return set(map(b" ".join, zip(encoded, encoded[1:], encoded[2:], strict=False)))
    lowered = normalise_text(text).lower()
    shingles: set[bytes] = set()
    carry: list[bytes] = []  # the last two words read so far
    start, end_of_text = 0, len(lowered)
    while start < end_of_text:
        end = min(start + _SHINGLE_CHUNK, end_of_text)
        if end < end_of_text:
            cut = max(lowered.rfind(" ", start, end), lowered.rfind("\n", start, end))
            if cut <= start:  # one word longer than a chunk: cut after it
                after = [i for i in (lowered.find(" ", end), lowered.find("\n", end)) if i != -1]
                cut = min(after) if after else end_of_text
            end = cut
        chunk = _WORD.findall(lowered, start, end)
        if chunk:
            encoded = carry + " ".join(chunk).encode("utf-8").split(b" ")
            shingles.update(map(b" ".join, zip(encoded, encoded[1:], encoded[2:], strict=False)))
            carry = encoded[-2:]
        start = end
    if not shingles and carry:  # fewer than three words in all
        return {b" ".join(carry)}
    return shingles


_blake2b_8 = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")


_MAX_ALIGN = 20_000  # words in the differing middle above which alignment is too slow


def _sequence_similarity(wa: list[str], wb: list[str]) -> float:
    if wa == wb:
        return 1.0
    total = len(wa) + len(wb)
    if not wa or not wb:
        return 0.0
    # Edits are usually local: trim the common head and tail so only the middle is aligned.
    head = 0
    limit = min(len(wa), len(wb))
    while head < limit and wa[head] == wb[head]:
        head += 1
    tail = 0
    while tail < limit - head and wa[-1 - tail] == wb[-1 - tail]:
        tail += 1
    ma, mb = wa[head:len(wa) - tail], wb[head:len(wb) - tail]
    if not ma or not mb:
        matched = 0
    elif len(ma) + len(mb) <= _MAX_ALIGN:
        sm = difflib.SequenceMatcher(None, ma, mb, autojunk=False)
        matched = sum(block.size for block in sm.get_matching_blocks())
    else:
        sa, sb = _shingles(ma), _shingles(mb)
        jaccard = len(sa & sb) / len(sa | sb) if sa | sb else 1.0
        # Jaccard of shingles -> approximate share of matched words in the middle.
        matched = int(round(jaccard * min(len(ma), len(mb))))
    return 2.0 * (head + tail + matched) / total


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two texts on normalised, lower-cased word sequences."""
    if a == b:
        return 1.0
    return _sequence_similarity(words(a), words(b))


# --------------------------------------------------------------------------- decoding & sniffing

def decode(data: bytes, content_type: str | None = None, html: bool = False) -> str:
    """Bytes to str: BOM, charset from content_type, then <meta> (HTML), else utf-8 with replacement."""
    return decode_html(data, content_type, html)


_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p\b)", re.I | re.S)


def sniff_kind(data: bytes, content_type: str | None) -> str:
    """'html' | 'pdf' | 'text' | 'binary', trusting the bytes over a missing or wrong content type."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf")
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if _HTML_START.match(head):
        return "html"
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime == "application/pdf":
        return "pdf"  # header garbage before %PDF-, or a broken file: still a PDF
    if mime in ("text/html", "application/xhtml+xml"):
        return "html"
    textual = mime.startswith("text/") or mime.endswith(("+xml", "/xml", "/json", "+json")) or mime in (
        "application/javascript", "application/x-javascript")
    if textual or not mime or mime == "application/octet-stream":
        sample = data[:4096]
        if b"\x00" not in sample and (textual or _looks_textual(sample)):
            return "text"
    return "binary"


def _looks_textual(sample: bytes) -> bool:
    if not sample:
        return True
    text = sample.decode("utf-8", errors="replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t\f"))
    return bad / len(text) < 0.02


# --------------------------------------------------------------------------- extraction

_DROP_TAGS = ("script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe", "button", "select")
# <form> is kept: ASP.NET pages wrap the whole body in one.
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section",
               "article", "table", "ul", "ol", "dd", "dt", "figcaption", "td", "th", "main", "aside", "hr"}


def _title_of(doc) -> str | None:
    if doc is None:
        return None
    for xpath in ("//head/title", "//title", "//meta[@property='og:title']/@content", "//h1"):
        found = doc.xpath(xpath)
        if found:
            node = found[0]
            value = node if isinstance(node, str) else node.text_content()
            value = normalise_text(value).replace("\n", " ")
            if value:
                return value
    return None


def _lang_of(doc) -> str | None:
    if doc is None:
        return None
    lang = doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        found = doc.xpath("//meta[@http-equiv='content-language' or @name='language']/@content")
        lang = found[0] if found else None
    return lang.strip().split(",")[0].lower()[:20] if lang and lang.strip() else None


def body_text(doc) -> str:
    """Visible text of <body> minus scripts, styles and page chrome, one line per block."""
    if doc is None:
        return ""
    body = doc.find("body")
    root = body if body is not None else doc
    for el in root.xpath("|".join(f".//{t}" for t in _DROP_TAGS)):
        if el.getparent() is not None:
            el.drop_tree()
    parts: list[str] = []

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _BLOCK_TAGS:
            parts.append("\n")
        if el.text and tag:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCK_TAGS:
            parts.append("\n")

    walk(root)
    return normalise_text("".join(parts))


# Measured with scripts/measure_change_detection.py: favor_precision gives the same recall on
# edited AEB articles as the defaults, and stops taking a rotating teaser block for the main
# text of a short page (the doi.gov "falsepos-footer" pair). deduplicate stays off: its cache
# is process-wide and would make extraction depend on what was extracted before.
_TRAFILATURA_OPTIONS: dict[str, Any] = {"include_comments": False, "include_tables": True, "favor_precision": True, "deduplicate": False}


def _link_texts(doc) -> set[str]:
    """Normalised texts of the page's links, lower-cased."""
    if doc is None:
        return set()
    out = set()
    for a in doc.iter("a"):
        t = normalise_text(a.text_content()).replace("\n", " ").strip().lower()
        if t:
            out.add(t)
    return out


_LIST_MARK = re.compile(r"^(?:[-*\u2022>]\s*)+")


def _drop_link_lines(text: str, links: set[str]) -> str:
    """Main text without lines that are a link's whole text: headline lists (related stories,
    teasers) rotate between visits, and a reader never cites a bare link."""
    if not text or not links:
        return text
    kept = [line for line in text.split("\n") if _LIST_MARK.sub("", line).strip().lower() not in links]
    return "\n".join(kept)


_THIN_TEXT_WORDS = 30  # a precision-mode main text this short (a notice, not an article) is retried with the defaults


def html_main_text(html: str | HtmlDocument, url: str | None = None) -> str:
    """Main text of an HTML page (its markup, or its parsed document) via trafilatura, '' when it finds none.

    Precision mode first; when that keeps almost nothing (Barron's pages: only a reprint
    notice), trafilatura's defaults, whichever says more.
    """
    import trafilatura

    def run(**options) -> str:
        # trafilatura prunes the tree it reads: each run gets its own copy of a parsed page.
        source = html.copy_root() if isinstance(html, HtmlDocument) else html
        try:
            return normalise_text(trafilatura.extract(source, url=url, **options) or "")
        except Exception as exc:  # trafilatura can raise on pathological markup; the fallback still works
            log.debug("trafilatura failed on %s: %s", url, exc)
            return ""

    text = run(**_TRAFILATURA_OPTIONS)
    if len(text.split()) < _THIN_TEXT_WORDS and _TRAFILATURA_OPTIONS.get("favor_precision"):
        fuller = run(**{**_TRAFILATURA_OPTIONS, "favor_precision": False})
        if len(fuller.split()) > 4 * len(text.split()):
            text = fuller
    return text


def _pdf(data: bytes) -> tuple[str | None, str | None]:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        title = None
        try:
            meta = reader.metadata
            title = normalise_text(str(meta.title)) if meta and meta.title else None
        except Exception:
            title = None
        pages = []
        for page in reader.pages:
            try:
                pages.append(page.extract_text() or "")
            except Exception as exc:  # one broken page must not lose the others
                log.debug("pdf page failed: %s", exc)
        return title or None, normalise_text("\n".join(pages))
    except Exception as exc:  # pypdf raises many kinds of errors on broken files
        log.debug("pdf unreadable: %s", exc)
        return None, None


def _read(body: str | Path | bytes | bytearray | memoryview, max_bytes: int) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body[:max_bytes])
    with open(body, "rb") as fh:
        return fh.read(max_bytes)


# How much of a body each extractor is given. Main-text extraction (lxml, trafilatura) needs
# tens of times its input in memory, so a hostile or freak page must not reach it whole:
# scripts, styles and inline SVG are dropped first (they are most of a modern page's bytes),
# and what is left is cut here. 1 MiB of markup is a book-length article.
HTML_LIMIT = 1 << 20
# Link finding reads further (a long reference list can sit past the first megabyte), and its
# parse is what citations, quotations and requisites share. A page whose slimmed markup fits
# in HTML_LIMIT -- nearly every page -- is parsed once for text and links alike; a bigger one
# gets its text from its first HTML_LIMIT, parsed and freed before the whole is parsed for links.
LINKS_LIMIT = 4 << 20
PDF_LIMIT = 16 << 20
TEXT_LIMIT = 4 << 20

# Elements whose content is never main text, with how they end.
_HEAVY_ELEMENTS = {b"<script": b"</script", b"<style": b"</style", b"<svg": b"</svg",
                   b"<noscript": b"</noscript", b"<template": b"</template", b"<!--": b"-->"}


def slim_html(data: bytes) -> bytes:
    """The markup with the contents of script, style, svg, noscript and template elements and
    all comments removed; the elements' own tags stay (a ``<script src>`` is still a requisite).

    One linear pass (each element's next position is looked up once and cached), so a page
    of ten thousand unclosed ``<script`` tags costs no more than its length.
    """
    lower = data.lower()
    n = len(data)
    upcoming: dict[bytes, int] = {}
    out: list[bytes] = []
    pos = 0
    while pos < n:
        start, opener = n, None
        for tag in _HEAVY_ELEMENTS:
            at = upcoming.get(tag, -2)
            while at != -1 and at < pos or at == -2:
                at = lower.find(tag, max(pos, at + 1))
            # "<svg" must not match "<svgfoo": the next byte must end the tag name.
            while at != -1 and tag != b"<!--" and lower[at + len(tag): at + len(tag) + 1] not in (b"", b" ", b"\t", b"\r", b"\n", b"/", b">"):
                at = lower.find(tag, at + 1)
            upcoming[tag] = at
            if at != -1 and at < start:
                start, opener = at, tag
        if opener is None:
            out.append(data[pos:])
            break
        if opener == b"<!--":
            out.append(data[pos:start])
            end = lower.find(b"-->", start + 4)
            pos = n if end == -1 else end + 3
            continue
        tag_end = lower.find(b">", start)
        if tag_end == -1:
            out.append(data[pos:start])
            break
        out.append(data[pos:tag_end + 1])
        closer = lower.find(_HEAVY_ELEMENTS[opener], tag_end + 1)
        if closer == -1:
            break  # never closed: the rest is inside it
        close_end = lower.find(b">", closer)
        out.append(data[closer:n if close_end == -1 else close_end + 1])
        pos = n if close_end == -1 else close_end + 1
    return b"".join(out)


def _sha(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def extract(body_path_or_bytes, content_type: str | None, url: str, max_bytes: int = 50_000_000, keep_document: bool = False) -> Extracted:
    """Kind, title and normalised main text of a response body (a path or bytes).

    ``keep_document``: also return the decoded, parsed page (``Extracted.document``) for other readers.
    """
    data = _read(body_path_or_bytes, max_bytes)
    kind = sniff_kind(data, content_type)
    title = lang = features = None
    text: str | None
    document = None
    if kind == "html":
        slim = slim_html(data[: 8 * LINKS_LIMIT])[:LINKS_LIMIT]
        whole = HtmlDocument.from_bytes(slim, content_type) if len(slim) <= HTML_LIMIT else None
        reading = whole if whole is not None else HtmlDocument.from_bytes(slim[:HTML_LIMIT], content_type)
        doc = reading.root
        title, lang = _title_of(doc), _lang_of(doc)
        # Imported here: features builds on this module's normalisation.
        from archiver.analyze.features import page_features, visible_text

        # trafilatura prunes the tree it reads, and body_text drops chrome: both get a copy
        text = html_main_text(reading, url) if doc is not None else ""
        found = page_features(doc, url, text) if doc is not None else None
        if found is not None:
            found.page_text = visible_text(doc)
            features = found.to_json()
        links = _link_texts(doc)
        if not text:
            text = body_text(reading.copy_root())
        text = _drop_link_lines(text, links)
        del reading, doc
        if keep_document:
            document = whole if whole is not None else HtmlDocument.from_bytes(slim, content_type)
    elif kind == "pdf":
        title, text = _pdf(data) if len(data) <= PDF_LIMIT else (None, None)
    elif kind == "text":
        text = normalise_text(decode(data[:TEXT_LIMIT], content_type))
    else:
        text = None
    return Extracted(kind=kind, title=title, text=text, text_sha256=_sha(text),
                     fingerprint=fingerprint(text) if text else None, lang=lang, features=features,
                     document=document if keep_document else None)


def html_document(data: bytes, content_type: str | None = None) -> HtmlDocument:
    """The page as its links' readers see it: heavy elements slimmed, cut at LINKS_LIMIT, decoded once, parsed once."""
    return HtmlDocument.from_bytes(slim_html(data[: 8 * LINKS_LIMIT])[:LINKS_LIMIT], content_type)


EXTRACT_LIMIT = 16 << 20  # bytes of a decoded body read for extraction (``extract`` cuts further by kind)


class Body(Protocol):
    """What extraction needs of a fetched answer (a :class:`archiver.net.fetch.Exchange`)."""

    url: str
    decoded: IO[bytes] | None

    @property
    def content_type(self) -> str | None: ...


SNIFF_BYTES = 4096  # sniff_kind reads no further into a body


def extract_limit(head: bytes, content_type: str | None) -> int:
    """How many bytes of a body starting with ``head`` (its first SNIFF_BYTES) :func:`extract`
    looks at when given EXTRACT_LIMIT of it: a text body's TEXT_LIMIT, a binary one's sniff.

    Reading no more gives the same result from fewer bytes: a 2 GiB text body costs 4 MiB, not 16.
    """
    kind = sniff_kind(head, content_type)
    if kind == "text":
        return TEXT_LIMIT
    if kind == "binary":
        return SNIFF_BYTES
    return EXTRACT_LIMIT  # HTML is slimmed before it is cut; a PDF is read up to PDF_LIMIT


def read_for_extraction(body: IO[bytes], content_type: str | None) -> bytes:
    """From the start of a decoded body, the bytes :func:`extract` will look at, and no more."""
    body.seek(0)
    head = body.read(SNIFF_BYTES)
    return head + body.read(max(0, extract_limit(head, content_type) - len(head)))


def extract_exchange(answer: Body, keep_document: bool = False) -> Extracted | None:
    """The extracted text of a fetched answer's decoded body; None when there is no body or it defeats the extractor."""
    if answer.decoded is None:
        return None
    return safe_extract(read_for_extraction(answer.decoded, answer.content_type), answer.content_type, answer.url, keep_document)


def extract_keeping_document(answer: Body) -> Extracted | None:
    """:func:`extract_exchange` that keeps the parsed page for the article's other readers."""
    return extract_exchange(answer, keep_document=True)


def safe_extract(data: bytes, content_type: str | None, url: str, keep_document: bool = False) -> Extracted | None:
    """:func:`extract`, or None for a page that defeats it: it still gets its capture row."""
    try:
        return extract(data, content_type, url, keep_document=keep_document)
    except Exception:  # noqa: BLE001 -- one hostile page must not stop a run
        return None
