#!/usr/bin/env python3
"""Measure change detection on real page versions: false positives on noise, recall on edits.

Uses the read-only shared corpus (never copied into the repo):
  page-versions/wm-processing-archives   6 labelled before/after pairs (truepos-*/falsepos-*)
  page-versions/wm-diff-versions         2 unlabelled real pairs (verdicts printed)
  page-versions/wm-processing-snapshot-quality  block/error pages (title + status, 2 bodies)
  articles/aeb                           181 article pages -> synthetic noisy and edited variants

For each AEB page one variant per class in CLASSES is made with a fixed seed: noise only (new
stamps, tokens, counters, ads, shuffled related links, a live ticker, a new layout around the
same body), a new template (classes renamed, stylesheets swapped, a wrapper), and real edits
under the same noise: one word changed, one sentence reworded, a body paragraph deleted, a number
changed, a correction appended, a citation link removed, an image removed, and a consent wall
instead of the page. Every variant is "fetched" twice with different noise, as a recheck does
before judging, and the mask learned from the two is used. archiver.analyze.compare.classify is
run on (original, variant) beside the md5 of the page's visible text (changedetection.io style)
in the same run; a confusion matrix sums it up.

Usage: python scripts/measure_change_detection.py [--limit N] [--recall | --both] [--workers N]
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
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.analyze import text as textmod
from archiver.analyze.compare import Observation, _failure_kind, classify, error_page_reason
from archiver.analyze.features import url_key
from archiver.analyze.judge import learn_volatile
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


_BLOCKS = {"p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer",
           "span", "time", "dd", "dt", "figcaption", "blockquote", "body"}


def _stamp_block(el) -> bool:
    """Whether the block holding ``el`` is a stamp (a date and a few words), not a sentence."""
    while el is not None and el.tag not in _BLOCKS - {"span", "time"}:
        el = el.getparent()
    return el is not None and len(_DATE_RE.sub(" ", el.text_content()).split()) <= 8


def noisy_variant(html: bytes, rng: random.Random) -> bytes:
    """Same article, different noise: stamps, tokens, counters, ads, related links, a live ticker, layout.

    Dates and times change only in short text nodes (bylines, datelines, "Updated ..."): a
    date inside a body sentence that changes is an edit, not noise.
    """
    import lxml.html

    doc = lxml.html.document_fromstring(decode(html, None, html=True))
    # 1. timestamps and dates in stamp-like blocks (a byline, a dateline: few words around the date)
    for el in doc.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style"):
            continue
        for attr in ("text", "tail"):
            value = getattr(el, attr)
            if value and _DATE_RE.search(value) and _stamp_block(el if attr == "text" else el.getparent()):
                setattr(el, attr, _DATE_RE.sub(lambda m: _new_date(rng, m.group()), value))
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
                thumbnails = list(a.iter("img"))  # the words change; a thumbnail stays
                for child in list(a):
                    a.remove(child)
                a.text = _headline(rng)
                for img in thumbnails:
                    img.tail = None
                    a.append(img)
    # 3. new layout around the same body: header, nav, sidebar with related links, ads, footer
    kids = list(body)
    for k in kids:
        body.remove(k)
    wrapper = lxml.html.fromstring(
        '<div class="layout-v%d"><header class="site-header"><nav><a href="/">Home</a> <a href="/news">News</a> '  # noqa: UP031 -- a template of markup
        '<a href="/sport">Sport</a></nav><span class="updated">Updated %d minutes ago</span></header>'
        '<div class="grid"><div class="page-wrap"></div>'
        '<aside class="sidebar"><h3>Related</h3><ul>%s</ul><div class="ad">Advertisement: %s %s'
        '<img src="/ads/%s.jpg" width="300" height="250"></div></aside></div>'
        '<footer>Copyright 20%02d Example Media. <span class="views">%s views</span> '
        '<input type="hidden" name="csrf" value="%s"/></footer></div>'
        % (rng.randint(1, 9), rng.randint(1, 59),
           "".join(f'<li><a href="/a/{_rand_token(rng, 6)}">{_headline(rng)}</a></li>' for _ in range(5)),
           _headline(rng), _rand_token(rng, 24), _rand_token(rng, 8), rng.randint(10, 24), f"{rng.randint(1000, 99999):,}",
           _rand_token(rng)))
    main = wrapper.xpath(".//div[@class='page-wrap']")[0]
    # The article keeps its own markup; a random ad, a live market ticker (numbers that move on
    # every request, which no generic mask knows) and a token go at its top and bottom.
    main.append(lxml.html.fromstring(f'<div class="ad-slot" data-ad="{_rand_token(rng, 12)}">Sponsored '
                                     f'<img src="/creative/{_rand_token(rng, 10)}.png" width="728" height="90"></div>'))
    main.append(lxml.html.fromstring(
        f'<p class="market-data">Markets now: Dow Jones {rng.randint(30000, 36000):,}.{rng.randint(10, 99)} '
        f'({rng.choice("+-")}{rng.randint(1, 99) / 100:.2f}%), Nasdaq {rng.randint(10000, 14000):,}.{rng.randint(10, 99)} '
        f'({rng.choice("+-")}{rng.randint(1, 99) / 100:.2f}%), crude oil ${rng.randint(60, 90)}.{rng.randint(10, 99)} a barrel</p>'))
    for k in kids:
        main.append(k)
    main.append(lxml.html.fromstring(f'<div class="meta">Session {_rand_token(rng, 40)}</div>'))
    body.append(wrapper)
    return _bytes(doc)


def template_variant(html: bytes, rng: random.Random) -> bytes:
    """The same page in a new template: every class renamed, stylesheets swapped, the body in a new wrapper."""
    import lxml.html

    doc = lxml.html.document_fromstring(decode(html, None, html=True))
    salt = _rand_token(rng, 4)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        if el.get("class"):
            el.set("class", " ".join(f"t{salt}-{hashlib.md5(c.encode()).hexdigest()[:6]}" for c in el.get("class").split()))
        if el.tag == "link" and (el.get("rel") or "").lower() == "stylesheet":
            el.set("href", f"/assets/{salt}/theme-{_rand_token(rng, 8)}.css")
    body = doc.find("body")
    if body is not None:
        kids = list(body)
        for k in kids:
            body.remove(k)
        outer = lxml.html.fromstring(f'<div class="shell-{salt}"><div class="container-{salt}"></div></div>')
        inner = outer[0]
        for k in kids:
            inner.append(k)
        body.append(outer)
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


def _text_nodes(p) -> list[tuple[object, str]]:
    nodes = [(p, "text")] + [(c, "tail") for c in p.iterdescendants()] + [(c, "text") for c in p.iterdescendants()]
    return [(n, a) for n, a in nodes if (getattr(n, a) or "").strip()]


def _edit_word(p, rng) -> bool:
    node, attr = max(_text_nodes(p), key=lambda na: len((getattr(na[0], na[1]) or "").split()))
    words = (getattr(node, attr) or "").split(" ")
    idx = [i for i, w in enumerate(words) if re.fullmatch(r"[A-Za-z]{4,}", w)]
    if not idx:
        return False
    i = rng.choice(idx)
    words[i] = "unexpectedly" if words[i] != "unexpectedly" else "surprisingly"
    setattr(node, attr, " ".join(words))
    return True


_NUM = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})*(?:\.\d+)?(?![\w])")


def _edit_number(paras, rng) -> bool:
    spots = [(n, a, m) for p in paras for n, a in _text_nodes(p) for m in _NUM.finditer(getattr(n, a))]
    if not spots:
        return False
    node, attr, m = rng.choice(spots)
    value = getattr(node, attr)
    old = m.group()
    digits = old.replace(",", "")
    new = str(int(float(digits)) + rng.randint(2, 9)) if "." not in digits else f"{float(digits) + 1.5:g}"
    setattr(node, attr, value[:m.start()] + new + value[m.end():])
    return True


def _edit_sentence(p, rng) -> bool:
    """Reword one sentence: a run of its words replaced by others, the rest of the paragraph as it was."""
    node, attr = max(_text_nodes(p), key=lambda na: len((getattr(na[0], na[1]) or "").split()))
    value = getattr(node, attr)
    sentences = [m for m in re.finditer(r"[^.!?]+[.!?]", value) if len(m.group().split()) >= 8]
    if not sentences:
        return False
    m = rng.choice(sentences)
    words = m.group().split()
    start = rng.randint(1, len(words) - 5)
    words[start:start + 4] = ["according", "to", "people", "familiar", "with", "the", rng.choice(WORDS)]
    setattr(node, attr, value[:m.start()] + " " + " ".join(words) + value[m.end():])
    return True


def _content_root(paras):
    """The nearest element holding every body paragraph: where the article's own images are."""
    root = paras[0]
    while root is not None and not all(root in p.iterancestors() or root is p for p in paras):
        root = root.getparent()
    return root


