"""One capture run, top to bottom: the articles, their citations, every cited source.

    for each target: fetch (or read) the article -> WARC + captures row
                     find its links -> articles, citations, unlinked_references rows
    fetch every source once, concurrently -> WARC + captures rows (+ extracted text)
    find the article's quotations and locate them in its sources -> quotes rows
"""

from __future__ import annotations

from typing import Any, Callable

from archiver import __version__
from archiver.runs.directory import ArchiveDir
from archiver.analyze.citations import ArticleLinks, canonical_url, find_links_html, find_links_markdown, find_links_text
from archiver.clock import iso_utc
from archiver.net.fetch import Fetcher
from archiver.options import CaptureOptions
from archiver.runs.targets import Target
from archiver.results import ArticleCapture, BrowserLoad, CaptureResult, Fetched, MediaFile, MediaFound, LinkCounts, QuoteStatus, SkippedLink, SourceCapture
from archiver.analyze.quotes import Quote, find_quotes, locate
from archiver.runs.schedule import first_check
from archiver.analyze.answers import failed_answer, usable_answer
from archiver.analyze.text import EXTRACT_LIMIT
from archiver.runs.browse import EMPTY_WORDS, BrowserPages, body_of, looks_empty
from archiver.runs.media import MediaCapture
from archiver.runs.recorder import Captured, Recorder, close_run
from archiver.analyze.requisites import css_requisites, find_requisites
from archiver.analyze.text import slim_html, sniff_kind

Progress = Callable[[int, int, str], None]
LINKS_LIMIT = 4 << 20  # bytes of an article's markup (scripts and styles removed) searched for links

# An interrupted capture of the same targets this recent is resumed rather than redone.
RESUME_WINDOW = 86_400


