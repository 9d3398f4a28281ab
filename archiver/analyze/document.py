"""One HTML page decoded once and parsed once, shared by every reader of it.

Text extraction, citation finding, quotation finding and requisites all read the same
:class:`HtmlDocument`, so they agree on the characters of the page: a charset named only in
the HTTP ``Content-Type`` header is honoured by all of them, not by some.

Decoding follows the WHATWG order a browser uses: byte-order mark, then the header's
charset, then a ``<meta>`` declaration, then UTF-8. Latin-1 and ASCII labels are read as
windows-1252, as browsers do.
"""

from __future__ import annotations

import codecs
import copy
import re
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

__all__ = ["HtmlDocument", "decode_html", "parse_html"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def codec_name(label: str | None) -> str | None:
    """Python codec for a charset label, None when unknown; latin-1 and ASCII read as windows-1252."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except (LookupError, ValueError):
        return None  # an invalid charset label must not crash us
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def charset_of(data: bytes, content_type: str | None = None, html: bool = True) -> str:
    """The codec the bytes are read with: BOM, header charset, ``<meta>`` (HTML only), else UTF-8."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if content_type:
        header = _CT_CHARSET.search(content_type)
        declared = codec_name(header.group(1)) if header else None
        if declared:
            return declared
    if html:
        meta = _META_CHARSET.search(data[:8192])
        declared = codec_name(meta.group(1).decode("ascii", "replace")) if meta else None
        if declared:
            return declared
    return "utf-8"


def decode_html(data: bytes | str, content_type: str | None = None, html: bool = True) -> str:
    """Bytes to text the way a browser would read them (see :func:`charset_of`)."""
    if isinstance(data, str):
        return data
    name = charset_of(data, content_type, html)
    for bom, bom_name in _BOMS:
        if name == bom_name and data.startswith(bom):
            data = data[len(bom):]
            break
    try:
        return data.decode(name, errors="replace")
    except (LookupError, ValueError):
        return data.decode("utf-8", errors="replace")


def parse_html(text: str) -> etree._Element | None:
    """The lxml tree of a decoded page, or None for an empty or unparsable one."""
    # Encode ourselves: lxml refuses str input carrying an XML encoding declaration.
    data = text.replace("\x00", "").encode("utf-8", errors="replace")
    if not data.strip():
        return None
    parser = lxml_html.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=False)
    try:
        return lxml_html.document_fromstring(data, parser=parser)
    except Exception:  # noqa: BLE001 - malformed or empty documents
        try:
            return etree.fromstring(data, parser)
        except Exception:  # noqa: BLE001
            return None


@dataclass
class HtmlDocument:
    """A page's text (decoded once) and tree (parsed once).

    Readers must not change ``root``; one that edits a tree (trafilatura prunes in place)
    works on :meth:`copy_root`.
    """

    text: str
    root: etree._Element | None
    charset: str

    @classmethod
    def from_bytes(cls, data: bytes | str, content_type: str | None = None) -> HtmlDocument:
        if isinstance(data, str):
            return cls(data, parse_html(data), "utf-8")
        charset = charset_of(data, content_type, html=True)
        text = decode_html(data, content_type, html=True)
        return cls(text, parse_html(text), charset)

    def copy_root(self) -> etree._Element | None:
        return copy.deepcopy(self.root) if self.root is not None else None
