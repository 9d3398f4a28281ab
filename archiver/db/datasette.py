"""Datasette metadata for the archive database: which column names a row, and what each table is.

``archiver datasette-metadata`` prints it; ``datasette serve archive.db -m metadata.json``
then shows a URL where a foreign key would show a bare id (captures.url_id, citations.url_id,
captures.warc_file_id, ...) and describes every table and view.
"""

from __future__ import annotations

from typing import Any

from archiver import __version__

# The column Datasette shows for a row that a foreign key points at.
LABEL_COLUMNS = {
    "urls": "url",
    "articles": "title",
    "warc_files": "path",
    "runs": "started_at",
    "captures": "requested_url",
    "quotes": "text",
    "browser_loads": "final_url",
}

DESCRIPTIONS = {
    "runs": "One row per capture or recheck run: its command, settings and outcome.",
    "urls": "Every URL archiver knows, with its recheck schedule and its state (ok, failing, gone, soft_404).",
    "warc_files": "Every WARC file, with its size and sha256 once closed.",
    "captures": "One row per fetch: when, status, hashes, and where its record is (warc_file_id, offset, length).",
    "hops": "The redirect hops of a capture, each with its own WARC record.",
    "articles": "The articles captured: title, author, publication date.",
    "citations": "The links of each article, in order; cited = 1 for the article's citations.",
    "unlinked_references": "Sources an article names without a link.",
    "texts": "The main text extracted from a capture (full-text search: texts_fts).",
    "changes": "Change events: a cited source changed, went, moved or came back.",
    "quotes": "The article's quotations and whether their source still says them.",
    "quote_checks": "Every check of a quotation against its source.",
    "browser_loads": "Pages loaded in headless Chromium.",
    "browser_requests": "Each request a page made in the browser, and its outcome.",
    "attachments": "Records made from a capture: screenshots, rendered DOM, browser logs, media.",
    "sources_gone": "Cited sources that are gone or answer with a \"not found\" page, with the articles citing them.",
    "changes_this_week": "Change events detected in the last 7 days.",
    "quotations_altered": "Quotations their source no longer says word for word (altered) or at all (missing).",
    "article_status": "One row per article: its sources captured, changed, gone, and its quotations altered or missing.",
}


def datasette_metadata(title: str = "archiver") -> dict[str, Any]:
    """The metadata document for ``datasette serve archive.db --metadata FILE``."""
    tables: dict[str, Any] = {}
    for name, description in DESCRIPTIONS.items():
        entry: dict[str, Any] = {"description": description}
        if name in LABEL_COLUMNS:
            entry["label_column"] = LABEL_COLUMNS[name]
        tables[name] = entry
    for hidden in ("texts_fts", "texts_fts_config", "texts_fts_data", "texts_fts_docsize", "texts_fts_idx"):
        tables[hidden] = {"hidden": True}
    return {
        "title": title,
        "description": f"Provenance database of an archiver archive (archiver {__version__}); every table and column: docs/schema.md.",
        "databases": {"archive": {"tables": tables}},
    }