class CaptureRun:
    """Captures targets into an archive; :meth:`run` returns the JSON-able outcome."""

    def __init__(self, archive: ArchiveDir, options: CaptureOptions, progress: Progress | None = None, args: dict | None = None):
        self.archive = archive
        self.store = archive.store
        self.options = options
        self.progress = progress
        self.args = args or {}
        self.texts: dict[str, str] = {}  # url -> extracted main text of this run's captures
        self.sources: dict[str, dict[str, Any]] = {}  # url -> {"kind", "capture"} for this run's sources
        self.browsed: dict[str, dict[str, Any]] = {}  # url -> browser_loads row, for pages loaded in the browser
        self.looked_empty: dict[str, str] = {}  # url -> why the plain fetch probably missed its text
        self.pages: BrowserPages | None = None
        self.media: MediaCapture | None = None
        self.media_found: dict[str, dict[str, Any]] = {}  # url -> {"files", "error"} under --media
        self._done = self._total = 0  # progress

    def run(self, targets: list[Target]) -> CaptureResult:
        settings = self.options.settings()
        target_urls = sorted({t.url for t in targets})
        resumes = self.store.interrupted_runs(
            "capture", lambda args: sorted(set(args.get("target_urls") or [])) == target_urls, RESUME_WINDOW
        )
        self.reusable = self.store.captures_of_runs(resumes)
        run_args = {"targets": [t.raw for t in targets], "target_urls": target_urls, **self.args, **settings}
        if resumes:
            run_args["resumes"] = resumes
        run_id = self.store.start_run("capture", run_args, f"archiver/{__version__}")
        self.run_id = run_id
        recorder = Recorder(self.archive, run_id, settings, self.options.warc_size)
        fetcher = Fetcher(self.options.fetch)
        if self.options.uses_browser:
            self.pages = BrowserPages(self.archive, recorder, run_id, fetcher, self.options.browser_options)
        if self.options.media:
            self.media = MediaCapture(recorder, self.store, run_id, self.options.fetch, self.options.media_max_bytes)
        articles: list[dict[str, Any]] = []
        status = "failed"
        failure: BaseException | None = None
        try:
            for target in targets:
                articles.append(self._capture_article(target, fetcher, recorder))
            self._capture_sources(articles, fetcher, recorder)
            for article in articles:
                self._check_quotes(article)
            status = "finished"
        except BaseException as exc:
            failure = exc
            raise
        finally:
            closers = [c.close for c in (self.pages, self.media) if c is not None] + [recorder.close, fetcher.close]
            close_run(self.store, run_id, status, lambda: self._counts(articles), failure, *closers)
        return CaptureResult(run_id, str(self.archive.path), [self._public(a) for a in articles])

    # -- articles --------------------------------------------------------------------------

    def _capture_article(self, target: Target, fetcher: Fetcher, recorder: Recorder) -> dict[str, Any]:
        url_id = self.store.url_id(target.url)
        article: dict[str, Any] = {"target": target.raw, "url": target.url, "url_id": url_id, "error": None}
        self._tick(target.url)
        if target.path is not None:
            captured, data = recorder.record_file(url_id, target.path, target.url)
            row = captured.row
            content_type = row["content_type"]
            base = None
        elif self.options.browser_for(target.url, "article"):
            captured, data, content_type = self._browse(url_id, target.url)
            row = captured.row
            base = row.get("final_url") or target.url
        else:
            result = fetcher.fetch(target.url)
            try:
                captured = recorder.record_fetch(url_id, result)
                row = captured.row
                data = b""
                final = result.final
                if final is not None and final.decoded is not None and usable_answer(final.status, None):
                    final.decoded.seek(0)
                    data = final.decoded.read(EXTRACT_LIMIT)
            finally:
                result.close()
            content_type = row.get("content_type")
            if self._looked_empty(target.url, data, content_type, captured):
                captured, data, content_type = self._browse(url_id, target.url)
                row = captured.row
            base = row.get("final_url") or target.url
        article["capture"] = row
        if target.path is None:
            start_tracking(self.store, row)
            self._find_media(target.url, row, data, content_type)
        if row.get("error") and not data:
            article["error"] = row["error"]
        elif row.get("http_status") and not usable_answer(row["http_status"], None):
            article["error"] = f"http_status: the article answered HTTP {row['http_status']}"
        if data and sniff_kind(data, content_type) == "html":
            # Link finding parses the page: scripts and styles go first, and freak sizes are cut.
            data = slim_html(data)[:LINKS_LIMIT]
        links = self._find_links(data, content_type, base, target) if data else ArticleLinks()
        self._limit_sources(links)
        article["links"] = links
        article["data"] = data
        if captured.extracted is not None and captured.extracted.text:
            self.texts[target.url] = captured.extracted.text
        if article["error"] and not data:
            return article
        article["article_id"] = self._store_article(url_id, row, links, "file" if target.path else "web")
        return article

    def _limit_sources(self, links: ArticleLinks) -> None:
        """Past --max-sources links to fetch, the rest are recorded but not fetched.

        A page with ten thousand "citations" would otherwise keep a run busy for days.
        """
        wanted = [link for link in links.links if link.skip_reason is None and (link.cited or self.options.all_links)]
        wanted.sort(key=lambda link: not link.cited)  # citations first, then other links
        for link in wanted[self.options.max_sources:]:
            link.skip_reason = f"limit: more than {self.options.max_sources} links to fetch (--max-sources)"

    @staticmethod
    def _find_links(data: bytes, content_type: str | None, base: str | None, target: Target) -> ArticleLinks:
        if target.path is not None and target.path.suffix.lower() in (".md", ".markdown"):
            return find_links_markdown(data.decode("utf-8", "replace"), base)
        kind = sniff_kind(data, content_type)
        if kind == "html":
            if target.path is not None:
                base = canonical_url(data) or base
            return find_links_html(data, base or target.url)
        if kind == "text":
            text = data.decode("utf-8", "replace")
            if "markdown" in (content_type or ""):
                return find_links_markdown(text, base)
            return find_links_text(text, base)
        return ArticleLinks()

    def _store_article(self, url_id: int, row: dict, links: ArticleLinks, source: str) -> int:
        values = {
            "title": links.title or row.get("title"),
            "author": links.author,
            "published": links.published,
            "capture_id": row["id"],
            "source": source,
        }
        citations = [
            {
                "url": link.url if link.skip_reason is None else None,
                "href": link.href[:4096],
                "anchor_text": link.anchor_text[:1000],
                "context": link.context,
                "position": link.position,
                "cited": link.cited,
                "skip_reason": link.skip_reason,
            }
            for link in links.links
        ]
        unlinked = [{"text": ref.text, "context": ref.context, "position": ref.position} for ref in links.unlinked]
        return self.store.save_article(url_id, values, citations, unlinked)

    # -- sources ---------------------------------------------------------------------------

    def _source_jobs(self, articles: list[dict[str, Any]]) -> dict[str, str]:
        """url -> kind ('citation', 'link', 'requisite'), each URL once, articles themselves excluded."""
        jobs: dict[str, str] = {}
        article_urls = {a["url"] for a in articles}
        for article in articles:
            if "article_id" not in article:
                continue
            for link in article["links"].links:
                if link.skip_reason or link.url in article_urls:
                    continue
                if link.cited:
                    jobs[link.url] = "citation"
                elif self.options.all_links:
                    jobs.setdefault(link.url, "link")
        if self.options.requisites:
            for article in articles:
                html = self._article_html(article)
                if html:
                    for url, _kind in find_requisites(html, article["capture"].get("final_url") or article["url"]):
                        if url not in article_urls:
                            jobs.setdefault(url, "requisite")
        return jobs

    @staticmethod
    def _article_html(article: dict[str, Any]) -> bytes | None:
        data = article.get("data")
        return data if data and sniff_kind(data, article["capture"].get("content_type")) == "html" else None

    def _capture_sources(self, articles: list[dict[str, Any]], fetcher: Fetcher, recorder: Recorder) -> None:
        jobs = self._source_jobs(articles)
        self._total = len(articles) + len(jobs)
        self._done = len(articles)
        pending = dict(jobs)
        # Resuming an interrupted run of the same targets: what it captured is not fetched again.
        for url in [u for u in pending if u in self.reusable]:
            row = self.reusable[url]
            del pending[url]
            text = self.store.value("SELECT text FROM texts WHERE capture_id = ?", (row["id"],))
            if text:
                self.texts[url] = text
            self.sources[url] = {"kind": jobs[url], "capture": row}
            if jobs[url] == "citation":
                start_tracking(self.store, row)
            self._done += 1
            self._tick(url)
        while pending:
            stylesheets: list[tuple[str, bytes]] = []
            in_browser = [u for u in pending if jobs[u] != "requisite" and self.options.browser_for(u, "source")]
            for url, result in fetcher.fetch_many((url, None) for url in pending if url not in in_browser):
                try:
                    captured = recorder.record_fetch(self.store.url_id(url), result)
                    row = captured.row
                    final = result.final
                    body = body_of(result) if jobs[url] != "requisite" else b""
                    if body and self._looked_empty(url, body, row.get("content_type"), captured):
                        in_browser.append(url)
                        continue
                    if jobs[url] == "citation":
                        self._find_media(url, row, body, row.get("content_type"))
                    if (
                        self.options.requisites
                        and final is not None
                        and final.decoded is not None
                        and "css" in (final.content_type or "")
                        and final.status == 200
                    ):
                        final.decoded.seek(0)
                        stylesheets.append((final.url, final.decoded.read(4 * 1024 * 1024)))
                finally:
                    result.close()
                self._source_captured(url, jobs[url], captured)
            for url in in_browser:
                captured, data, content_type = self._browse(self.store.url_id(url), url)
                row = captured.row
                if jobs[url] == "citation":
                    self._find_media(url, row, data, content_type)
                self._source_captured(url, jobs[url], captured)
            pending = {}
            # Images and fonts a stylesheet pulls in are requisites too (one level deep).
            for css_url, css in stylesheets:
                for url, _ in css_requisites(css.decode("utf-8", "replace"), css_url):
                    if url not in jobs:
                        jobs[url] = pending[url] = "requisite"
                        self._total += 1

    def _source_captured(self, url: str, kind: str, captured: Captured) -> None:
        if captured.extracted is not None and captured.extracted.text:
            self.texts[url] = captured.extracted.text
        self.sources[url] = {"kind": kind, "capture": captured.row}
        if kind == "citation":
            start_tracking(self.store, captured.row)
        self._done += 1
        self._tick(url)

    # -- the browser ---------------------------------------------------------------------------

    def _browse(self, url_id: int, url: str) -> tuple[Captured, bytes, str | None]:
        """Load ``url`` in the browser: its document's capture, the rendered DOM, its type."""
        assert self.pages is not None  # set up when the browser is on
        page = self.pages.capture(url_id, url)
        self.browsed[url] = page.load
        self.looked_empty.pop(url, None)
        return page.captured, page.data, page.content_type

    def _find_media(self, url: str, row: dict[str, Any], data: bytes, content_type: str | None) -> None:
        """Under --media: the audio and video a captured HTML page embeds, into the WARC."""
        if self.media is None or not data or not row.get("warc_record_id") or sniff_kind(data, content_type) != "html":
            return
        outcome = self.media.capture(row, row.get("final_url") or url, data, [("Content-Type", content_type or "text/html")])
        self.media_found[url] = {
            "files": [
                {"url": a["uri"], "content_type": a["content_type"], "bytes": a["content_length"], "sha256": a["sha256"], "truncated": a["truncated"]}
                for a in outcome.attachments if a["kind"] == "media"
            ],
            "error": outcome.error,
        }

    def _looked_empty(self, url: str, data: bytes, content_type: str | None, captured: Captured) -> bool:
        """Notes a page the plain fetch probably got without its text; True when auto mode loads it again."""
        extracted = captured.extracted
        if extracted is not None and len((extracted.text or "").split()) >= EMPTY_WORDS:
            return False
        reason = looks_empty(data, content_type, extracted)
        if reason is None:
            return False
        self.looked_empty[url] = reason
        return self.options.browser == "auto"

    # -- quotations ----------------------------------------------------------------------------

    def _check_quotes(self, article: dict[str, Any]) -> None:
        if "article_id" not in article:
            article["quotes"] = []
            return
        links: ArticleLinks = article["links"]
        text = self.texts.get(article["url"])
        quotes = find_quotes(links.main_html, None if links.main_html else text, article["capture"].get("final_url") or article["url"])
        cited = [link.url for link in links.links if link.cited and link.skip_reason is None]
        results = []
        rows: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        now = iso_utc()
        for quote in quotes:
            status, similarity, excerpt, url = locate_in_sources(quote, cited, self.texts)
            capture_id = self.sources.get(url, {}).get("capture", {}).get("id") if url else None
            row = {
                "text": quote.text,
                "context": quote.context,
                "position": quote.position,
                "url_id": self.store.url_id(url, create=False) if url else None,
                "status": status,
                "similarity": similarity,
                "checked_at": now if status else None,
                "capture_id": capture_id,
            }
            # Nothing checked (status None): no history line; recheck looks once the source reads.
            check = None
            if status is not None:
                check = {"capture_id": capture_id, "run_id": self.run_id, "status": status, "similarity": similarity, "excerpt": excerpt, "checked_at": now}
            rows.append((row, check))
            results.append(QuoteStatus(quote.text, url, status, similarity))
        self.store.replace_quotes(article["article_id"], rows)
        article["quotes"] = results

    # -- output ------------------------------------------------------------------------------------

    def _tick(self, url: str) -> None:
        if self.progress:
            self.progress(self._done, self._total, url)

    def _public(self, article: dict[str, Any]) -> ArticleCapture:
        links: ArticleLinks = article.get("links") or ArticleLinks()
        out = ArticleCapture(
            **vars(Fetched.of_row(article.get("capture"))),
            target=article["target"],
            url=article["url"],
            article_id=article.get("article_id"),
            title=links.title or (article.get("capture") or {}).get("title"),
            author=links.author,
            published=links.published,
        )
        out.error = article["error"]
        self._annotate(out, article["url"])
        seen: set[str] = set()
        for link in links.links:
            if link.skip_reason:
                continue
            source = self.sources.get(link.url)
            if source is None or link.url in seen:
                continue
            seen.add(link.url)
            out.sources.append(self._source(link.url, source, link.cited, link.anchor_text))
        if self.options.requisites:
            for url, source in self.sources.items():
                if source["kind"] == "requisite" and url not in seen:
                    seen.add(url)
                    out.sources.append(self._source(url, source, False, None))
        out.skipped = [SkippedLink(link.href, link.skip_reason, link.cited) for link in links.links if link.skip_reason]
        out.links = LinkCounts(cited=sum(1 for link in links.links if link.cited), total=len(links.links))
        out.unlinked_references = [r.text for r in links.unlinked]
        out.quotes = article.get("quotes", [])
        return out

    def _source(self, url: str, source: dict[str, Any], cited: bool, anchor_text: str | None) -> SourceCapture:
        out = SourceCapture(**vars(Fetched.of_row(source["capture"])), url=url, cited=cited, kind=source["kind"], anchor_text=anchor_text)
        self._annotate(out, url)
        return out

    def _annotate(self, out: Fetched, url: str) -> None:
        """What the browser and --media did for this page, and whether it looked empty."""
        load = self.browsed.get(url)
        if load is not None:
            out.browser = BrowserLoad(
                load_id=load["id"], network_idle=bool(load["network_idle"]), requests=load["requests"], fetched=load["fetched"],
                reused=load["reused"], refused=load["refused"], failed=load["failed"], error=load["error"],
            )
        out.looked_empty = self.looked_empty.get(url)
        found = self.media_found.get(url)
        if found is not None:
            out.media = MediaFound([MediaFile(**f) for f in found["files"]], found["error"])

    def _counts(self, articles: list[dict[str, Any]]) -> dict[str, int]:
        rows = [a["capture"] for a in articles if a.get("capture")] + [s["capture"] for s in self.sources.values()]
        failed = sum(1 for row in rows if failed_answer(row.get("http_status"), row.get("error")))
        skipped = sum(1 for a in articles for link in (a.get("links") or ArticleLinks()).links if link.skip_reason)
        return {"urls_total": len(rows), "captured": len(rows) - failed, "failed": failed, "skipped": skipped}


def start_tracking(store, row: dict[str, Any]) -> None:
    """A captured page joins the recheck schedule; a usable answer (2xx, whole) becomes its baseline.

    A source that failed at capture time is due for recheck at once, to see whether it answers now.
    """
    usable = usable_answer(row.get("http_status"), row.get("error"))
    interval, next_check_at = first_check(row["fetched_at"], usable)
    store.start_tracking(row["url_id"], row["id"], usable, interval, next_check_at)


def locate_in_sources(quote: Quote, cited: list[str], texts: dict[str, str]) -> tuple[str | None, float | None, str | None, str | None]:
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
