"""The fast fingerprint gives exactly the values of the plain per-shingle loop it replaced."""

import hashlib
import random
from collections import Counter
from pathlib import Path

import pytest

from archiver.analyze.text import _shingles, fingerprint, words

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def reference_fingerprint(text: str) -> str:
    """The original implementation: blake2b per shingle, bits counted per byte value."""
    shingles = _shingles(words(text))
    if not shingles:
        return "0" * 16
    digests = b"".join(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest() for s in shingles)
    n = len(shingles)
    bits = [0] * 64
    for pos in range(8):
        for value, count in Counter(digests[pos::8]).items():
            for bit in range(8):
                if value >> bit & 1:
                    bits[pos * 8 + bit] += count
    result = 0
    for i, ones in enumerate(bits):
        if ones * 2 > n:
            result |= 1 << i
    return f"{result:016x}"


def test_same_values_as_the_reference_on_generated_texts():
    rng = random.Random(12)
    vocabulary = "the bridge council closed repair budget ferry é ß 2026 it's e-mail U.S. , . ! \u201cquoted\u201d".split()
    texts = ["", "one", "one two", "one two three", "one two three four", "Same same same same same"]
    texts += [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 3000))) for _ in range(60)]
    for text in texts:
        assert fingerprint(text) == reference_fingerprint(text), text[:80]


def test_same_values_as_the_reference_on_corpus_pages():
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent (the real pages are not part of the project)")
    from archiver.analyze.text import safe_extract

    pages = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in (".html", ".htm"))[:40]
    if not pages:
        pytest.skip("no HTML pages in ../shared/corpus")
    checked = 0
    for page in pages:
        extracted = safe_extract(page.read_bytes(), "text/html", page.as_uri())
        if extracted is None or not extracted.text:
            continue
        assert extracted.fingerprint == reference_fingerprint(extracted.text), page.name
        checked += 1
    assert checked > 0


def test_long_texts_read_in_chunks_give_the_reference_values():
    # Past _SHINGLE_CHUNK characters the words are read chunk by chunk; shingles across a cut
    # and words longer than a chunk must come out as from the whole word list.
    from archiver.analyze.text import _SHINGLE_CHUNK

    rng = random.Random(7)
    vocabulary = "the bridge council closed repair budget ferry é ß 2026 it's e-mail U.S. , . ! \u201cquoted\u201d".split()
    texts = []
    for _ in range(6):
        ws = [rng.choice(vocabulary) for _ in range(rng.randint(_SHINGLE_CHUNK // 6, _SHINGLE_CHUNK // 2))]
        texts.append(" ".join(w + ("\n" if rng.random() < 0.05 else "") for w in ws))
    giant = "x" * (_SHINGLE_CHUNK + 10)
    texts += [giant, f"one {giant} two", f"one two {giant} three four " * 3, "a " * _SHINGLE_CHUNK, " " * (_SHINGLE_CHUNK + 5) + "lone word"]
    for text in texts:
        assert len(text) > _SHINGLE_CHUNK
        assert fingerprint(text) == reference_fingerprint(text), text[:80]
