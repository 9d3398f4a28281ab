"""Tests for archiver.analyze.citations on invented pages (no network)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from archiver.analyze.citations import find_links_html, find_links_markdown, find_links_text

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

PARA = (
    "The harbour commission met for the fourth time this spring to argue about the tide gauges, "
    "and the minutes show that nobody could agree on who should pay for the repairs."
)


def by_url(result):
    return {link.url: link for link in result.links}


def cited_urls(result):
    return {link.url for link in result.links if link.cited}


BLOG = f"""<!doctype html>
<html><head>
<meta charset="utf-8">
<title>Tide gauges and who pays | The Quay Blog</title>
<meta property="og:title" content="Tide gauges and who pays">
<meta name="author" content="Wren Halloway">
<meta property="article:published_time" content="2023-04-05T09:30:00+00:00">
</head><body>
<header class="site-header"><a href="/">The Quay Blog</a>
  <nav><ul><li><a href="/archive">Archive</a></li><li><a href="/about">About</a></li></ul></nav>
</header>
<div class="ad-slot"><a href="https://ads.example.net/click?id=9">Buy boats now</a></div>
<article class="post">
  <h1>Tide gauges and who pays</h1>
  <p class="byline">By <a href="/authors/wren">Wren Halloway</a></p>
  <div class="entry-content">
    <p>{PARA} The commission published <a href="https://harbour.example.org/minutes/2023-03.pdf">its March minutes</a>
       only after a request from local residents, which is itself telling.</p>
    <p>I wrote about the first gauge failure <a href="/2021/03/gauges-fail#update">two years ago</a>, and
       the <a href="https://news.example.com/tides/42">regional paper covered the storm</a> that followed it in detail.</p>
    <p>{PARA}</p>
    <div class="share-buttons">
      <a href="https://www.facebook.com/sharer/sharer.php?u=x">Share on Facebook</a>
      <a href="https://twitter.com/intent/tweet?url=x">Tweet</a>
    </div>
    <div class="newsletter-box"><p>Get every post by email, sign up for our newsletter and read more about
       <a href="/newsletter">our weekly letter with all the news from the harbour</a> today.</p></div>
  </div>
  <ul class="post-tags"><li><a href="/tag/tides">tides</a></li><li><a href="/tag/money">money</a></li></ul>
</article>
<section class="related-posts"><h2>Related posts</h2>
  <ul><li><a href="/2022/01/dredging">Dredging the inner basin costs more than expected</a></li></ul></section>
<div id="comments" class="comments-area">
  <p>Great post, I remember <a href="https://spam.example.com/">the storm in my town</a> being much worse than this one was.</p>
