"""What is tracked, and changing that: listing articles and sources, pausing, resuming, untracking.

Nothing here deletes a row: an article removed from tracking keeps its captures, versions,
change events and WARC records; it is only left out of rechecks.
"""

from __future__ import annotations

from typing import Any

from archiver.clock import iso_utc
from archiver.db.queries import change_events, find_article, find_url_id
from archiver.db.store import Store
from archiver.errors import ArchiveError, NotFound, UsageError

# A source's status as the listing shows it: the recheck state, or paused.
SOURCE_STATUSES = ("ok", "failing", "gone", "soft_404", "paused")


def _needs_versions(store: Store) -> None:
    if not store.has_table("article_versions"):
        raise ArchiveError(
            f"{store.path} predates article versions and tracking states: open it for writing once "
            "(any capture or recheck upgrades the database) and list again"
        )


def _tracking(row: dict[str, Any]) -> str:
    if row.get("untracked_at"):
        return "untracked"
    if row.get("paused_at"):
        return "paused"
    return "tracked"


def list_articles(store: Store, tracking: str | None = None) -> list[dict[str, Any]]:
    """Every article with its tracking state, versions, and its sources' states counted."""
    _needs_versions(store)
    rows = store.rows(
        """SELECT a.id, u.url, a.title, a.source, a.added_at, a.paused_at, a.untracked_at, u.state,
                  (SELECT COUNT(*) FROM article_versions v WHERE v.article_id = a.id) AS versions,
                  (SELECT MAX(created_at) FROM article_versions v WHERE v.article_id = a.id) AS last_captured
             FROM articles a JOIN urls u ON u.id = a.url_id ORDER BY a.id"""
    )
    out = []
    for row in rows:
        states = store.rows(
            """SELECT CASE WHEN u.paused_at IS NOT NULL THEN 'paused' ELSE u.state END AS status, COUNT(DISTINCT u.id) AS n
                 FROM citations c JOIN urls u ON u.id = c.url_id
                WHERE c.article_id = ? AND c.cited = 1 GROUP BY 1""",
            (row["id"],),
        )
        counts = dict.fromkeys(SOURCE_STATUSES, 0)
        counts.update({s["status"]: s["n"] for s in states})
        item = {
            "id": row["id"],
            "url": row["url"],
            "title": row["title"],
            "source": row["source"],
            "tracking": _tracking(row),
            "state": row["state"],
            "added_at": row["added_at"],
            "last_captured": row["last_captured"],
            "versions": row["versions"],
            "sources": sum(counts.values()),
            "source_statuses": counts,
            # The article's history, as changes --article and its report count it.
            "changes": len(change_events(store, article=str(row["id"]))),
        }
        if tracking is None or item["tracking"] == tracking:
            out.append(item)
    return out


