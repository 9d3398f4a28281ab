#!/usr/bin/env python3
"""Benchmark: the analysis steps on large inputs, as ratios to a linear pass over the same input.

The tests check what these steps find on large inputs; how long they take is measured here,
never asserted in a test. Each figure is the median of --repeat runs, divided by the time of a
baseline measured in the same run: splitting the same text into words and hashing each word
once (a linear pass). A ratio that grows with --scale means a step went super-linear.

    python scripts/bench_analysis.py [--scale 1] [--repeat 5]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def linear_pass(text: str) -> None:
    for word in text.split():
        hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply every input size by this")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (the median is kept)")
    args = parser.parse_args()

    from archiver.analyze.citations import find_links_html
    from archiver.analyze.quotes import locate
    from archiver.analyze.text import extract, fingerprint, similarity

    n = 25_000 * args.scale
    big = " ".join(f"w{i % 5000} x{i}" for i in range(n))
    edited = big[:1000] + " inserted sentence here " + big[1000:]
    other = " ".join(f"z{i}" for i in range(2 * n))
    source = (
        "Minutes of the meeting. " * (2000 * args.scale)
        + "The chair said: The northern embankment will be rebuilt before the winter storms, whatever the cost. "
        + "Other business followed. " * (2000 * args.scale)
    )
    quote = "The northern embankment will be repaired before the winter storms, whatever the cost"
    links = 10_000 * args.scale
    paragraphs = (
        "<p>" + " ".join(f'The claim number {i} was checked against <a href="/n/{i}">source {i}</a>.' for i in range(start, start + 100)) + "</p>"
        for start in range(0, links, 100)
    )
    page = ("<html><head><title>Links</title></head><body><main>" + "".join(paragraphs) + "</main></body></html>").encode()

    cases: list[tuple[str, str, Callable[[], object]]] = [
        (f"similarity, 2 x {2 * n:,} words (edited)", big + edited, lambda: similarity(big, edited)),
        (f"similarity, 2 x {2 * n:,} words (unrelated)", big + other, lambda: similarity(big, other)),
        (f"fingerprint, {2 * n:,} words", big, lambda: fingerprint(big)),
        (f"locate a quote in {len(source.split()):,} words", source, lambda: locate(quote, source)),
        (f"find {links:,} links in one page", page.decode(), lambda: find_links_html(page, "http://127.0.0.1/many")),
        (f"extract the text of a {links:,}-link page", page.decode(), lambda: extract(page, "text/html", "http://127.0.0.1/many")),
    ]
    print(f"{'step':<48} {'seconds':>9} {'baseline':>9} {'ratio':>7}")
    for name, text, fn in cases:
        base = timed(lambda text=text: linear_pass(text), args.repeat)
        took = timed(fn, args.repeat)
        print(f"{name:<48} {took:>9.3f} {base:>9.3f} {took / base:>7.1f}")


if __name__ == "__main__":
    main()
