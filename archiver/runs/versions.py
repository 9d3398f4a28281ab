"""An article's versions: every capture of it (and every recheck that finds it edited) records
its text and citation set next to the earlier ones, and its quotations anew.

Shared by capture (re-capturing a known article) and recheck (a tracked article edited since).
A changed citation set is a ``citations_changed`` change event of the article.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from archiver.analyze.citations import ArticleLinks, canonical_url, find_links_html, find_links_markdown, find_links_text
from archiver.analyze.quotes import Quote, find_quotes, locate
from archiver.analyze.document import HtmlDocument
from archiver.analyze.templates import TemplateIndex
from archiver.analyze.text import decode, html_document, sniff_kind
from archiver.clock import iso_utc
from archiver.results import Change, QuoteStatus

def find_article_links(
    data: bytes, content_type: str | None, base: str | None, url: str, suffix: str | None = None,
    document: HtmlDocument | None = None, templates: TemplateIndex | None = None,
) -> ArticleLinks:
    """The links of an article's body; ``suffix``: the file name's suffix of a local article.

    ``document``: the page already decoded and parsed (one parse serves text, links, quotations
    and requisites); ``templates``: link blocks of the site's other pages, evidence of its template.
    """
    if suffix is not None and suffix.lower() in (".md", ".markdown"):
        return find_links_markdown(decode(data, content_type), base)
    kind = sniff_kind(data, content_type)
    if kind == "html":
        if document is None:
            document = html_document(data, content_type)
        if suffix is not None:
            base = canonical_url(document) or base
        return find_links_html(document, base or url, templates=templates)
    if kind == "text":
        text = decode(data, content_type)
        if "markdown" in (content_type or ""):
            return find_links_markdown(text, base)
        return find_links_text(text, base)
    return ArticleLinks()


def limit_sources(links: ArticleLinks, max_sources: int, all_links: bool) -> None:
    """Past ``max_sources`` links to fetch, the rest are recorded but not fetched.

    A page with ten thousand "citations" would otherwise keep a run busy for days.
    """
    wanted = [link for link in links.links if link.skip_reason is None and (link.cited or all_links)]
    wanted.sort(key=lambda link: not link.cited)  # citations first, then other links
    for link in wanted[max_sources:]:
        link.skip_reason = f"limit: more than {max_sources} links to fetch (--max-sources)"


def cited_urls(links: ArticleLinks) -> list[str]:
    return list(dict.fromkeys(link.url for link in links.links if link.cited and link.skip_reason is None))


def save_version(
    store, run_id: int, url_id: int, row: dict[str, Any], links: ArticleLinks, source: str
) -> tuple[int, dict[str, Any], Change | None]:
    """The article's row and a new version of it from capture ``row``; (article id, version, change event or None)."""
    values = {
        "title": links.title or row.get("title"),
        "author": links.author,
        "published": links.published,
        "capture_id": row["id"],
        "source": source,
    }
    citations, unlinked = _citation_rows(links)
    version_info = {"run_id": run_id, "created_at": row["fetched_at"], "text_sha256": row.get("text_sha256")}
    article_id, version = store.save_article(url_id, values, citations, unlinked, version_info)
    return article_id, version, _citations_event(store, run_id, url_id, row, version)


def revise_version(
    store, run_id: int, url_id: int, row: dict[str, Any], links: ArticleLinks, version: dict[str, Any], change: Change | None
) -> tuple[dict[str, Any], Change | None]:
    """The same capture's version with its links judged again in the same run (a site template
    recognised once the site's other pages were in): its citation set is replaced, and the
    citations_changed event the first judgement made, if any, gives way to the revised one."""
    citations, unlinked = _citation_rows(links)
    revised = store.revise_article_version(version["article_id"], version["id"], citations, unlinked, change.id if change else None)
    return revised, _citations_event(store, run_id, url_id, row, revised)


