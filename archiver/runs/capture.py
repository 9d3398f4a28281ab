"""One capture run, top to bottom: the articles, their citations, every cited source.

    for each target: fetch (or read) the article -> WARC + captures row
                     find its links -> articles, citations, unlinked_references rows,
                                       and a new article version (article_versions, version_citations)
    fetch every source once, concurrently -> WARC + captures rows (+ extracted text)
    find the article's quotations and locate them in its sources -> quotes rows

A page captured for the first time starts being tracked; a page already tracked (the article
captured again, a source another article cites) is judged against its baseline exactly as a
recheck would (runs/judge.py): what changed is a change event of this run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Callable

from archiver import __version__
from archiver.runs.directory import ArchiveDir
from archiver.db.queries import text_of_capture
from archiver.analyze.citations import ArticleLinks
from archiver.analyze.pool import ExtractionPool
from archiver.net.fetch import Fetcher, FetchResult
from archiver.options import CONFIRM_FAILURES, CaptureOptions
from archiver.runs.targets import Target
from archiver.results import Change, QuoteChange, ArticleCapture, BrowserLoad, CaptureResult, Fetched, MediaFile, MediaFound, LinkCounts, SkippedLink, SourceCapture
from archiver.runs.judge import Judge
from archiver.runs.versions import find_article_links, limit_sources, revise_version, save_quotes, save_version
from archiver.analyze.answers import failed_answer, usable_answer
from archiver.analyze.text import EXTRACT_LIMIT
from archiver.runs.browse import EMPTY_WORDS, BrowserPages, body_of, looks_empty
from archiver.runs.media import MediaCapture
from archiver.runs.recorder import Captured, Extractor, Recorder, close_run
from archiver.analyze.requisites import css_requisites, find_requisites
from archiver.analyze.document import HtmlDocument
from archiver.analyze.templates import TemplateIndex, host_of
from archiver.analyze.text import SNIFF_BYTES, extract_keeping_document, html_document, sniff_kind

Progress = Callable[[int, int, str], None]

# Seconds a finished fetch may wait for its row while other fetches are still in flight.
STORE_TICK = 0.05

# An interrupted capture of the same targets this recent is resumed rather than redone.
RESUME_WINDOW = 86_400


class StoredTexts(Mapping[str, str]):
    """url -> the extracted main text of its capture in this run, read from the texts table when asked.

    Quotations are located in the texts of an article's sources once every source is in; holding
    thousands of texts in memory until then would make a large run's memory grow with its size.
    """

    def __init__(self, store) -> None:
        self.store = store
        self._captures: dict[str, int] = {}  # url -> capture id whose texts row holds a non-empty text

    def add(self, url: str, capture_id: int) -> None:
        self._captures[url] = capture_id

    def __getitem__(self, url: str) -> str:
        # A capture whose text an earlier capture of the URL already had shares that texts row.
        found = text_of_capture(self.store, self._captures[url])
        if not found or not found[1]:
            raise KeyError(url)
        return found[1]

    def __contains__(self, url: object) -> bool:
        return url in self._captures

    def __iter__(self) -> Iterator[str]:
        return iter(self._captures)

    def __len__(self) -> int:
        return len(self._captures)


class CaptureRun:
    """Captures targets into an archive; :meth:`run` returns the JSON-able outcome."""

    def __init__(self, archive: ArchiveDir, options: CaptureOptions, progress: Progress | None = None, args: dict | None = None):
        self.archive = archive
        self.store = archive.store
        self.options = options
        self.progress = progress
        self.args = args or {}
        self.texts = StoredTexts(self.store)  # url -> extracted main text of this run's captures
        self.sources: dict[str, dict[str, Any]] = {}  # url -> {"kind", "capture"} for this run's sources
        self.browsed: dict[str, dict[str, Any]] = {}  # url -> browser_loads row, for pages loaded in the browser
        self.looked_empty: dict[str, str] = {}  # url -> why the plain fetch probably missed its text
        self.pages: BrowserPages | None = None
        self.media: MediaCapture | None = None
        self.media_found: dict[str, dict[str, Any]] = {}  # url -> {"files", "error"} under --media
        self.changes: list[Change] = []  # change events this run's captures caused
        self.quote_changes: list[QuoteChange] = []
        self._done = self._total = 0  # progress
        self.templates: dict[str, TemplateIndex] = {}  # host -> link blocks of its pages seen in this run

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
        # Started before any thread (the fetcher's, the browser's): its workers are forked now.
        self.extraction = ExtractionPool()
        fetcher = Fetcher(self.options.fetch)
        # Every new capture of a URL already tracked is judged against its baseline, as a recheck would.
        self.judge = Judge(self.store, run_id, fetcher, CONFIRM_FAILURES)
        if self.options.uses_browser:
            self.pages = BrowserPages(self.archive, recorder, run_id, fetcher, self.options.browser_options)
        if self.options.media:
            self.media = MediaCapture(recorder, self.store, run_id, self.options.fetch, self.options.media_max_bytes)
        articles: list[dict[str, Any]] = []
        status = "failed"
        failure: BaseException | None = None
        try:
            articles = self._capture_articles(targets, fetcher, recorder)
            self._capture_sources(articles, fetcher, recorder)
            for article in articles:
                self._check_quotes(article)
            status = "finished"
        except BaseException as exc:
            failure = exc
            raise
        finally:
            closers = [c.close for c in (self.pages, self.media) if c is not None] + [recorder.close, fetcher.close, self.extraction.close]
            close_run(self.store, run_id, status, lambda: self._counts(articles), failure, *closers)
        return CaptureResult(run_id, str(self.archive.path), [self._public(a) for a in articles], self.changes, self.quote_changes)

    # -- articles --------------------------------------------------------------------------

    def _capture_articles(self, targets: list[Target], fetcher: Fetcher, recorder: Recorder) -> list[dict[str, Any]]:
        """Every target's article, in the targets' order; web articles are fetched concurrently."""
        first: dict[str, Target] = {}  # url -> the first plain-fetched target of that URL
        for target in targets:
            if target.path is None and not self.options.browser_for(target.url, "article"):
                first.setdefault(target.url, target)
        done: dict[int, dict[str, Any]] = {}
        if len(first) > 1:
            for url, result in fetcher.fetch_many((url, None) for url in first):
                done[id(first[url])] = self._capture_article(first[url], fetcher, recorder, result)
        return [done.pop(id(t)) if id(t) in done else self._capture_article(t, fetcher, recorder) for t in targets]

    def _capture_article(self, target: Target, fetcher: Fetcher, recorder: Recorder, fetched: FetchResult | None = None) -> dict[str, Any]:
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
            result = fetched if fetched is not None else fetcher.fetch(target.url)
            try:
                captured = recorder.record_fetch(url_id, result, extract=extract_keeping_document)
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
        # The article is a tracked page too: its own edits are change events.
        self._track(row, captured)
        if target.path is None:
            self._find_media(target.url, row, data, content_type)
        if row.get("error") and not data:
            article["error"] = row["error"]
        elif row.get("http_status") and not usable_answer(row["http_status"], None):
            article["error"] = f"http_status: the article answered HTTP {row['http_status']}"
        document = None
        if data and sniff_kind(data, content_type) == "html":
            # One decode and one parse of the page serve its text, its links, its quotations and
            # its requisites: the extractor's when it kept it for the very bytes read here.
            extracted = captured.extracted
            kept = extracted.document if extracted is not None and extracted.document is not None else None
            document = kept if kept is not None and not self.browsed.get(target.url) else html_document(data, content_type)
            if extracted is not None:
                extracted.document = None
        links = self._find_links(data, content_type, base, target, document) if data else ArticleLinks()
        self._limit_sources(links)
        article["links"] = links
        article["data"] = data
        article["document"] = document
        article["base"] = base or target.url
        article["target_obj"] = target
        article["source"] = "file" if target.path else "web"
        if captured.extracted is not None and captured.extracted.text:
            self.texts.add(target.url, captured.id)
        if article["error"] and not data:
            return article
        self._store_article(article, url_id, row, links, "file" if target.path else "web")
        return article

    def _limit_sources(self, links: ArticleLinks) -> None:
        limit_sources(links, self.options.max_sources, self.options.all_links)

    @staticmethod
    @staticmethod
    def _find_links(
        data: bytes, content_type: str | None, base: str | None, target: Target, document: HtmlDocument | None = None,
        templates: TemplateIndex | None = None,
    ) -> ArticleLinks:
        suffix = target.path.suffix if target.path is not None else None
        return find_article_links(data, content_type, base, target.url, suffix, document, templates)

    def _store_article(self, article: dict[str, Any], url_id: int, row: dict, links: ArticleLinks, source: str) -> None:
        """The article's row and a new version of it; a changed citation set is a change event of the article."""
        article["article_id"], article["version"], change = save_version(self.store, self.run_id, url_id, row, links, source)
        article["citations_change"] = change
        if change is not None:
            self.changes.append(change)

    def _revise_article(self, article: dict[str, Any], links: ArticleLinks) -> None:
        """The version just stored, with its links judged again (site templates known)."""
        superseded = article.get("citations_change")
        article["version"], change = revise_version(
            self.store, self.run_id, article["url_id"], article["capture"], links, article["version"], superseded
        )
        if superseded is not None:
            self.changes.remove(superseded)
        article["citations_change"] = change
        if change is not None:
            self.changes.append(change)

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
                if html is not None:
                    for url, _kind in find_requisites(html, article["capture"].get("final_url") or article["url"]):
                        if url not in article_urls:
                            jobs.setdefault(url, "requisite")
        return jobs

    @staticmethod
    def _article_html(article: dict[str, Any]):
        """The article's parsed tree (for its requisites), or None when it is not HTML."""
        document = article.get("document")
        return document.root if document is not None else None

    def _capture_sources(self, articles: list[dict[str, Any]], fetcher: Fetcher, recorder: Recorder) -> None:
        """Fetch every source; links shaped like a site template wait until the site's other pages are in.

        First wave: the citations nothing could overturn, among them (usually) other pages of the
        article's own site. Their link blocks show which of the article's link lists are the
        site's template; the article's links are judged again with that evidence, and the second
        wave fetches the citations that survive. With no such pages the lists stay citations.
        """
        jobs = self._source_jobs(articles)
        held = self._held_back(articles, jobs)
        self.templates = {}
        for article in articles:
            if any(link.provisional for link in article["links"].links) and article.get("document") is not None:
                self.templates.setdefault(host_of(article["base"]), TemplateIndex())
        for article in articles:  # several articles of one site are each other's siblings
            index = self.templates.get(host_of(article.get("base") or article["url"]))
            if index is not None and article.get("document") is not None:
                index.add_page(article["document"].root, article["base"])
        first = {url: kind for url, kind in jobs.items() if url not in held}
        self._total = len(articles) + len(first)
        self._done = len(articles)
        self._fetch_sources(first, fetcher, recorder)
        if not held:
            return
        for article in articles:
            self._judge_templates(article)
        rest = {url: kind for url, kind in self._source_jobs(articles).items() if url not in self.sources}
        self._total += len(rest)
        self._fetch_sources(rest, fetcher, recorder)

    @staticmethod
    def _held_back(articles: list[dict[str, Any]], jobs: dict[str, str]) -> set[str]:
        """Citations that only a site template could still overturn, and that nothing else needs first."""
        firm: set[str] = set()
        provisional: set[str] = set()
        for article in articles:
            for link in (article.get("links") or ArticleLinks()).links:
                if link.cited and link.skip_reason is None:
                    (provisional if link.provisional else firm).add(link.url)
        return {url for url in provisional - firm if jobs.get(url) == "citation"}

    def _judge_templates(self, article: dict[str, Any]) -> None:
        """Judge the article's links again, now that pages of its site show their templates."""
        index = self.templates.get(host_of(article.get("base") or article["url"]))
        if index is None or "article_id" not in article or article.get("document") is None:
            return
        if not any(sib.url != article["base"] for sib in index.siblings):
            return  # no other page of the site: no evidence, the lists stay citations
        links = self._find_links(article["data"], article["capture"].get("content_type"), article["base"], article["target_obj"], article["document"], index)
        self._limit_sources(links)
        article["links"] = links
        self._revise_article(article, links)

    def _fetch_sources(self, jobs: dict[str, str], fetcher: Fetcher, recorder: Recorder) -> None:
        pending = dict(jobs)
        # Resuming an interrupted run of the same targets: what it captured is not fetched again.
        for url in [u for u in pending if u in self.reusable]:
            row = self.reusable[url]
            del pending[url]
            found = text_of_capture(self.store, row["id"])  # its own texts row, or the one it shares
            if found and found[1]:
                self.texts.add(url, found[0])
            self.sources[url] = {"kind": jobs[url], "capture": row}
            if jobs[url] == "citation":
                self._track(row, None)
            self._done += 1
            self._tick(url)

        def in_process(url: str) -> Extractor | None:
            # A page of an article's own site is extracted here: its parsed tree is template evidence.
            return extract_keeping_document if jobs[url] == "citation" and host_of(url) in self.templates else None

        while pending:
            stylesheets: list[tuple[str, bytes]] = []
            in_browser = [u for u in pending if jobs[u] != "requisite" and self.options.browser_for(u, "source")]
            fetched = fetcher.fetch_ticking(((url, None) for url in pending if url not in in_browser), STORE_TICK)
            # Pipelined: texts are extracted in worker processes, rows stored in groups.
            for url, result, captured in recorder.record_many(fetched, self.store.url_id, self.extraction, in_process):
                try:
                    sibling = self.templates.get(host_of(url)) if jobs[url] == "citation" else None
                    row = captured.row
                    final = result.final
                    if sibling is not None and captured.extracted is not None and captured.extracted.document is not None:
                        # a page of the article's own site: its link blocks are template evidence
                        sibling.add_page(captured.extracted.document.root, row.get("final_url") or url)
                        captured.extracted.document = None
                    body = html_body(result) if jobs[url] != "requisite" else b""
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
                    if url not in jobs and url not in self.sources:
                        jobs[url] = pending[url] = "requisite"
                        self._total += 1

    def _source_captured(self, url: str, kind: str, captured: Captured) -> None:
        if captured.extracted is not None and captured.extracted.text:
            self.texts.add(url, captured.id)
        self.sources[url] = {"kind": kind, "capture": captured.row}
        if kind == "citation":
            self._track(captured.row, captured)
        self._done += 1
        self._tick(url)

    def _track(self, row: dict[str, Any], captured: Captured | None) -> None:
        """A tracked page captured: its first capture starts tracking, a later one is judged against its baseline."""
        verdict = self.judge.track(row, captured)
        if verdict is not None:
            change, quotes, _ok = verdict
            if change is not None:
                self.changes.append(change)
            self.quote_changes.extend(quotes)

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
        # Counting to EMPTY_WORDS is enough (splitting a long text whole cost more than storing it).
        if extracted is not None and len((extracted.text or "").split(maxsplit=EMPTY_WORDS - 1)) >= EMPTY_WORDS:
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
        article["quotes"] = save_quotes(
            self.store, self.run_id, article["article_id"], article["version"]["id"], article["links"], self.texts.get(article["url"]),
            article["capture"].get("final_url") or article["url"], self.texts,
            lambda url: self.sources.get(url, {}).get("capture", {}).get("id"),
        )

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
        version = article.get("version")
        if version is not None:
            out.version = version["version"]
            out.citations_added = list(version["added"])
            out.citations_removed = list(version["removed"])
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
        return {"urls_total": len(rows), "captured": len(rows) - failed, "failed": failed, "skipped": skipped, "changes": len(self.changes)}


def html_body(result: FetchResult) -> bytes:
    """A source's body for the checks that concern HTML pages only (looked empty, media);
    b"" for anything else, so a 2 GiB data file is not read into memory for them."""
    final = result.final
    if final is None or final.decoded is None:
        return b""
    final.decoded.seek(0)
    if sniff_kind(final.decoded.read(SNIFF_BYTES), final.content_type) != "html":
        return b""
    return body_of(result)