_NOT_ARTICLE = re.compile(r"related|promo|advert|(?:^|[-_ ])ads?(?:$|[-_ ])|sponsor|thumbnail|widget|share|social|avatar|"
                          r"teaser|rail|trending|swiper|carousel|slider|audio-player", re.I)


def _image_file(img) -> str:
    """The image's address without its query (lazy-loading copies carry the same one)."""
    src = next((img.get(a) for a in ("data-src", "data-lazy-src", "data-original", "data-normal") if img.get(a)), None)
    src = (src or img.get("src") or "").split("?")[0].lower()
    return re.sub(r"^(?:https?:)?//", "", src)


def _article_image(img) -> bool:
    """An image of the article itself: a photo file, not a placeholder, an ad, a thumbnail of another story."""
    name = _image_file(img).rsplit("/", 1)[-1]
    if not re.search(r"\.(?:jpe?g|png|gif|webp)$", name) or re.search(r"missing|placeholder|blank|spacer|pixel|logo", name):
        return False
    if any(a.tag in ("aside", "nav", "header", "footer") for a in img.iterancestors()):
        return False
    width = (img.get("width") or "").strip().removesuffix("px")
    if width.isdigit() and int(width) < 50:
        return False
    return not any(_NOT_ARTICLE.search(f"{a.get('class') or ''} {a.get('id') or ''}") for a in img.iterancestors())