def _citation_rows(links: ArticleLinks) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    citations = [
        {
            "url": link.url if link.skip_reason is None else None,
            "href": link.href[:4096],
            "anchor_text": link.anchor_text[:1000],
            "context": link.context,
            "position": link.position,
            "cited": link.cited,
            "skip_reason": link.skip_reason,
            "item_date": link.item_date,
            "item_title": (link.item_title or "")[:1000] or None,
            "list_heading": (link.list_heading or "")[:1000] or None,
            "evidence": link.evidence,
        }
        for link in links.links
    ]
    unlinked = [{"text": ref.text, "context": ref.context, "position": ref.position} for ref in links.unlinked]
    return citations, unlinked


def _citations_event(store, run_id: int, url_id: int, row: dict[str, Any], version: dict[str, Any]) -> Change | None:
    """A ``citations_changed`` event when the version cites other sources than the one before it."""
    previous = version["previous"]
    if previous is None or not (version["added"] or version["removed"]):
        return None
    event = {
        "from_capture_id": previous["capture_id"],
        "to_capture_id": row["id"],
        "kind": "citations_changed",
        "similarity": None,
        "detail": {"added": version["added"], "removed": version["removed"], "from_version": previous["version"], "to_version": version["version"]},
        "detected_at": iso_utc(),
        "run_id": run_id,
    }
    change_id = store.add_change(url_id, event)
    return Change(
        id=change_id, url=store.value("SELECT url FROM urls WHERE id = ?", (url_id,)),
        http_status=row.get("http_status"), error=row.get("error"), final_url=row.get("final_url"), **event,
    )


def save_quotes(
    store,
    run_id: int,
    article_id: int,
    version_id: int,
    links: ArticleLinks,
    text: str | None,
    base_url: str,
    texts: Mapping[str, str],
    capture_of: Callable[[str], int | None],
) -> list[QuoteStatus]:
    """The version's quotations, each located in the cited sources' ``texts``; the earlier version's are retired."""
    main = links.main if links.main is not None else links.main_html
    quotes = find_quotes(main, None if main is not None else text, base_url)
    cited = cited_urls(links)
    results = []
    rows: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    now = iso_utc()
    for quote in quotes:
        status, similarity, excerpt, url = locate_in_sources(quote, cited, texts)
        capture_id = capture_of(url) if url else None
        row = {
            "text": quote.text,
            "context": quote.context,
            "position": quote.position,
            "url_id": store.url_id(url, create=False) if url else None,
            "status": status,
            "similarity": similarity,
            "checked_at": now if status else None,
            "capture_id": capture_id,
        }
        # Nothing checked (status None): no history line; recheck looks once the source reads.
        check = None
        if status is not None:
            check = {"capture_id": capture_id, "run_id": run_id, "status": status, "similarity": similarity, "excerpt": excerpt, "checked_at": now}
        rows.append((row, check))
        results.append(QuoteStatus(quote.text, url, status, similarity))
    store.replace_quotes(article_id, rows, version_id)
    return results


def locate_in_sources(quote: Quote, cited: list[str], texts: Mapping[str, str]) -> tuple[str | None, float | None, str | None, str | None]:
    """Best (status, similarity, excerpt, url) for a quotation among the article's cited sources.

    The source the quotation links to is tried first; a passage found present anywhere wins.
    Status is None (unchecked) when the source it names, or every cited source, could not be
    read: "missing" would claim more than archiver saw.
    """
    order = []
    if quote.source_hint and quote.source_hint in texts:
        order.append(quote.source_hint)
    order += [u for u in cited if u in texts and u not in order]
    best: tuple[str, float, str | None, str | None] = ("missing", 0.0, None, quote.source_hint)
    rank = {"present": 2, "altered": 1, "missing": 0}
    for url in order:
        status, similarity, excerpt = locate(quote.text, texts[url])
        if (rank[status], similarity) > (rank[best[0]], best[1]):
            best = (status, similarity, excerpt, url)
        if status == "present":
            break
    hint_unread = quote.source_hint is not None and quote.source_hint not in texts
    if best[0] == "missing" and (not order or hint_unread):
        return None, None, None, quote.source_hint
    return best
