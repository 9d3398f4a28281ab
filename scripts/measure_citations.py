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

Own labelled pages (``tests/citation_pages``: invented pages, one per shape -- dated lists,
"Sources", reference list, roundup paragraph, related box, subscribe call to action, author
and tag links, embedded post, comments, a site template on three pages of one site, a table).
``labels.json`` names each page's citations; every other http(s) link is not one. Pages of
one site are judged with the other pages of that site as template evidence, as a capture does.

Both corpora: a link to an author, tag, topic or category page (``/author/``, ``/tag/``,
``/topics/``, ``?tag=`` ...) is left out of the labels. Such pages are not citations by
archiver's definition (docs/citations.md), yet their names often occur in the ground-truth
text, so the text cannot tell; they are neither counted as cited nor as boilerplate.

The same labelled links are scored for two baselines measured in the same run:
  baseline 1 -- every link of the page is a citation;
  baseline 2 -- a link is a citation when its URL is among the links of trafilatura's
  extracted main text (``extract(output_format="xml", include_links=True)``).

Figures: precision, recall and F1 pooled over all labelled links (micro) and averaged over
pages (macro: a page enters a mean only where the figure is defined, e.g. precision only on
pages where the method cited something). Speed is pages per second of link finding
(decode + parse + judge), beside trafilatura's link extraction on the same pages.

Usage: python scripts/measure_citations.py [--limit N] [--no-baseline2] [--show-errors N] [--compare-with REV]
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


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass
class Method:
    """One method's scores on one corpus group: pooled, and per page for the macro figures."""

    micro: Score = field(default_factory=Score)
    pages: list[Score] = field(default_factory=list)

    def start_page(self) -> None:
        self.pages.append(Score())

    def add(self, truth: bool, predicted: bool) -> None:
        self.micro.add(truth, predicted)
        self.pages[-1].add(truth, predicted)

    def macro(self) -> tuple[float, float, float]:
        ps = [s.precision for s in self.pages if s.tp + s.fp]
        rs = [s.recall for s in self.pages if s.tp + s.fn]
        fs = []
        for s in self.pages:
            if s.tp + s.fp + s.fn:
                p, r = s.precision, s.recall
                fs.append(2 * p * r / (p + r) if p + r else 0.0)
        return _mean(ps), _mean(rs), _mean(fs)

    def row(self, name: str) -> str:
        m = self.micro
        p, r = m.precision, m.recall
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        mp, mr, mf = self.macro()
        return (
            f"| {name:<30} | {p:.3f} | {r:.3f} | {f1:.3f} | {mp:.3f} | {mr:.3f} | {mf:.3f} "
            f"| {m.tp} | {m.fp} | {m.fn} |"
        )


@dataclass
class Run:
    ours: Method = field(default_factory=Method)
    every_link: Method = field(default_factory=Method)
    trafilatura: Method = field(default_factory=Method)
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


TAXONOMY = re.compile(
    r"/(?:tags?|topics?|category|categories|author|authors|byline|people|staff|contributors?|experten|kategorien|thema|themen)(?:/|$)|[?&](?:tag|termo|topic|author|cat)=",
    re.I,
)


def score_page(
    run: Run, html: bytes, url: str, label, baseline2: bool, name: str, show: int, templates=None, own_labels: bool = False
) -> None:
    t0 = time.perf_counter()
    result = find_links_html(html, url, templates=templates)
    run.seconds += time.perf_counter() - t0
    run.pages += 1
    for method in (run.ours, run.every_link, run.trafilatura):
        method.start_page()
    traf: set[str] | None = None
    if baseline2:
        t0 = time.perf_counter()
        traf = trafilatura_links(html, url)
        run.baseline_seconds += time.perf_counter() - t0
    for link in result.links:
        if link.skip_reason is not None:
            continue
        truth = label(link)
        if truth is not None and own_labels is False and TAXONOMY.search(link.url):
            truth = None  # the ground-truth text cannot tell a tag page from a citation
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


OWN_PAGES = Path(__file__).resolve().parents[1] / "tests" / "citation_pages"


def measure_own_pages(args: argparse.Namespace) -> Run:
    from archiver.analyze.document import HtmlDocument
    from archiver.analyze.templates import TemplateIndex

    labels = json.loads((OWN_PAGES / "labels.json").read_text(encoding="utf-8"))
    run = Run()
    for name, entry in sorted(labels.items()):
        html = (OWN_PAGES / name).read_bytes()
        cited = set(entry["cited"])
        templates = None
        if entry.get("site"):
            # the other pages of the same site, as a capture would have fetched them
            templates = TemplateIndex()
            for other, e in sorted(labels.items()):
                if other != name and e.get("site") == entry["site"]:
                    templates.add_page(HtmlDocument.from_bytes((OWN_PAGES / other).read_bytes()).root, e["url"])

        def label(link, cited=cited):
            return link.url in cited

        score_page(run, html, entry["url"], label, not args.no_baseline2, name[:40], args.show_errors, templates, own_labels=True)
    return run


