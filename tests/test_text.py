from archiver.analyze.text import extract, fingerprint, normalise_text, similarity
from archiver.sample.pdf import make_pdf

ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>River Report | Example News</title>
<script>var x = 1;</script><style>p {color: red}</style></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<article><h1>River Report</h1>
<p>The river rose two metres overnight, and the town council met at dawn to discuss the flood defences.</p>
<p>\u201cWe have never seen water this high in the old quarter,\u201d said the mayor \u2014 who has lived here all her life\u2026</p>
<p>Engineers will inspect the northern embankment this week and publish a report for residents next month.</p>
</article><footer>Copyright Example News</footer></body></html>"""


def test_normalise_text():
    s = "  \u201cQuote\u201d \u2018x\u2019 a\u2013b c\u2014d wait\u2026 no\u00a0break zero\u200bwidth \n\n\n  next   line "
    assert normalise_text(s) == '"Quote" \'x\' a-b c-d wait... no break zerowidth\nnext line'
    assert normalise_text("e\u0301") == "\u00e9"  # NFC


def test_extract_html_main_text():
    ex = extract(ARTICLE.encode(), "text/html; charset=utf-8", "https://news.example/river")
    assert ex.kind == "html" and ex.title == "River Report | Example News" and ex.lang == "en"
    assert "northern embankment" in ex.text and '"We have never seen water' in ex.text
    assert "var x" not in ex.text and "color: red" not in ex.text
    assert len(ex.fingerprint) == 16 and len(ex.text_sha256) == 64


def test_extract_fallback_and_sniffing(tmp_path):
    tiny = b"<html><body><nav>menu</nav><div>Only a short line.</div><script>x()</script></body></html>"
    ex = extract(tiny, None, "https://x.example/")
    assert ex.kind == "html" and "Only a short line." in ex.text and "menu" not in ex.text and "x()" not in ex.text
    # wrong content type: the bytes win
    assert extract(make_pdf("Annual figures", []), "text/html", "https://x.example/r").kind == "pdf"
    assert extract(b"<!DOCTYPE html><p>hi</p>", "application/octet-stream", "https://x.example/").kind == "html"
    path = tmp_path / "page.html"
    path.write_bytes(ARTICLE.encode())
    assert "northern embankment" in extract(path, None, "https://x.example/").text
    assert extract(str(path), None, "https://x.example/", max_bytes=10).kind in ("html", "text")


def test_decoding_charsets():
    body = "<html><head><meta charset='iso-8859-1'></head><body><p>Caf\u00e9 cr\u00e8me</p></body></html>".encode("latin-1")
    assert "Caf\u00e9 cr\u00e8me" in extract(body, "text/html", "https://x.example/").text
    assert "Caf\u00e9" in extract("Caf\u00e9".encode("cp1252"), "text/plain; charset=windows-1252", "u").text
    # an invalid charset name must not crash
    ex = extract("na\u00efve".encode(), "text/plain; charset=no-such-charset", "u")
    assert ex.kind == "text" and ex.text == "na\u00efve"


def test_pdf_and_broken_pdf_and_binary():
    ex = extract(make_pdf("Q3", ["Quarterly report", "Revenue grew by four percent."]), "application/pdf", "u")
    assert ex.kind == "pdf" and "Revenue grew by four percent." in ex.text and ex.title == "Q3"
    broken = extract(b"%PDF-1.7\n1 0 obj <<< broken", "application/pdf", "u")
    assert broken.kind == "pdf" and not broken.text
    png = extract(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "image/png", "u")
    assert png.kind == "binary" and png.text is None and png.fingerprint is None


def test_fingerprint_and_similarity():
    a = " ".join(f"word{i}" for i in range(300))
    b = a.replace("word150", "changed")
    assert fingerprint(a) == fingerprint(a)
    assert bin(int(fingerprint(a), 16) ^ int(fingerprint(b), 16)).count("1") < 16
    assert similarity(a, a) == 1.0
    assert 0.98 < similarity(a, b) < 1.0
    assert similarity(a, "totally different text") < 0.1
    assert similarity("", "") == 1.0


def test_similarity_on_long_texts():
    # How long this takes is measured by scripts/bench_analysis.py, not asserted here.
    big = " ".join(f"w{i % 5000} x{i}" for i in range(25_000))  # 50k words
    edited = big[:1000] + " inserted sentence here " + big[1000:]
    other = " ".join(f"z{i}" for i in range(50_000))
    assert similarity(big, big + " ") > 0.999
    assert similarity(big, edited) > 0.99
    assert similarity(big, other) < 0.05
    assert fingerprint(big) == fingerprint(big + " ") != fingerprint(other)


def _normalise_reference(s: str) -> str:
    """normalise_text as first written (a Python loop over lines): the faster one must equal it."""
    import re
    import unicodedata

    from archiver.analyze.text import _TRANSLATE

    if not s:
        return ""
    s = unicodedata.normalize("NFC", s).translate(_TRANSLATE)
    lines = (re.sub(r"[ ]+", " ", line).strip() for line in s.split("\n"))
    return "\n".join(line for line in lines if line)


def _words_reference(text: str) -> list[str]:
    import re

    return [w for w in re.findall(r"\w+(?:['.\-]\w+)*|[^\w\s]", _normalise_reference(text).lower()) if w[0].isalnum() or w[0] == "_"]


def test_normalise_and_words_equal_their_first_form():
    import random

    from archiver.analyze.text import words

    rng = random.Random(12)
    alphabet = list("ab Z9_ .,'-–—\u2019\u201c\u00a0\t\r\n\f\v\u200b\u00ad\u0301\u2028é中ß\u3000…!?()") + ["  ", "\n\n", " \n "]
    samples = ["", " ", "\n", "It's 9.5 per-cent -- of the U.S. budget.", "x\u200b\u0301y", "  lead  \n\n  tail  "]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300))) for _ in range(2000)]
    for sample in samples:
        assert normalise_text(sample) == _normalise_reference(sample), repr(sample)
        assert words(sample) == _words_reference(sample), repr(sample)
