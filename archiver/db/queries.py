"""Read-only questions asked of the archive database (changes, texts, articles).

Shared by the CLI, recheck and reports so that each question has one answer.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from archiver.clock import iso_utc, parse_iso
from archiver.db.store import Store, shared_text_holder
from archiver.errors import NotFound
from archiver.urls import InvalidURL, normalise_url


def find_article(store: Store, article: str) -> dict[str, Any]:
    """An article by id, URL (normalised or as given) or file URI; LookupError when absent."""
    candidates = [article]
    try:
        candidates.append(normalise_url(article))
    except InvalidURL:
        pass
    for candidate in candidates:
        row = store.row(
            "SELECT a.*, u.url FROM articles a JOIN urls u ON u.id = a.url_id WHERE u.url = ? OR CAST(a.id AS TEXT) = ?",
            (candidate, candidate),
        )
        if row is not None:
            return row
    raise NotFound(f"no article {article!r} in this archive (list them: archiver query \"SELECT a.id, u.url FROM articles a JOIN urls u ON u.id = a.url_id\")")


def find_url_id(store: Store, url: str) -> int:
    for candidate in (url, _normalised(url)):
        if candidate:
            found = store.value("SELECT id FROM urls WHERE url = ?", (candidate,))
            if found is not None:
                return found
    raise NotFound(f"{url} is not in this archive")


def _normalised(url: str) -> str | None:
    try:
        return normalise_url(url)
    except InvalidURL:
        return None


def article_anchors(store: Store, article_id: int) -> dict[int, int]:
    """url id -> the first capture of that URL this article's history starts from.

    For each URL the article cites (in any version) and for the article itself: the first
    capture made at or after the article version that first cited it. What happened to the
    URL before (seen by another article's captures) is not this article's history; what
    happened after is, whichever command's capture noticed it.
    """
    if not store.has_table("article_versions"):
        return {}  # an archive from before article versions, opened read-only: its whole history
    firsts = store.rows(
        """SELECT vc.url_id AS url_id, MIN(v.created_at) AS since FROM version_citations vc
             JOIN article_versions v ON v.id = vc.version_id
            WHERE v.article_id = ? AND vc.cited = 1 AND vc.url_id IS NOT NULL GROUP BY vc.url_id
           UNION ALL
           SELECT a.url_id, COALESCE((SELECT MIN(created_at) FROM article_versions WHERE article_id = a.id), a.added_at)
             FROM articles a WHERE a.id = ?""",
        (article_id, article_id),
    )
    anchors: dict[int, int] = {}
    for row in firsts:
        found = store.value(
            "SELECT MIN(id) FROM captures WHERE url_id = ? AND fetched_at >= ?", (row["url_id"], row["since"])
        )
        if found is None:  # captured before the version's date (an interrupted run reused it)
            found = store.value("SELECT MAX(id) FROM captures WHERE url_id = ? AND fetched_at < ?", (row["url_id"], row["since"]))
        if found is not None:
            anchors[row["url_id"]] = min(found, anchors.get(row["url_id"], found))
    return anchors


def change_events(store: Store, since: str | None = None, article: str | None = None, kinds: list[str] | None = None) -> list[dict[str, Any]]:
    """Change events, oldest first, with their URL and the new capture's status."""
    where: list[str] = []
    params: list[Any] = []
    if since:
        try:
            since_iso = iso_utc(parse_iso(since if "T" in since else since + "T00:00:00Z"))
        except ValueError:
            raise ValueError(f"--since {since!r}: give an ISO 8601 date such as 2026-11-01") from None
        where.append("ch.detected_at >= ?")
        params.append(since_iso)
    if article:
        # The article's history: its own events and its sources' since it first cited each
        # (events caused by other articles' captures included).
        found = find_article(store, article)
        anchors = article_anchors(store, found["id"])
        if not store.has_table("article_versions"):  # an older archive opened read-only
            where.append("ch.url_id IN (SELECT url_id FROM citations WHERE article_id = ? UNION SELECT ?)")
            params += [found["id"], found["url_id"]]
        elif anchors:
            where.append("(" + " OR ".join("(ch.url_id = ? AND ch.to_capture_id > ?)" for _ in anchors) + ")")
            for url_id, capture_id in anchors.items():
                params += [url_id, capture_id]
        else:
            where.append("0")
    if kinds:
        where.append(f"ch.kind IN ({', '.join('?' for _ in kinds)})")
        params += kinds
    sql = """
        SELECT ch.id, ch.detected_at, ch.kind, u.url, ch.similarity, ch.detail, ch.from_capture_id, ch.to_capture_id,
               c.http_status, c.error, c.final_url, ch.run_id, ch.severity, ch.summary
          FROM changes ch JOIN urls u ON u.id = ch.url_id LEFT JOIN captures c ON c.id = ch.to_capture_id
    """
    if where:
        sql += " WHERE " + " AND ".join(where)
    # Oldest first. With --since, in the order of the detected_at index, so SQLite reads only
    # the recent events instead of walking every event in id order.
    sql += " ORDER BY ch.detected_at, ch.id" if since else " ORDER BY ch.id"
    events = store.rows(sql, params)
    for event in events:
        event["detail"] = json.loads(event["detail"]) if event["detail"] else {}
    return events


_MAX_REVISIT_DEPTH = 100  # a damaged database must not make a loop of revisits endless


def revisited(store: Store, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The captures a revisit row stands for, nearest first: the last one holds the bytes."""
    current = row
    for _ in range(_MAX_REVISIT_DEPTH):
        if not current.get("revisit_of"):
            return
        found = store.row("SELECT * FROM captures WHERE id = ?", (current["revisit_of"],))
        if found is None:
            return
        yield found
        current = found


def original_capture(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    """The capture holding the bytes of ``row``: itself, or the original a revisit refers to."""
    original = row
    for earlier in revisited(store, row):
        original = earlier
    return original


def text_holder(store: Store, row: dict[str, Any]) -> int | None:
    """The capture whose texts row holds the text of captures row ``row``, or None.

    Itself; for a revisit, the original it refers to; for a capture whose text was the same as
    an earlier capture's of the same URL (a page that changed only by noise), that earlier
    capture, whose row it shares (see Store.add_capture).
    """
    original = original_capture(store, row)
    if store.value("SELECT 1 FROM texts WHERE capture_id = ?", (original["id"],)):
        return original["id"]
    if not original.get("text_sha256"):
        return None
    return shared_text_holder(store, original["url_id"], original["text_sha256"], original["id"])


def text_of_capture(store: Store, capture_id: int) -> tuple[int, str] | None:
    """(capture id holding the text, text) for a capture, following revisits to their original
    and a text shared with an earlier capture to the row that holds it."""
    row = store.row("SELECT * FROM captures WHERE id = ?", (capture_id,))
    if row is None:
        return None
    holder = text_holder(store, row)
    text = store.value("SELECT text FROM texts WHERE capture_id = ?", (holder,)) if holder is not None else None
    return (holder, text) if holder is not None and text is not None else None


def capture_texts(store: Store, url: str, from_id: int | None = None, to_id: int | None = None) -> tuple[tuple[int, str], tuple[int, str]]:
    """The two captures of ``url`` to diff: given ids, else the latest two with distinct text."""
    url_id = find_url_id(store, url)
    if from_id is not None and to_id is not None:
        pair = []
        for capture_id in (from_id, to_id):
            if store.value("SELECT url_id FROM captures WHERE id = ?", (capture_id,)) != url_id:
                raise NotFound(f"capture {capture_id} is not a capture of {url}")
            found = text_of_capture(store, capture_id)
            if found is None:
                raise NotFound(f"capture {capture_id} has no extracted text (failed, or not a text document)")
            pair.append((capture_id, found[1]))
        return pair[0], pair[1]
    with_text = []  # every capture made with a text (not revisits), its own row or one it shares, newest first
    for row in store.rows("SELECT * FROM captures WHERE url_id = ? AND revisit_of IS NULL ORDER BY id DESC", (url_id,)):
        holder = text_holder(store, row)
        if holder is not None:
            with_text.append({"id": row["id"], "text": store.value("SELECT text FROM texts WHERE capture_id = ?", (holder,))})
    if to_id is not None:
        found = text_of_capture(store, to_id)
        if found is None:
            raise NotFound(f"capture {to_id} has no extracted text")
        newest = (to_id, found[1])
        with_text = [r for r in with_text if r["id"] < to_id]
    else:
        if not with_text:
            raise NotFound(f"no capture of {url} has extracted text")
        newest = (with_text[0]["id"], with_text[0]["text"])
        with_text = with_text[1:]
    if from_id is not None:
        found = text_of_capture(store, from_id)
        if found is None:
            raise NotFound(f"capture {from_id} has no extracted text")
        return (from_id, found[1]), newest
    for row in with_text:
        if row["text"] != newest[1]:
            return (row["id"], row["text"]), newest
    if with_text:
        return (with_text[0]["id"], with_text[0]["text"]), newest
    raise NotFound(f"only one capture of {url} has text: nothing to compare yet")


def failing_since(store: Store, url_id: int | None, last_good_id: int | None, upto_id: int | None) -> str | None:
    """When the run of failed checks that ended in a "gone" began: the first capture after the last good one."""
    if url_id is None or upto_id is None:
        return None
    return store.value(
        "SELECT MIN(fetched_at) FROM captures WHERE url_id = ? AND id > ? AND id <= ?", (url_id, last_good_id or 0, upto_id)
    )