CONSENT_WALL = (
    '<div class="consent-overlay"><h1>Before you continue</h1>'
    "<p>We and our partners use cookies and data to deliver and maintain our services, measure audience engagement "
    "and show personalised advertising.</p><p>If you choose to Accept all, we will also use cookies to develop new "
    "services. Select Manage options to see more choices.</p>"
    "<button>Reject all</button> <button>Accept all</button> <a href=\"/consent/manage\">Manage options</a></div>"
)


def edited_variant(html: bytes, truth: str, rng: random.Random, how: str, url: str = "") -> bytes | None:
    """One real edit of class ``how`` (before noise), or None when the page offers no place for it."""
    import lxml.html

    doc = lxml.html.document_fromstring(decode(html, None, html=True))
    paras = _body_paragraphs(doc, truth)
    if not paras:
        return None
    p = rng.choice(paras)
    if how == "paragraph_deleted":
        p.drop_tree()
    elif how == "word_changed":
        if not _edit_word(p, rng):
            return None
    elif how == "number_changed":
        if not _edit_number(paras, rng):
            return None
    elif how == "sentence_edited":
        if not any(_edit_sentence(q, rng) for q in [p] + [q for q in paras if q is not p]):
            return None
    elif how == "correction_appended":
        last = paras[-1]
        note = lxml.html.fromstring(
            f"<p>Correction: An earlier version of this article misstated the number of {rng.choice(WORDS)} "
            f"projects approved last year. It was {rng.randint(12, 40)}, not {rng.randint(41, 90)}.</p>")
        last.addnext(note)
    elif how == "link_removed":
        # A link the page has once: removing one of two copies of a citation leaves the page citing it.
        hrefs = Counter(url_key(a.get("href") or "", url) for a in doc.iter("a"))
        links = [a for q in paras for a in q.iter("a")
                 if (a.get("href") or "").startswith(("http", "/")) and hrefs[url_key(a.get("href"), url)] == 1]
        if not links:
            return None
        rng.choice(links).drop_tag()  # the words stay, the citation goes
    elif how == "image_removed":
        root = _content_root(paras)
        imgs = [i for i in (root.iter("img") if root is not None else []) if _article_image(i)]
        if not imgs:
            return None
        # The image goes from the page: every <img> showing that file (a lazy copy, a <noscript> copy) with it.
        name = _image_file(rng.choice(imgs))
        for i in [i for i in doc.iter("img") if _image_file(i) == name]:
            i.drop_tree()
    elif how == "consent_wall":
        body = doc.find("body")
        for k in list(body):
            body.remove(k)
        body.append(lxml.html.fromstring(CONSENT_WALL))
    else:
        raise ValueError(how)
    return _bytes(doc)


