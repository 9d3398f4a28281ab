#!/usr/bin/env python3
"""Measure change detection on real page versions: false positives on noise, recall on edits.

Uses the read-only shared corpus (never copied into the repo):
  page-versions/wm-processing-archives   6 labelled before/after pairs (truepos-*/falsepos-*)
  page-versions/wm-diff-versions         2 unlabelled real pairs (verdicts printed)
  page-versions/wm-processing-snapshot-quality  block/error pages (title + status, 2 bodies)
  articles/aeb                           181 article pages -> synthetic noisy and edited variants

For each AEB page a noisy variant (new timestamps, tokens, counters, ads, related links, a new
layout around the same body) and an edited variant (the same kind of noise plus one changed word
in a body sentence, or a deleted body paragraph) are made. archiver.analyze.compare.classify is run on
(original, variant) and compared with two naive baselines: md5 of the whole page's visible
text (changedetection.io style) and sha256 of the raw bytes.

Usage: python scripts/measure_change_detection.py [--limit N] [--recall | --both]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.analyze import text as textmod
from archiver.analyze.compare import Observation, _failure_kind, classify, error_page_reason
from archiver.analyze.text import Extracted, decode, extract, normalise_text

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

WORDS = ("market council river engine garden winter signal harbor ticket planet museum orbit valley "
         "lantern copper violin meadow glacier pepper canyon").split()


# --------------------------------------------------------------------------- baselines

def visible_text_md5(html: bytes) -> str:
    """changedetection.io-style: md5 of all visible text of the page (no main-content extraction)."""
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(html)
    except Exception:
        return hashlib.md5(b"").hexdigest()
    for el in doc.xpath("//script|//style|//noscript|//template"):
        el.drop_tree()
    text = " ".join(doc.text_content().split())
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def raw_sha256(html: bytes) -> str:
    return hashlib.sha256(html).hexdigest()


# --------------------------------------------------------------------------- variants

def _rand_token(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _headline(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 10))).capitalize()


_DATE_RE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}\b"
                      r"|\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?|\b\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?(?!\w)", re.I)


def _new_date(rng: random.Random, old: str) -> str:
    """Another timestamp in the same format as the one it replaces."""
    if re.match(r"\d{4}-", old):
        return f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" + (
            f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}" if "T" in old else "")
    if re.match(r"\d", old):
        suffix = " " + rng.choice(["a.m.", "p.m."]) if re.search(r"[ap]\.?m", old, re.I) else ""
        return f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d}{suffix}"
    month = rng.choice(["January", "March", "June", "October", "December"])
    return f"{month} {rng.randint(1, 28)}, {rng.randint(2015, 2024)}"


def noisy_variant(html: bytes, rng: random.Random) -> bytes:
    """Same article, different noise: timestamps, tokens, counters, ads, related links, layout."""
    import lxml.html

    doc = lxml.html.document_fromstring(decode(html, None, html=True))
    # 1. timestamps and dates anywhere in text nodes
    for el in doc.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style"):
            continue
        if el.text and _DATE_RE.search(el.text):
            el.text = _DATE_RE.sub(lambda m: _new_date(rng, m.group()), el.text)
        if el.tail and _DATE_RE.search(el.tail):
            el.tail = _DATE_RE.sub(lambda m: _new_date(rng, m.group()), el.tail)
    body = doc.find("body")
    if body is None:
        return _bytes(doc)
    # 2. shuffle existing link lists (related/sidebar links) and replace some of their texts
    for ul in body.xpath("//ul[count(li)>=3][count(.//a) >= count(li)]"):
        items = list(ul)
        rng.shuffle(items)
        for li in items:
            ul.remove(li)
        for li in items:
            ul.append(li)
        if rng.random() < 0.5:
            # Only items that are nothing but a link (headline lists), so body text stays as it is.
            for a in [a for a in ul.xpath("./li/a") if a.text_content().strip() == a.getparent().text_content().strip()][:2]:
                a.text = _headline(rng)
                for child in list(a):
                    a.remove(child)
    # 3. new layout around the same body: header, nav, sidebar with related links, ads, footer
    kids = list(body)
    for k in kids:
        body.remove(k)
    wrapper = lxml.html.fromstring(
        '<div class="layout-v%d"><header class="site-header"><nav><a href="/">Home</a> <a href="/news">News</a> '  # noqa: UP031 -- a template of markup
        '<a href="/sport">Sport</a></nav><span class="updated">Updated %d minutes ago</span></header>'
        '<div class="grid"><div class="page-wrap"></div>'
        '<aside class="sidebar"><h3>Related</h3><ul>%s</ul><div class="ad">Advertisement: %s %s</div></aside></div>'
        '<footer>Copyright 20%02d Example Media. <span class="views">%s views</span> '
        '<input type="hidden" name="csrf" value="%s"/></footer></div>'
        % (rng.randint(1, 9), rng.randint(1, 59),
           "".join(f'<li><a href="/a/{_rand_token(rng, 6)}">{_headline(rng)}</a></li>' for _ in range(5)),
           _headline(rng), _rand_token(rng, 24), rng.randint(10, 24), f"{rng.randint(1000, 99999):,}",
           _rand_token(rng)))
    main = wrapper.xpath(".//div[@class='page-wrap']")[0]
    # The article keeps its own markup; a random ad and a token go at its top and bottom.
    ad = lxml.html.fromstring(f'<div class="ad-slot" data-ad="{_rand_token(rng, 12)}">Sponsored</div>')
    main.append(ad)
    for k in kids:
        main.append(k)
    main.append(lxml.html.fromstring(f'<div class="meta">Session {_rand_token(rng, 40)}</div>'))
    body.append(wrapper)
    return _bytes(doc)


def _bytes(doc) -> bytes:
    import lxml.html

    return lxml.html.tostring(doc, encoding="unicode").encode("utf-8")


def _body_paragraphs(doc, truth: str) -> list:
    """<p> elements whose text is part of the ground-truth article body (so: main text)."""
    truth_norm = " ".join(normalise_text(truth).split())
    out = []
    for p in doc.xpath("//p"):
        t = " ".join(normalise_text(p.text_content()).split())
        if len(t.split()) >= 12 and t in truth_norm:
            out.append(p)
    return out


def edited_variant(html: bytes, truth: str, rng: random.Random) -> tuple[bytes, str] | None:
    """Noise plus one real edit: one word changed in a body sentence, or a body paragraph deleted."""
    import lxml.html

    doc = lxml.html.document_fromstring(decode(html, None, html=True))
    paras = _body_paragraphs(doc, truth)
    if not paras:
        return None
    p = rng.choice(paras)
    if rng.random() < 0.5:
        p.drop_tree()
        how = "paragraph_deleted"
    else:
        # Change one word in the longest text node of the paragraph.
        nodes = [(p, "text")] + [(c, "tail") for c in p.iterdescendants()]
        nodes += [(c, "text") for c in p.iterdescendants()]
        node, attr = max(nodes, key=lambda na: len((getattr(na[0], na[1]) or "").split()))
        words = (getattr(node, attr) or "").split(" ")
        idx = [i for i, w in enumerate(words) if re.fullmatch(r"[A-Za-z]{4,}", w)]
        if not idx:
            return None
        i = rng.choice(idx)
        words[i] = "unexpectedly" if words[i] != "unexpectedly" else "surprisingly"
        setattr(node, attr, " ".join(words))
        how = "word_changed"
    return noisy_variant(_bytes(doc), rng), how


# --------------------------------------------------------------------------- running

def _obs(url: str, html: bytes) -> Observation:
    return Observation(url, url, 200, None, hashlib.sha256(html).hexdigest(), extract(html, "text/html", url))


def verdict(url: str, a: bytes, b: bytes) -> str | None:
    return classify(_obs(url, a), "ok", _obs(url, b), 0).kind


def _aeb_one(args) -> dict:
    path, truth, url, precision = args
    textmod._TRAFILATURA_OPTIONS["favor_precision"] = precision
    html = gzip.decompress(Path(path).read_bytes())
    rng = random.Random(Path(path).name)
    noisy = noisy_variant(html, rng)
    edited = edited_variant(html, truth, rng)
    out = {"id": Path(path).name[:12],
           "noise": {"ours": verdict(url, html, noisy) is not None,
                     "md5_text": visible_text_md5(html) != visible_text_md5(noisy),
                     "sha256": raw_sha256(html) != raw_sha256(noisy)}}
    if edited:
        eb, how = edited
        out["edit"] = {"how": how, "ours": verdict(url, html, eb) is not None,
                       "md5_text": visible_text_md5(html) != visible_text_md5(eb),
                       "sha256": raw_sha256(html) != raw_sha256(eb)}
    # A reload that is byte-identical except for noise in the raw bytes only (a CSRF token in a hidden
    # input): the cheapest kind of noise.
    return out


def measure_aeb(limit: int | None, precision: bool) -> None:
    root = CORPUS / "articles" / "aeb"
    truth = json.loads((root / "ground-truth.json").read_text())
    files = sorted((root / "html").glob("*.html.gz"))[:limit]
    jobs = [(str(f), truth[f.name[:-8]]["articleBody"], truth[f.name[:-8]]["url"], precision) for f in files]
    t0 = time.time()
    with ProcessPoolExecutor() as pool:
        results = list(pool.map(_aeb_one, jobs, chunksize=4))
    n = len(results)
    edits = [r["edit"] for r in results if "edit" in r]
    print(f"\nAEB synthetic variants ({n} pages, {len(edits)} with an edit; trafilatura favor_precision={precision};"
          f" {time.time() - t0:.0f}s)")
    print(f"  {'detector':<28}{'FP rate on noise':>18}{'recall on edits':>18}")
    for key, name in (("ours", "archiver.analyze.compare"), ("md5_text", "md5 of visible text"), ("sha256", "sha256 of raw bytes")):
        fp = sum(r["noise"][key] for r in results) / n
        rec = sum(e[key] for e in edits) / max(1, len(edits))
        print(f"  {name:<28}{fp:>17.1%}{rec:>18.1%}")
    for how in ("word_changed", "paragraph_deleted"):
        sub = [e for e in edits if e["how"] == how]
        if sub:
            print(f"    ours, {how}: {sum(e['ours'] for e in sub)}/{len(sub)}")
    fps = [r["id"] for r in results if r["noise"]["ours"]]
    misses = [r["id"] for r in results if "edit" in r and not r["edit"]["ours"]]
    print(f"  false positives: {fps[:12]}{' ...' if len(fps) > 12 else ''}")
    print(f"  missed edits:    {misses[:12]}{' ...' if len(misses) > 12 else ''}")


def measure_pairs() -> None:
    root = CORPUS / "page-versions"
    print("\nReal before/after pairs (wm-processing-archives: labelled; wm-diff-versions: unlabelled)")
    print(f"  {'pair':<28}{'label':<8}{'ours':<18}{'sim':>6}{'md5_text':>10}{'sha256':>8}")
    for group in ("wm-processing-archives", "wm-diff-versions"):
        meta = json.loads((root / group / "pairs.json").read_text())
        for pair in meta["pairs"]:
            a = (root / group / pair["before"]).read_bytes()
            b = (root / group / pair["after"]).read_bytes()
            url = pair.get("url") or "https://example.invalid/page"
            v = classify(_obs(url, a), "ok", _obs(url, b), 0)
            label = {True: "event", False: "none", None: "?"}[pair.get("significant")]
            print(f"  {pair['id']:<28}{label:<8}{str(v.kind):<18}{(v.similarity or 0):>6.2f}"
                  f"{str(visible_text_md5(a) != visible_text_md5(b)):>10}{str(raw_sha256(a) != raw_sha256(b)):>8}")


def measure_error_pages() -> None:
    root = CORPUS / "page-versions" / "wm-processing-snapshot-quality"
    records = json.loads((root / "labels.json").read_text())["records"]
    print("\nBlock/error pages (snapshot-quality records; title, plus body where stored)")
    rows = []
    for r in records:
        body = (root / r["body_file"]).read_bytes() if r.get("body_file") else None
        ex = extract(body, r.get("media_type"), r["url"]) if body else None
        if ex is None or not ex.title:
            ex = Extracted("html", r.get("title") or None, (ex.text if ex else None) or "", None, None)
        reason = error_page_reason(ex)
        status = r["status"]
        if body is None:
            # Only title and status are stored: judge those, not the (absent) content.
            v_kind, v_state = ("blocked/failing" if reason == "blocked" else "soft_404" if reason else None,
                               "ok" if _failure_kind(Observation(r["url"], None, status, None, None, None)) is None and not reason else "not ok")
        else:
            prev = Observation(r["url"], r["url"], 200, None, "x",
                               Extracted("html", "t", "good page text " * 50, None, None))
            v = classify(prev, "ok", Observation(r["url"], r["url"], status, None, "y", ex), 1)
            v_kind, v_state = v.kind, v.state
        bad_label = r["expected_quality"] < 1.0
        rows.append((bad_label, status, r.get("title"), reason, v_kind, v_state))
    usable_200_bad = [x for x in rows if x[0] and x[1] == 200]
    good_200 = [x for x in rows if not x[0] and x[1] == 200]
    flagged_bad = sum(1 for x in rows if x[0] and x[5] != "ok")
    print(f"  block/error captures (quality<1) not treated as good content: {flagged_bad}/{sum(1 for x in rows if x[0])}")
    print(f"    of which answered 200 and caught by page text/title: "
          f"{sum(1 for x in usable_200_bad if x[3])}/{len(usable_200_bad)}")
    print(f"  good 200 captures wrongly flagged as error page: {sum(1 for x in good_200 if x[3])}/{len(good_200)}")
    for x in rows:
        print(f"    q{'<1' if x[0] else '=1'} {x[1]} {str(x[2])[:50]!r:<54} page={str(x[3]):<10} -> {x[4]} / {x[5]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N AEB pages")
    ap.add_argument("--recall", action="store_true", help="trafilatura defaults instead of favor_precision=True")
    ap.add_argument("--both", action="store_true", help="run AEB with favor_precision off and on")
    args = ap.parse_args()
    if not (CORPUS / "page-versions").is_dir() or not (CORPUS / "articles" / "aeb").is_dir():
        print(f"SKIP: corpus not found at {CORPUS} (needs page-versions/ and articles/aeb/)")
        return 0
    textmod._TRAFILATURA_OPTIONS["favor_precision"] = not args.recall
    measure_pairs()
    measure_error_pages()
    for precision in ((False, True) if args.both else (not args.recall,)):
        measure_aeb(args.limit, precision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