</div>
<aside class="sidebar"><a href="/popular">Most popular this week on the blog</a></aside>
<footer><a href="/privacy">Privacy</a> <a href="mailto:editor@quay.example">Contact</a></footer>
</body></html>"""


def test_blog_post_cites_body_links_only():
    result = find_links_html(BLOG, "https://quay.example/2023/04/tide-gauges")
    links = by_url(result)
    assert cited_urls(result) == {
        "https://harbour.example.org/minutes/2023-03.pdf",
        "https://quay.example/2021/03/gauges-fail",  # the author's own earlier post, in the body text
        "https://news.example.com/tides/42",
    }
    for url in (
        "https://quay.example/",
        "https://quay.example/archive",
        "https://ads.example.net/click?id=9",
        "https://quay.example/authors/wren",
        "https://www.facebook.com/sharer/sharer.php?u=x",
        "https://quay.example/newsletter",
        "https://quay.example/tag/tides",
        "https://quay.example/2022/01/dredging",
        "https://spam.example.com/",
        "https://quay.example/popular",
        "https://quay.example/privacy",
    ):
        assert url in links and not links[url].cited, url
    mail = links["mailto:editor@quay.example"]
    assert mail.skip_reason == "scheme:mailto" and not mail.cited
    assert result.title == "Tide gauges and who pays"
    assert result.author == "Wren Halloway"
    assert result.published == "2023-04-05T09:30:00+00:00"
    minutes = links["https://harbour.example.org/minutes/2023-03.pdf"]
    assert minutes.anchor_text == "its March minutes"
    assert minutes.context.startswith("The commission published its March minutes only after")
    assert [link.position for link in result.links] == list(range(len(result.links)))
    assert result.main_html and "its March minutes" in result.main_html and "Archive" not in result.main_html


def test_news_page_without_article_tag():
    html = f"""<html><body>
    <div id="top"><div class="menu"><a href="/world">World</a> <a href="/sport">Sport</a></div></div>
    <div class="wrap"><div class="col-a">
        <div class="story">
          <div class="txt"><p>{PARA}</p>
          <p>Officials pointed to <a href="https://gov.example/report-7">a report on the gauges</a> that
             was finished last year but never discussed in public, according to two people.</p>
          <p>{PARA}</p><p>{PARA}</p></div>
        </div>
      </div>
      <div class="col-b">
        <div class="box"><a href="/story/1">Other story one</a><br><a href="/story/2">Other story two</a></div>
      </div>
    </div>
    <div class="bottom"><a href="/contact">Contact us</a></div>
    </body></html>"""
    result = find_links_html(html, "https://paper.example/news/gauges")
    assert cited_urls(result) == {"https://gov.example/report-7"}
    assert len(result.links) == 6


def test_main_with_share_bar_inside():
    html = f"""<html><body>
    <div class="top"><a href="/">Home</a></div>
    <main>
      <h1>Gauges</h1>
      <div class="toolbar"><a href="https://social.example/share?u=1">Share this story</a></div>
      <p>{PARA} See <a href="https://data.example/tides.csv">the raw tide data</a> for yourself.</p>
      <p>{PARA}</p>
      <div class="social"><a href="https://social.example/follow">Follow</a></div>
    </main>
    </body></html>"""
    result = find_links_html(html, "https://site.example/a")
    assert cited_urls(result) == {"https://data.example/tides.csv"}
    assert not by_url(result)["https://social.example/share?u=1"].cited


def test_base_href_is_respected():
    html = f"""<html><head><base href="https://cdn.example/sub/"></head><body><article>
      <p>{PARA} The <a href="notes/one.html">first note</a> and <a href="/two">second</a> matter.</p>
    </article></body></html>"""
    result = find_links_html(html, "https://origin.example/page")
    assert cited_urls(result) == {"https://cdn.example/sub/notes/one.html", "https://cdn.example/two"}


def test_dedupe_and_fragments():
    html = f"""<html><body>
    <nav><a href="https://src.example/doc#top">Doc in the menu</a></nav>
    <article><p>{PARA} As <a href="https://src.example/doc#section-2">the document says</a>, and
      <a href="HTTPS://SRC.example:443/doc">again</a>, it is so. <a href="#fn1">1</a></p></article>
    </body></html>"""
    result = find_links_html(html, "https://me.example/post")
    urls = [link.url for link in result.links]
    assert urls.count("https://src.example/doc") == 1
    doc = by_url(result)["https://src.example/doc"]
    # first position kept, the cited occurrence's text wins
    assert doc.position == 0 and doc.cited and doc.anchor_text == "the document says"
    assert doc.href == "https://src.example/doc#section-2"
    assert not by_url(result)["https://me.example/post"].cited  # in-page footnote jump


def test_skipped_schemes_and_invalid_urls():
    html = f"""<html><body><article><p>{PARA}
      <a href="mailto:a@b.example">mail</a> <a href="javascript:void(0)">js</a>
      <a href="data:text/plain,hi">data</a> <a href="file:///etc/passwd">file</a>
      <a href="ftp://ftp.example/x">ftp</a> <a href="tel:+100">tel</a>
      <a href="http://[bad">broken</a> <a href="https://ok.example/x">ok</a></p></article></body></html>"""
    result = find_links_html(html, "https://me.example/")
    reasons = {link.anchor_text: link.skip_reason for link in result.links}
    assert reasons["mail"] == "scheme:mailto"
    assert reasons["js"] == "scheme:javascript"
    assert reasons["data"] == "scheme:data"
    assert reasons["file"] == "scheme:file"
    assert reasons["ftp"] == "scheme:ftp"
    assert reasons["tel"] == "scheme:tel"
    assert reasons["broken"].startswith("invalid_url:")
    assert reasons["ok"] is None
    assert by_url(result)["javascript:void(0)"].url == "javascript:void(0)"
    assert cited_urls(result) == {"https://ok.example/x"}


def test_unlinked_quoted_title_reference():
    html = f"""<html><body><article>
      <p>{PARA}</p>
      <p>In my post \u201cWhy harbour walls lean\u201d (March 3, 2021) I guessed at the cause, and
         \u201cwe will fix it,\u201d the mayor said at the time.</p>
      <p>According to a 2019 report by the Ministry of Quays and Harbours the walls were sound.</p>
      <p>The piece <a href="https://x.example/">\u201cA linked title here\u201d</a> (May 2020) is linked.</p>
    </article></body></html>"""
    result = find_links_html(html, "https://me.example/")
    texts = [ref.text for ref in result.unlinked]
    assert "Why harbour walls lean" in texts
    assert not any("fix it" in t for t in texts)  # quoted speech is not a title
    assert not any("linked title" in t for t in texts)  # inside a link
    assert any("Ministry of Quays and Harbours" in t for t in texts)
    ref = result.unlinked[texts.index("Why harbour walls lean")]
    assert "March 3, 2021" in ref.context


def test_markdown():
    md = """---
