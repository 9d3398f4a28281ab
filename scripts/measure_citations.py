"""Measure archiver.analyze.citations on the real pages of the shared test corpus.

There is no link-level ground truth, so one is derived from the text-level one:

AEB (``articles/aeb``: full ground-truth article body per page). For each link that
find_links_html returns (http(s) only), with anchor text and body normalised
(lower case, collapsed whitespace, straight quotes):
  * truly cited      -- the anchor has >= 3 words and occurs in the ground-truth body;
  * truly boilerplate -- the anchor (any length) does not occur in the body at all;
  * otherwise (short anchors such as "here" or "Reuters" that do occur in the body,
    or links with no anchor text) the link is left out: we cannot tell.
  Precision and recall of ``cited`` are pooled over all labelled links of all pages.

trafilatura-eval (``articles/trafilatura-eval``: "with"/"without" snippets per page).
  * a link whose anchor (>= 4 characters) occurs in a "without" snippet, or that holds
    the whole snippet, is boilerplate and must not be cited;
  * a link whose anchor has >= 2 words and occurs in a "with" snippet is truly cited.
  The snippets are short, so these figures rest on few links; they are reported as
  counts next to the rates.

The same labelled links are scored for two baselines measured in the same run:
  baseline 1 -- every link of the page is a citation;
  baseline 2 -- a link is a citation when its URL is among the links of trafilatura's
  extracted main text (``extract(output_format="xml", include_links=True)``).

Usage: python scripts/measure_citations.py [--limit N] [--no-baseline2] [--show-errors N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from archiver.analyze.citations import find_links_html
from archiver.urls import try_normalise

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2013": "-", "\u2014": "-"})


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().lower()


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        if truth and predicted:
            self.tp += 1
        elif truth:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def line(self, name: str) -> str:
        p, r = self.precision, self.recall
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return (
            f"  {name:<34} precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}"
            f"   (tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})"
        )


@dataclass
class Run:
    ours: Score = field(default_factory=Score)
    every_link: Score = field(default_factory=Score)
    trafilatura: Score = field(default_factory=Score)
    seconds: float = 0.0
    baseline_seconds: float = 0.0
    pages: int = 0
    errors: list[str] = field(default_factory=list)


def trafilatura_links(html: bytes, url: str) -> set[str] | None:
    """URLs linked from trafilatura's main text, or None when trafilatura is unavailable."""
    try:
        import trafilatura
        from lxml import etree
    except ImportError:
        return None
    try:
        xml = trafilatura.extract(html, url=url, output_format="xml", include_links=True, include_comments=False)
    except Exception:  # noqa: BLE001 - a baseline failure counts as "no links"
        return set()
    if not xml:
        return set()
    try:
        tree = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return set()
    found = set()
    for ref in tree.iter("ref"):
        target = try_normalise(ref.get("target") or "", url)
        if target:
            found.add(target)
    return found


def score_page(run: Run, html: bytes, url: str, label, baseline2: bool, name: str, show: int) -> None:
    t0 = time.perf_counter()
    result = find_links_html(html, url)
    run.seconds += time.perf_counter() - t0
    run.pages += 1
    traf: set[str] | None = None
    if baseline2:
        t0 = time.perf_counter()
        traf = trafilatura_links(html, url)
        run.baseline_seconds += time.perf_counter() - t0
    for link in result.links:
        if link.skip_reason is not None:
            continue
        truth = label(link)
        if truth is None:
            continue
        run.ours.add(truth, link.cited)
        run.every_link.add(truth, True)
        if traf is not None:
            run.trafilatura.add(truth, link.url in traf)
        if truth != link.cited and len(run.errors) < show:
            kind = "FN" if truth else "FP"
            run.errors.append(f"{kind} {name}: {link.anchor_text[:70]!r} -> {link.url[:90]}")


def measure_aeb(args: argparse.Namespace) -> Run:
    root = CORPUS / "articles" / "aeb"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    run = Run()
    for i, (page_id, entry) in enumerate(sorted(truth.items())):
        if args.limit and i >= args.limit:
            break
        path = root / "html" / f"{page_id}.html.gz"
        if not path.exists():
            continue
        html = gzip.decompress(path.read_bytes())
        body = norm(entry.get("articleBody") or "")

        def label(link, body=body):
            anchor = norm(link.anchor_text)
            if not anchor:
                return None
            if anchor not in body:
                return False
            if len(anchor.split()) >= 3:
                return True
            return None

        score_page(run, html, entry["url"], label, not args.no_baseline2, page_id[:12], args.show_errors)
    return run


def measure_trafilatura_eval(args: argparse.Namespace) -> Run:
    root = CORPUS / "articles" / "trafilatura-eval"
    entries = json.loads((root / "evaldata-subset.json").read_text(encoding="utf-8"))
    run = Run()
    for i, (url, entry) in enumerate(sorted(entries.items())):
        if args.limit and i >= args.limit:
            break
        path = root / "html" / entry["file"]
        if not path.exists():
            continue
        html = path.read_bytes()
        without = [norm(s) for s in entry.get("without") or [] if s.strip()]
        with_ = [norm(s) for s in entry.get("with") or [] if s.strip()]

        def label(link, without=without, with_=with_):
            anchor = norm(link.anchor_text)
            if len(anchor) < 4:
                return None
            if any(anchor in s or s in anchor for s in without):
                return False
            if len(anchor.split()) >= 2 and any(anchor in s for s in with_):
                return True
            return None

        score_page(run, html, url, label, not args.no_baseline2, entry["file"][:40], args.show_errors)
    return run


def report(title: str, run: Run, baseline2: bool) -> None:
    print(f"{title}: {run.pages} pages")
    print(run.ours.line("archiver.analyze.citations"))
    print(run.every_link.line("baseline 1: every link"))
    if baseline2:
        print(run.trafilatura.line("baseline 2: trafilatura links"))
    rate = run.pages / run.seconds if run.seconds else 0.0
    print(f"  speed: archiver.analyze.citations {rate:.1f} pages/s ({run.seconds:.1f} s)", end="")
    if baseline2 and run.baseline_seconds:
        print(f"; trafilatura baseline {run.pages / run.baseline_seconds:.1f} pages/s", end="")
    print()
    for e in run.errors:
        print("   ", e)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="pages per corpus group (0: all)")
    parser.add_argument("--no-baseline2", action="store_true", help="skip the (slow) trafilatura baseline")
    parser.add_argument("--show-errors", type=int, default=0, help="print up to N misclassified links per group")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"SKIPPED: test corpus not found at {CORPUS} (it lives in ../shared/corpus beside the repo)")
        return 0
    baseline2 = not args.no_baseline2
    if baseline2 and trafilatura_links(b"<html><body><p>x</p></body></html>", "https://example.org/") is None:
        print("note: trafilatura cannot be imported here; baseline 2 is skipped")
        args.no_baseline2 = baseline2 = False
    report("AEB (derived link labels)", measure_aeb(args), baseline2)
    report("trafilatura-eval ('without' = must not be cited, 'with' = cited)", measure_trafilatura_eval(args), baseline2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