HEADER = (
    "| method                         | P     | R     | F1    | P mac | R mac | F1 mac | tp | fp | fn |\n"
    "|--------------------------------|-------|-------|-------|-------|-------|--------|----|----|----|"
)


def report(title: str, run: Run, baseline2: bool) -> None:
    print(f"\n{title}: {run.pages} pages (P, R, F1 micro = pooled links; mac = mean over pages)")
    print(HEADER)
    print(run.ours.row("archiver.analyze.citations"))
    print(run.every_link.row("baseline 1: every link"))
    if baseline2:
        print(run.trafilatura.row("baseline 2: trafilatura links"))
    rate = run.pages / run.seconds if run.seconds else 0.0
    print(f"speed: archiver.analyze.citations {rate:.1f} pages/s ({run.seconds:.1f} s)", end="")
    if baseline2 and run.baseline_seconds:
        base = run.pages / run.baseline_seconds
        print(f"; trafilatura links {base:.1f} pages/s; ratio {rate / base:.2f}", end="")
    print()
    for e in run.errors:
        print("   ", e)


def _finder_at(rev: str):
    """find_links_html as it was at git revision ``rev`` (loaded from git, for a same-run speed baseline)."""
    import importlib.util
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(["git", "-C", str(root), "show", f"{rev}:archiver/analyze/citations.py"], capture_output=True, check=True).stdout
    with tempfile.NamedTemporaryFile("wb", suffix=".py", delete=False) as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location("citations_at_" + rev.replace("/", "_"), fh.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module.find_links_html


def measure_speed(args: argparse.Namespace) -> None:
    """Pages per second of link finding on every corpus page, methods interleaved page by page so
    a busy machine slows them alike: this finder, the one at ``--compare-with``, trafilatura."""
    pages: list[tuple[bytes, str]] = []
    aeb = CORPUS / "articles" / "aeb"
    for page_id, entry in sorted(json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8")).items()):
        path = aeb / "html" / f"{page_id}.html.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), entry["url"]))
    te = CORPUS / "articles" / "trafilatura-eval"
    for url, entry in sorted(json.loads((te / "evaldata-subset.json").read_text(encoding="utf-8")).items()):
        path = te / "html" / entry["file"]
        if path.exists():
            pages.append((path.read_bytes(), url))
    if args.limit:
        pages = pages[: args.limit]
    methods = {"archiver.analyze.citations": find_links_html}
    if args.compare_with:
        methods[f"citations at {args.compare_with}"] = _finder_at(args.compare_with)
    if not args.no_baseline2:
        methods["trafilatura links"] = trafilatura_links
    seconds = dict.fromkeys(methods, 0.0)
    for html, url in pages:
        for name, method in methods.items():
            t0 = time.perf_counter()
            method(html, url)
            seconds[name] += time.perf_counter() - t0
    first = len(pages) / seconds["archiver.analyze.citations"]
    print(f"\nSpeed on {len(pages)} corpus pages (methods interleaved page by page):")
    for name, secs in seconds.items():
        rate = len(pages) / secs
        print(f"  {name:<32} {rate:6.1f} pages/s   (archiver / this: {first / rate:.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="pages per corpus group (0: all)")
    parser.add_argument("--no-baseline2", action="store_true", help="skip the (slow) trafilatura baseline")
    parser.add_argument("--show-errors", type=int, default=0, help="print up to N misclassified links per group")
    parser.add_argument("--compare-with", metavar="REV", help="also time the citation finder of this git revision (same pages, same run)")
    args = parser.parse_args(argv)
    baseline2 = not args.no_baseline2
    if baseline2 and trafilatura_links(b"<html><body><p>x</p></body></html>", "https://example.org/") is None:
        print("note: trafilatura cannot be imported here; baseline 2 is skipped")
        args.no_baseline2 = baseline2 = False
    if not CORPUS.is_dir():
        report("Own labelled pages (tests/citation_pages)", measure_own_pages(args), baseline2)
        print(f"SKIPPED: AEB and trafilatura-eval: test corpus not found at {CORPUS} (it lives in ../shared/corpus beside the repo)")
        return 0
    report("Own labelled pages (tests/citation_pages)", measure_own_pages(args), baseline2)
    report("AEB (derived link labels)", measure_aeb(args), baseline2)
    report("trafilatura-eval ('without' = must not be cited, 'with' = cited)", measure_trafilatura_eval(args), baseline2)
    measure_speed(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