title: Notes on gauges
author: Wren Halloway
date: 2023-04-05
---

# Ignored because front matter has a title

See [the minutes](https://harbour.example.org/minutes "March") and <https://auto.example/link>.
Also [the survey][s1] and [Survey B][] and a bare www.bare.example/path, then (https://paren.example/a_(b)).

```
https://in-code.example/not-a-link
```

![a photo](https://img.example/p.jpg) and [![badge](https://img.example/b.svg)](https://badge.example/)

[s1]: https://survey.example/one
[survey b]: <https://survey.example/two> "Two"
"""
    result = find_links_markdown(md, "https://me.example/notes")
    urls = [link.url for link in result.links]
    assert urls == [
        "https://harbour.example.org/minutes",
        "https://auto.example/link",
        "https://survey.example/one",
        "https://survey.example/two",
        "http://www.bare.example/path",
        "https://paren.example/a_(b)",
        "https://badge.example/",
    ]
    assert all(link.cited for link in result.links)
    assert result.links[0].anchor_text == "the minutes"
    assert result.links[-1].anchor_text == "badge"
    assert result.title == "Notes on gauges" and result.author == "Wren Halloway"
    assert result.published == "2023-04-05"
    assert result.main_html is None
    plain = find_links_markdown("# Title here\n\nA [rel](/x/y) link.", "https://me.example/a/")
    assert plain.title == "Title here" and plain.links[0].url == "https://me.example/x/y"


def test_text():
    text = (
        "Gauge notes\n\nThe data (see https://data.example/t.csv) is at https://data.example/t.csv, "
        "and the report is at http://gov.example/r?id=1. Also \"https://quoted.example/q\"! "
        "And https://wiki.example/Harbour_(disambiguation)."
    )
    result = find_links_text(text)
    assert [link.url for link in result.links] == [
        "https://data.example/t.csv",
        "http://gov.example/r?id=1",
        "https://quoted.example/q",
        "https://wiki.example/Harbour_(disambiguation)",
    ]
    assert all(link.cited for link in result.links)
    assert result.title == "Gauge notes"
    assert find_links_text("").links == []


def test_malformed_html_and_bad_charset():
    html = b"<html><body><div><p>Unclosed <a href='https://a.example/1'>one <b>bold<p>" + PARA.encode() + (
        b" <a href=https://b.example/2>two</a></div></span></article><a href='http://[::1'>bad</a>"
    )
    result = find_links_html(html, "https://me.example/", encoding="no-such-charset")
    assert {"https://a.example/1", "https://b.example/2"} <= {link.url for link in result.links}
    meta_bad = b'<html><head><meta charset="x-klingon"></head><body><a href="/q">q\xff</a></body></html>'
    assert [link.url for link in find_links_html(meta_bad, "https://me.example/").links] == ["https://me.example/q"]
    latin = '<html><head><meta charset="iso-8859-1"></head><body><article><p>Caf\xe9 ' + PARA + (
        ' <a href="https://c.example/">caf\xe9 link</a></p></article></body></html>'
    )
    result = find_links_html(latin.encode("latin-1"), "https://me.example/")
    assert result.links[0].anchor_text == "caf\xe9 link"
    for junk in (b"", b"   ", "\x00\x00", b"<", "<html></html>", b"\xff\xfe\x00"):
        assert find_links_html(junk, "https://me.example/").links == []


@pytest.mark.slow
def test_many_links_and_huge_href():
    items = "".join(f'<li><a href="/n/{i}">item {i}</a></li>' for i in range(10_000))
    result = find_links_html(f"<html><body><ul>{items}</ul></body></html>", "https://me.example/")
    assert len(result.links) == 10_000
    prose = " ".join(f'word <a href="https://s.example/{i}">w{i}</a> and more words here.' for i in range(10_000))
    result = find_links_html(f"<html><body><article><p>{prose}</p></article></body></html>", "https://me.example/")
    assert len(result.links) == 10_000 and all(link.cited for link in result.links)
    huge = "https://h.example/" + "a" * 100_000
    result = find_links_html(f'<p>{PARA} <a href="{huge}">huge</a></p>', "https://me.example/")
    assert len(result.links) == 1 and result.links[0].url == huge
    md = " ".join(f"[l{i}](https://m.example/{i})" for i in range(10_000)) + " " + huge
    assert len(find_links_markdown(md).links) == 10_001
    assert len(find_links_text(" ".join(f"https://t.example/{i}" for i in range(10_000))).links) == 10_000


# A handful of real pages: the figures are measured in full by scripts/measure_citations.py.
CORPUS_PAGES = 25


def test_corpus_precision_recall():
    aeb = CORPUS / "articles" / "aeb"
    if not (aeb / "ground-truth.json").is_file():
        pytest.skip(f"shared test corpus not found at {CORPUS}")
    truth = json.loads((aeb / "ground-truth.json").read_text(encoding="utf-8"))
    tp = fp = fn = 0
    for page_id in sorted(truth)[:CORPUS_PAGES]:
        html = gzip.decompress((aeb / "html" / f"{page_id}.html.gz").read_bytes())
        body = " ".join(truth[page_id]["articleBody"].split()).lower()
        for link in find_links_html(html, truth[page_id]["url"]).links:
            anchor = " ".join(link.anchor_text.split()).lower()
            if not anchor or link.skip_reason:
                continue
            in_body = anchor in body
            if in_body and len(anchor.split()) < 3:
                continue  # too short to tell
            if in_body and link.cited:
                tp += 1
            elif in_body:
                fn += 1
            elif link.cited:
                fp += 1
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    assert precision >= 0.85, (tp, fp, fn)
    assert recall >= 0.7, (tp, fp, fn)


def test_item_dates_in_the_forms_lists_write_them():
    from archiver.analyze.citations import item_date

    assert item_date("10 May 2018: \u201cTitle of the post\u201d") == "2018-05-10"
    assert item_date("May 10, 2018 \u2014 Title") == "2018-05-10"
    assert item_date("2018-05-10 Title") == "2018-05-10"
    assert item_date("Sept. 3rd, 2019: the hearing") == "2019-09-03"
    assert item_date("March 2020 report") == "2020-03"
    assert item_date("no date here, 12 items") is None


def test_unlinked_titles_still_named_beside_a_source_list():
    html = f"""<html><body><article><h1>Ferries</h1>
    <p>{PARA} As I wrote in my 2019 post \u201cThe Ferry That Never Came\u201d, the timetable was already thin.</p>
    <p>Previous posts in this series:</p>
    <ul><li>3 May 2021: <a href="/2021/05/ferries">Ferries again</a></li><li>9 June 2021: <a href="/2021/06/fares">Fares</a></li></ul>
    </article></body></html>"""
    result = find_links_html(html, "https://quay.example/2021/07/ferries-three")
    assert [r.text for r in result.unlinked] == ["The Ferry That Never Came"]
    links = by_url(result)
    fares = links["https://quay.example/2021/06/fares"]
    assert fares.cited and (fares.item_date, fares.item_title) == ("2021-06-09", "Fares")
    assert fares.list_heading == "Previous posts in this series:"
