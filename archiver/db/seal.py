"""Seals: tamper evidence for the rows the report states that the captures chain does not cover.

The captures chain (chain.py) fixes what was fetched. What archiver concluded from it (texts,
citations, quotations and their checks, change events, articles, URL states) and the captures
columns outside the chain (title, text_sha256, ip_address, ...) are rows that runs legitimately
add to, replace and update. So instead of chaining each write, every run ends with a seal:

    hash each covered row:  sha256(json([table, key, [its values in SEALED column order]]))
    sealed_rows gets a line for every row that is new or different since the last seal,
        and a line with sha256 NULL for every row that went away
    state digest = sha256 over the sorted "table key hash" lines of every covered row now
    seals row: (run, time, reason, newest captures row and its chain hash, state digest, count),
        seal_hash = sha256(previous seal_hash + "\\n" + json of those fields)

``verify`` recomputes every row hash and compares it with the last sealed one (listing each row
edited, inserted or deleted after its run ended), replays sealed_rows to check each seal's
digest, and walks the seal chain. ``archiver timestamp`` time-stamps the newest seal_hash, which
fixes the captures chain head too. Like the captures chain, seals show tampering only relative to
a head someone else holds (a token, a published head): whoever can rewrite the database can
re-seal it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from archiver.clock import iso_utc
from archiver.db.chain import GENESIS

# table -> (key column, covered columns). The lists are part of the format: a column added to a
# table later is not covered until it is added here, and adding it changes every row's hash.
SEALED: dict[str, tuple[str, tuple[str, ...]]] = {
    "captures": ("id", ("title", "text_sha256", "ip_address", "etag", "last_modified", "truncated", "redirects", "fingerprint")),
    "hops": ("id", ("capture_id", "hop", "url", "http_status", "location", "warc_file", "warc_offset", "warc_length", "warc_record_id")),
    "urls": ("id", ("url", "host", "first_seen", "state", "baseline_capture_id")),
    "articles": ("id", ("url_id", "title", "author", "published", "added_at", "capture_id", "source")),
    "citations": ("id", ("article_id", "url_id", "href", "anchor_text", "context", "position", "cited", "skip_reason", "item_date", "item_title", "list_heading", "evidence")),
    "unlinked_references": ("id", ("article_id", "text", "context", "position")),
    "texts": ("capture_id", ("url_id", "kind", "title", "text")),
    "changes": ("id", ("url_id", "from_capture_id", "to_capture_id", "kind", "similarity", "detail", "detected_at", "run_id")),
    "quotes": ("id", ("article_id", "text", "context", "position", "url_id", "status", "similarity", "checked_at", "capture_id", "version_id", "retired_at")),
    "quote_checks": ("id", ("quote_id", "capture_id", "run_id", "status", "similarity", "excerpt", "checked_at")),
    "attachments": ("id", ("capture_id", "load_id", "run_id", "kind", "uri", "created_at", "content_type", "content_length", "sha256", "record_type", "warc_file", "warc_offset", "warc_length", "warc_record_id", "truncated", "detail")),
    "browser_loads": ("id", ("capture_id", "url_id", "run_id", "started_at", "finished_at", "browser", "user_agent", "final_url", "title", "network_idle", "scrolled", "page_height", "requests", "fetched", "reused", "refused", "failed", "error", "notes")),
    "browser_requests": ("id", ("load_id", "position", "url", "method", "resource_type", "outcome", "http_status", "capture_id", "reason")),
    "mementos": ("id", ("run_id", "article_id", "url_id", "target_datetime", "target_source", "looked_up_at", "lookup_url", "mementos", "role", "memento_url", "memento_datetime", "capture_id", "compared_capture_id", "verdict", "similarity", "detail", "error")),
    "judgements": ("id", ("url_id", "capture_id", "run_id", "baseline_before", "baseline_after", "state", "change_id", "judged_at")),
    "article_versions": ("id", ("article_id", "version", "capture_id", "run_id", "created_at", "title", "text_sha256", "citations", "added", "removed")),
    "version_citations": ("id", ("version_id", "url_id", "href", "anchor_text", "context", "position", "cited", "skip_reason", "item_date", "item_title", "list_heading", "evidence")),
    "submissions": ("id", ("run_id", "url_id", "endpoint", "requested_at", "http_status", "memento_url", "memento_datetime", "error")),
}

SEAL_FIELDS = ("id", "run_id", "sealed_at", "reason", "capture_id", "chain_head", "state_digest", "rows")


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    return value


def row_hash(table: str, key: Any, values: Iterable[Any]) -> str:
    payload = json.dumps([table, key, [_plain(v) for v in values]], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def current_hashes(conn) -> dict[tuple[str, str], str]:
    """(table, key as text) -> hash of every covered row as the database holds it now."""
    found: dict[tuple[str, str], str] = {}
    for table, (key, columns) in SEALED.items():
        select = ", ".join(f"[{c}]" for c in (key, *columns))
        for row in conn.execute(f"SELECT {select} FROM [{table}]"):
            found[(table, str(row[0]))] = row_hash(table, row[0], row[1:])
    return found


def state_digest(hashes: dict[tuple[str, str], str]) -> str:
    digest = hashlib.sha256()
    for (table, key), value in sorted(hashes.items()):
        digest.update(f"{table}\t{key}\t{value}\n".encode())
    return digest.hexdigest()


def seal_hash(previous: str | None, seal: dict[str, Any]) -> str:
    payload = json.dumps([seal.get(name) for name in SEAL_FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(((previous or GENESIS) + "\n" + payload).encode("utf-8")).hexdigest()


def sealed_hashes(conn, up_to_seal: int | None = None) -> dict[tuple[str, str], str]:
    """(table, key) -> the hash the newest seal (or seal ``up_to_seal``) recorded for each row still present."""
    sql = "SELECT table_name, row_key, sha256 FROM sealed_rows"
    params: tuple = ()
    if up_to_seal is not None:
        sql += " WHERE seal_id <= ?"
        params = (up_to_seal,)
    found: dict[tuple[str, str], str] = {}
    for table, key, value in conn.execute(sql + " ORDER BY id", params):
        if value is None:
            found.pop((table, key), None)
        else:
            found[(table, key)] = value
    return found


def seal(conn, run_id: int | None, reason: str) -> dict[str, Any]:
    """Seal the covered rows as they are now (call inside a transaction); returns the seals row.

    Nothing new since the newest seal (no row changed, the same chain head): that seal is returned.
    """
    now = current_hashes(conn)
    before = sealed_hashes(conn)
    previous = conn.execute("SELECT id, seal_hash FROM seals ORDER BY id DESC LIMIT 1").fetchone()
    head = conn.execute("SELECT id, chain_hash FROM captures ORDER BY id DESC LIMIT 1").fetchone()
    if previous is not None and now == before:
        cursor = conn.execute("SELECT * FROM seals WHERE id = ?", (previous[0],))
        last = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
        if (last["capture_id"], last["chain_head"]) == ((head[0], head[1]) if head else (None, None)):
            return last
    row: dict[str, Any] = {
        "id": (previous[0] + 1) if previous else 1,
        "run_id": run_id,
        "sealed_at": iso_utc(),
        "reason": reason,
        "capture_id": head[0] if head else None,
        "chain_head": head[1] if head else None,
        "state_digest": state_digest(now),
        "rows": len(now),
    }
    row["seal_hash"] = seal_hash(previous[1] if previous else None, row)
    names = list(row)
    conn.execute(f"INSERT INTO seals ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", [row[n] for n in names])
    changed: list[tuple[Any, str, str, str | None]] = [(row["id"], t, k, h) for (t, k), h in now.items() if before.get((t, k)) != h]
    changed += [(row["id"], t, k, None) for (t, k) in before.keys() - now.keys()]
    conn.executemany("INSERT INTO sealed_rows (seal_id, table_name, row_key, sha256) VALUES (?, ?, ?, ?)", sorted(changed, key=lambda c: (c[1], c[2])))
    return row


@dataclass
class SealCheck:
    """What verify learns from the seals."""

    head: str | None = None  # the newest seal_hash
    latest: dict[str, Any] | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    differences: list[str] = field(default_factory=list)  # rows that differ from the newest seal


def check_seals(conn, capture_hashes: dict[int, str | None]) -> SealCheck:
    """Walk the seal chain, replay sealed_rows against each seal's digest, compare today's rows with the newest seal.

    ``capture_hashes``: captures id -> chain_hash, to check the captures head each seal names.
    """
    result = SealCheck()
    seals = [dict(zip([d[0] for d in cur.description], r, strict=True)) for cur in [conn.execute("SELECT * FROM seals ORDER BY id")] for r in cur.fetchall()]
    previous = None
    replayed: dict[tuple[str, str], str] = {}
    entries = conn.execute("SELECT seal_id, table_name, row_key, sha256 FROM sealed_rows ORDER BY seal_id, id").fetchall()
    position = 0
    for row in seals:
        expected = seal_hash(previous, row)
        if row["seal_hash"] != expected:
            result.problems.append(("seal", f"seal {row['id']}: seal hash does not match (seal edited, or a seal before it inserted or deleted)"))
        previous = row["seal_hash"] or expected
        while position < len(entries) and entries[position][0] <= row["id"]:
            _, table, key, value = entries[position]
            if value is None:
                replayed.pop((table, key), None)
            else:
                replayed[(table, key)] = value
            position += 1
        if state_digest(replayed) != row["state_digest"] or len(replayed) != row["rows"]:
            result.problems.append(("seal", f"seal {row['id']}: the sealed row hashes no longer add up to its digest (sealed_rows edited)"))
        if row["capture_id"] is not None and capture_hashes.get(row["capture_id"]) != row["chain_head"]:
            result.problems.append(
                ("seal", f"seal {row['id']}: it fixed chain head {row['chain_head']} at captures row {row['capture_id']}, which the chain no longer has")
            )
    if position < len(entries):
        result.problems.append(("seal", f"sealed_rows has {len(entries) - position} lines for seals that do not exist"))
    result.head = previous
    result.latest = seals[-1] if seals else None
    if seals:
        now = current_hashes(conn)
        for (table, key) in sorted(now.keys() | replayed.keys(), key=lambda k: (k[0], _sort_key(k[1]))):
            then, today = replayed.get((table, key)), now.get((table, key))
            if then == today:
                continue
            if then is None:
                result.differences.append(f"{table} row {key} was added after the last seal")
            elif today is None:
                result.differences.append(f"{table} row {key} was deleted after the last seal")
            else:
                result.differences.append(f"{table} row {key} was edited after the last seal")
    return result


def _sort_key(key: str) -> tuple[int, Any]:
    return (0, int(key)) if key.lstrip("-").isdigit() else (1, key)
