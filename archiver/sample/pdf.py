"""A tiny PDF writer for the sample web: text only, Helvetica, deterministic bytes.

Just enough PDF 1.4 to produce a valid file whose text a PDF library can extract:
one Type1 Helvetica font (a standard-14 font, so nothing is embedded), one
uncompressed content stream per page, an info dictionary and a correct xref table.
The output depends only on the input, so the same report always has the same bytes
(and so the same ETag and digest).
"""

from __future__ import annotations

import textwrap

PAGE_WIDTH = 595  # A4 in points
PAGE_HEIGHT = 842
MARGIN = 56
BODY_SIZE = 10.5
TITLE_SIZE = 16
LEADING = 1.4  # line height as a multiple of the font size
WRAP_COLUMNS = 92  # roughly what fits across A4 at 10.5pt Helvetica


def _escape(text: str) -> str:
    """Escape a string for a PDF literal string; non-Latin-1 characters become '?'."""
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _pdf_string(text: str) -> bytes:
    return b"(" + _escape(text).encode("latin-1") + b")"


def _layout(title: str, paragraphs: list[str]) -> list[list[tuple[float, float, float, str]]]:
    """Place lines on pages: a list of pages, each a list of (size, x, y, text)."""
    pages: list[list[tuple[float, float, float, str]]] = [[]]
    y: float = PAGE_HEIGHT - MARGIN - TITLE_SIZE

    def place(size: float, line: str) -> None:
        nonlocal y
        if y < MARGIN:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN - size
        pages[-1].append((size, MARGIN, y, line))
        y -= size * LEADING

    for line in textwrap.wrap(title, 60) or [""]:
        place(TITLE_SIZE, line)
    y -= BODY_SIZE
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, WRAP_COLUMNS) or [""]:
            place(BODY_SIZE, line)
        y -= BODY_SIZE * 0.8
    return pages


def _content_stream(lines: list[tuple[float, float, float, str]]) -> bytes:
    out = [b"BT"]
    for size, x, y, text in lines:
        out.append(b"/F1 %g Tf" % size)
        # Tm sets an absolute position for every line, so each line stands alone.
        out.append(b"1 0 0 1 %g %g Tm" % (x, round(y, 2)))
        out.append(_pdf_string(text) + b" Tj")
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def make_pdf(
    title: str,
    paragraphs: list[str],
    *,
    author: str | None = None,
    creation_date: str | None = None,
) -> bytes:
    """Build a PDF document with a title line and wrapped body paragraphs.

    ``creation_date`` is a PDF date string such as ``"D:20261020090000Z"``; it is
    written as given (never the current time) so the bytes are reproducible.
    """
    pages = _layout(title, paragraphs)
    # Object numbers: 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs.
    objects: dict[int, bytes] = {}
    page_ids = [5 + 2 * i for i in range(len(pages))]
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = b" ".join(b"%d 0 R" % pid for pid in page_ids)
    objects[2] = b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (kids, len(pages))
    objects[3] = (
        b"<< /Type /Font /Subtype /Type1 /Name /F1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>"
    )
    info = [b"/Title " + _pdf_string(title), b"/Producer (archiver sample web)"]
    if author:
        info.append(b"/Author " + _pdf_string(author))
    if creation_date:
        info.append(b"/CreationDate " + _pdf_string(creation_date))
    objects[4] = b"<< " + b" ".join(info) + b" >>"
    for page_id, lines in zip(page_ids, pages, strict=True):
        content_id = page_id + 1
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, content_id)
        )
        stream = _content_stream(lines)
        objects[content_id] = (
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"
        )

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    count = max(objects) + 1
    out += b"xref\n0 %d\n" % count
    out += b"0000000000 65535 f \n"
    for number in range(1, count):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % count
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def pdf_from_text(source: str, *, author: str | None = None, creation_date: str | None = None) -> bytes:
    """Build a PDF from plain text: the first line is the title, blank lines separate paragraphs."""
    lines = source.strip().splitlines()
    title = lines[0].strip() if lines else ""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines[1:]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return make_pdf(title, paragraphs, author=author, creation_date=creation_date)
