"""The bundled sample citation web used by the README demo and the tests.

``SampleWeb`` serves invented sites (an opinion article on blog.example and the
sources it cites, and a second article citing in dated lists) through an HTTP forward proxy on 127.0.0.1, in three versions
that change the way a recheck should notice; ``expected_changes`` says how.
records.example is a local news site the article does not cite: each of its pages shows one
kind of change between versions 1 and 2 (``CHANGE_PAGES`` says which, and how it is summed up).
The ``articles/`` directory holds the same story as a Markdown file and as a
plain-text letter, for file-target tests.
"""

from pathlib import Path

from .routes import (
    ALL_CITED_SOURCES,
    ARCHIVE_URL,
    ARTICLE_REQUISITES,
    ARTICLE_URL,
    ASSEMBLY_HOME_URL,
    BOILERPLATE_LINKS,
    CHANGE_PAGES,
    CHANGE_SEVERITIES,
    CITED_SOURCES,
    COMMENTARY_URL,
    CORRECTION_URL,
    DYING_URL,
    EARLIER_POST_URL,
    INTERVIEW_URL,
    LAYOUT_URL,
    MOVED_TO_URL,
    MOVED_URL,
    NOISE_URL,
    PDF_URL,
    QUOTE_SOURCE,
    SEED_ARTICLE_URL,
    SEED_BOILERPLATE_LINKS,
    SEED_CITATIONS,
    SEED_CITED_SOURCES,
    TEMPLATE_LINKS,
    QUOTED_PASSAGE,
    STATEMENT_URL,
    TRANSCRIPT_1_URL,
    TRANSCRIPT_2_URL,
    VERSIONS,
    expected_changes,
)
from .server import SampleWeb

ARTICLES_DIR = Path(__file__).resolve().parent / "articles"
# A Markdown follow-up post: inline links, a reference-style link, an image, a quote.
MARKDOWN_ARTICLE = ARTICLES_DIR / "bridge-one-month-on.md"
# A plain-text letter: bare URLs (some with trailing punctuation) and quoted, dated titles without links.
TEXT_ARTICLE = ARTICLES_DIR / "letter-to-the-editor.txt"

# Absolute URLs the Markdown article cites (link targets, normalised, first-appearance order).
MARKDOWN_CITED: list[str] = [
    INTERVIEW_URL,
    TRANSCRIPT_1_URL,
    CORRECTION_URL,
    MOVED_URL,
    ARTICLE_URL,
]
# Bare URLs in the plain-text letter (without the punctuation that follows them in the text).
TEXT_CITED: list[str] = [
    PDF_URL,
    LAYOUT_URL,
    NOISE_URL,
    TRANSCRIPT_2_URL,
]
# References in the plain-text letter that have no URL: (quoted title, publication, date).
TEXT_UNLINKED_REFERENCES: list[tuple[str, str, str]] = [
    ("Evening ferries cut to one every forty minutes", "Local Wire", "3 September 2026"),
    ("Harlow & Venn named preferred bidder for Ansel bridge", "Coast Post", "8 October 2026"),
    ("A bridge in every manifesto", "The Slow Crossing", "3 November 2024"),
]

__all__ = [
    "SampleWeb",
    "CHANGE_PAGES",
    "CHANGE_SEVERITIES",
    "COMMENTARY_URL",
    "STATEMENT_URL",
    "expected_changes",
    "VERSIONS",
    "ARTICLE_URL",
    "CITED_SOURCES",
    "ALL_CITED_SOURCES",
    "SEED_ARTICLE_URL",
    "SEED_CITATIONS",
    "SEED_CITED_SOURCES",
    "SEED_BOILERPLATE_LINKS",
    "TEMPLATE_LINKS",
    "BOILERPLATE_LINKS",
    "ARTICLE_REQUISITES",
    "QUOTED_PASSAGE",
    "QUOTE_SOURCE",
    "ARCHIVE_URL",
    "EARLIER_POST_URL",
    "TRANSCRIPT_1_URL",
    "TRANSCRIPT_2_URL",
    "ASSEMBLY_HOME_URL",
    "INTERVIEW_URL",
    "PDF_URL",
    "NOISE_URL",
    "LAYOUT_URL",
    "CORRECTION_URL",
    "DYING_URL",
    "MOVED_URL",
    "MOVED_TO_URL",
    "ARTICLES_DIR",
    "MARKDOWN_ARTICLE",
    "TEXT_ARTICLE",
    "MARKDOWN_CITED",
    "TEXT_CITED",
    "TEXT_UNLINKED_REFERENCES",
]