# Perturbation classes and what a good detector says for each: None (silent), "content_changed", "blocked".
CLASSES = {
    "noise": None,
    "template": None,
    "word_changed": "content_changed",
    "sentence_edited": "content_changed",
    "paragraph_deleted": "content_changed",
    "number_changed": "content_changed",
    "correction_appended": "content_changed",
    "link_removed": "content_changed",
    "image_removed": "content_changed",
    "consent_wall": "blocked",
}


# --------------------------------------------------------------------------- running

def _obs(url: str, html: bytes) -> Observation:
    return Observation(url, url, 200, None, hashlib.sha256(html).hexdigest(), extract(html, "text/html", url))


def verdict(url: str, a: bytes, b: bytes) -> str | None:
    return classify(_obs(url, a), "ok", _obs(url, b), 0).kind


def _judge_variant(url: str, html: bytes, base: Observation, content: bytes, seed: str) -> dict:
    """Fetch twice a few seconds apart (two noise draws of the same content), learn, then judge the first."""
    first = noisy_variant(content, random.Random(seed + "/1"))
    second = noisy_variant(content, random.Random(seed + "/2"))
    new = _obs(url, first)
    plain = classify(base, "ok", new, 0)
    mask = learn_volatile(new.extracted, _obs(url, second).extracted) if plain.kind == "content_changed" else None
    learned = classify(base, "ok", new, 0, volatile=mask) if mask else plain
    return {"ours": learned.kind, "unlearned": plain.kind, "severity": learned.severity,
            "summary": learned.summary[:3], "md5_text": visible_text_md5(html) != visible_text_md5(first)}


def _aeb_one(args) -> dict:
    path, truth, url, precision = args
    textmod._TRAFILATURA_OPTIONS["favor_precision"] = precision
    html = gzip.decompress(Path(path).read_bytes())
    base = _obs(url, html)
    out = {"id": Path(path).name[:12], "results": {}}
    for how in CLASSES:
        rng = random.Random(f"{Path(path).name}/{how}")
        if how == "noise":
            content = html
        elif how == "template":
            content = template_variant(html, rng)
        else:
            content = edited_variant(html, truth, rng, how, url)
        if content is None:
            continue
        out["results"][how] = _judge_variant(url, html, base, content, f"{Path(path).name}/{how}")
    return out


def _ok(how: str, kind: str | None) -> bool:
    return kind == CLASSES[how]