def list_sources(store: Store, article: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Every cited source (of one article, or of all) with its recheck state and schedule."""
    _needs_versions(store)
    if status is not None and status not in SOURCE_STATUSES:
        raise UsageError(f"status {status!r}: choose one of {', '.join(SOURCE_STATUSES)}")
    where, params = "", []
    if article is not None:
        where, params = "AND c.article_id = ?", [find_article(store, article)["id"]]
    rows = store.rows(
        f"""SELECT u.id, u.url, u.state, u.paused_at, u.first_seen, u.last_checked_at, u.next_check_at,
                   u.failure_streak, u.baseline_capture_id
              FROM urls u WHERE u.id IN (SELECT c.url_id FROM citations c WHERE c.cited = 1 AND c.url_id IS NOT NULL {where})
             ORDER BY u.url""",
        params,
    )
    out = []
    for row in rows:
        shown = "paused" if row["paused_at"] else row["state"]
        if status is not None and shown != status:
            continue
        citing = store.rows(
            """SELECT DISTINCT a.id, au.url, a.paused_at, a.untracked_at FROM citations c JOIN articles a ON a.id = c.article_id
                 JOIN urls au ON au.id = a.url_id WHERE c.url_id = ? AND c.cited = 1 ORDER BY a.id""",
            (row["id"],),
        )
        out.append(
            {
                "url": row["url"],
                "status": shown,
                "state": row["state"],
                "paused_at": row["paused_at"],
                "first_seen": row["first_seen"],
                "last_checked_at": row["last_checked_at"],
                "next_check_at": row["next_check_at"],
                "failure_streak": row["failure_streak"],
                "baseline_capture_id": row["baseline_capture_id"],
                "captures": store.value("SELECT COUNT(*) FROM captures WHERE url_id = ?", (row["id"],)),
                "changes": store.value("SELECT COUNT(*) FROM changes WHERE url_id = ?", (row["id"],)),
                "articles": [a["url"] for a in citing],
                # Rechecked while one article citing it is tracked and neither it nor that article is paused.
                "rechecked": not row["paused_at"] and any(not a["paused_at"] and not a["untracked_at"] for a in citing),
            }
        )
    return out


def set_paused(store: Store, paused: bool, article: str | None = None, source: str | None = None) -> dict[str, Any]:
    """Pause (or resume) the rechecks of an article (and, through it, its sources) or of one source."""
    if (article is None) == (source is None):
        raise UsageError("give an article or a source (exactly one)")
    value = iso_utc() if paused else None
    with store.transaction():
        if article is not None:
            row = find_article(store, article)
            if row.get("untracked_at") and paused:
                raise UsageError(f"{row['url']} is not tracked (archiver untrack): nothing to pause")
            store.update("articles", row["id"], {"paused_at": value})
            return {"article": row["url"], "source": None, "paused": paused, "was_paused": bool(row.get("paused_at"))}
        assert source is not None  # exactly one of article and source was given
        url_id = find_url_id(store, source)
        if not store.value("SELECT 1 FROM citations WHERE url_id = ? AND cited = 1", (url_id,)):
            raise NotFound(f"{source} is not a source any article cites")
        was = store.value("SELECT paused_at FROM urls WHERE id = ?", (url_id,))
        store.update("urls", url_id, {"paused_at": value})
        url = store.value("SELECT url FROM urls WHERE id = ?", (url_id,))
        return {"article": None, "source": url, "paused": paused, "was_paused": bool(was)}


def untrack(store: Store, article: str) -> dict[str, Any]:
    """Remove an article from tracking: no more rechecks for it (nor for sources only it cites).

    Its rows and WARC records stay: the counts returned say how much evidence is kept.
    Capturing the article again tracks it again.
    """
    row = find_article(store, article)
    with store.transaction():
        store.update("articles", row["id"], {"untracked_at": iso_utc(), "paused_at": None})
    only_here = store.value(
        """SELECT COUNT(DISTINCT c.url_id) FROM citations c WHERE c.article_id = ? AND c.cited = 1 AND c.url_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM citations o JOIN articles a ON a.id = o.article_id
                           WHERE o.url_id = c.url_id AND o.cited = 1 AND a.id != c.article_id AND a.untracked_at IS NULL)""",
        (row["id"],),
    )
    url_ids = [row["url_id"]] + [r["url_id"] for r in store.rows(
        "SELECT DISTINCT url_id FROM version_citations vc JOIN article_versions v ON v.id = vc.version_id WHERE v.article_id = ? AND url_id IS NOT NULL",
        (row["id"],),
    )]
    marks = ",".join("?" for _ in url_ids)
    return {
        "article": row["url"],
        "was_tracked": not row.get("untracked_at"),
        "sources_no_longer_rechecked": only_here,
        "kept": {
            "versions": store.value("SELECT COUNT(*) FROM article_versions WHERE article_id = ?", (row["id"],)),
            "captures": store.value(f"SELECT COUNT(*) FROM captures WHERE url_id IN ({marks})", url_ids),
            "changes": store.value(f"SELECT COUNT(*) FROM changes WHERE url_id IN ({marks})", url_ids),
            "warc_files": store.value(f"SELECT COUNT(DISTINCT warc_file) FROM captures WHERE url_id IN ({marks}) AND warc_file IS NOT NULL", url_ids),
        },
    }


def read_url_list(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """A file of URLs: ([(line number, URL)], [(line number, why skipped)]); blank lines and # comments are ignored."""
    lines, skipped = [], []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.lower().startswith(("http://", "https://")):
            skipped.append((number, f"line {number}: not an http(s) URL: {line[:200]}"))
            continue
        lines.append((number, line))
    return lines, skipped