def measure_aeb(limit: int | None, precision: bool, workers: int) -> None:
    root = CORPUS / "articles" / "aeb"
    truth = json.loads((root / "ground-truth.json").read_text())
    files = sorted((root / "html").glob("*.html.gz"))[:limit]
    jobs = [(str(f), truth[f.name[:-8]]["articleBody"], truth[f.name[:-8]]["url"], precision) for f in files]
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_aeb_one, jobs, chunksize=2))
    print(f"\nAEB perturbations ({len(results)} pages, fixed seeds; trafilatura favor_precision={precision}; "
          f"{time.time() - t0:.0f}s)")
    print("  Each variant is fetched twice (two noise draws a few seconds apart); 'ours' judges with the mask learned")
    print("  from those two fetches, 'no learning' without it, md5 = md5 of the page's visible text (baseline).")
    print(f"  {'class':<22}{'expect':<17}{'n':>4}{'ours':>13}{'no learning':>14}{'md5 text':>14}")
    totals = {"ours": [0, 0, 0, 0], "unlearned": [0, 0, 0, 0], "md5_text": [0, 0, 0, 0]}  # TP FN FP TN
    misses: dict[str, list[str]] = {}
    for how, expect in CLASSES.items():
        rows = [(r["id"], r["results"][how]) for r in results if how in r["results"]]
        if not rows:
            continue
        n = len(rows)
        ours = sum(_ok(how, x["ours"]) for _, x in rows)
        unlearned = sum(_ok(how, x["unlearned"]) for _, x in rows)
        md5 = sum(x["md5_text"] == (expect is not None) for _, x in rows)
        label = "silent" if expect is None else expect
        what = "silent" if expect is None else "caught"
        print(f"  {how:<22}{label:<17}{n:>4}{ours:>6} {ours / n:>6.1%}{unlearned:>6} {unlearned / n:>6.1%}"
              f"{md5:>6} {md5 / n:>6.1%}   ({what})")
        for key in totals:
            for _, x in rows:
                flagged = x[key] is not None if key != "md5_text" else x[key]
                right = _ok(how, x[key]) if key != "md5_text" else flagged == (expect is not None)
                if expect is None:
                    totals[key][3 if not flagged else 2] += 1
                else:
                    totals[key][0 if right else 1] += 1
        bad = [f"{i}:{x['ours']}" for i, x in rows if not _ok(how, x["ours"])]
        if bad:
            misses[how] = bad
    print("\n  Confusion matrix over all variants (positive = a change a reader cares about, or a wall):")
    print(f"  {'detector':<28}{'TP':>6}{'FN':>6}{'FP':>6}{'TN':>6}{'recall':>9}{'precision':>11}")
    for key, name in (("ours", "archiver (learned mask)"), ("unlearned", "archiver, no learning"),
                      ("md5_text", "md5 of visible text")):
        tp, fn, fp, tn = totals[key]
        print(f"  {name:<28}{tp:>6}{fn:>6}{fp:>6}{tn:>6}{tp / max(1, tp + fn):>9.1%}{tp / max(1, tp + fp):>11.1%}")
    print("  (for md5 a wall counts as caught when the text differs: it cannot tell a wall from an edit)")
    for how, bad in misses.items():
        print(f"  wrong on {how}: {bad[:8]}{' ...' if len(bad) > 8 else ''}")
    severities: dict[str, Counter] = {}
    for r in results:
        for how, x in r["results"].items():
            if x["ours"] == "content_changed":
                severities.setdefault(how, Counter())[x["severity"]] += 1
    print("\n  Severity given to the content changes caught:")
    for how, counts in severities.items():
        print(f"    {how:<22}" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    example = next((r for r in results if "number_changed" in r["results"]), None)
    if example:
        for how in ("number_changed", "correction_appended", "link_removed", "image_removed", "sentence_edited"):
            x = example["results"].get(how)
            if x and x["summary"]:
                print(f"    e.g. {how}: {x['summary'][0][:110]}")


def measure_pairs() -> None:
    root = CORPUS / "page-versions"
    print("\nReal before/after pairs (wm-processing-archives: labelled; wm-diff-versions: unlabelled)")
    print(f"  {'pair':<28}{'label':<8}{'ours':<18}{'sim':>6}{'md5_text':>10}{'sha256':>8}  severity")
    caught: dict[bool, list[bool]] = {True: [], False: []}
    md5: dict[bool, list[bool]] = {True: [], False: []}
    for group in ("wm-processing-archives", "wm-diff-versions"):
        meta = json.loads((root / group / "pairs.json").read_text())
        for pair in meta["pairs"]:
            a = (root / group / pair["before"]).read_bytes()
            b = (root / group / pair["after"]).read_bytes()
            url = pair.get("url") or "https://example.invalid/page"
            v = classify(_obs(url, a), "ok", _obs(url, b), 0)
            label = {True: "event", False: "none", None: "?"}[pair.get("significant")]
            print(f"  {pair['id']:<28}{label:<8}{str(v.kind):<18}{(v.similarity or 0):>6.2f}"
                  f"{str(visible_text_md5(a) != visible_text_md5(b)):>10}{str(raw_sha256(a) != raw_sha256(b)):>8}"
                  f"  {v.severity or ''}")
            for line in v.summary[:3]:
                print(f"  {'':<28}  {line[:100]}")
            if pair.get("significant") is not None:
                caught[pair["significant"]].append(v.kind is not None)
                md5[pair["significant"]].append(visible_text_md5(a) != visible_text_md5(b))
    print(f"  labelled pairs: ours {sum(caught[True])}/{len(caught[True])} true positives caught, "
          f"{len(caught[False]) - sum(caught[False])}/{len(caught[False])} false positives silent; "
          f"md5 of text {sum(md5[True])}/{len(md5[True])} caught, {len(md5[False]) - sum(md5[False])}/{len(md5[False])} silent")


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
    ap.add_argument("--workers", type=int, default=2, help="processes for the AEB part (default 2)")
    args = ap.parse_args()
    if not (CORPUS / "page-versions").is_dir() or not (CORPUS / "articles" / "aeb").is_dir():
        print(f"SKIP: corpus not found at {CORPUS} (needs page-versions/ and articles/aeb/)")
        return 0
    textmod._TRAFILATURA_OPTIONS["favor_precision"] = not args.recall
    measure_pairs()
    measure_error_pages()
    for precision in ((False, True) if args.both else (not args.recall,)):
        measure_aeb(args.limit, precision, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
