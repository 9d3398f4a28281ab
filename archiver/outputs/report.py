"""Provenance reports for one article: one data-gathering function, three renderers.

    gather_report(store, article)  -> a JSON-ready dict (its shape: docs/report-json.md)
    render_json / render_markdown / render_html (one self-contained, script-free file)

Every string that comes from a captured page is untrusted: the HTML renderer escapes it
and a Content-Security-Policy forbids scripts and outside requests besides.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shlex
from typing import Any
from urllib.parse import urlsplit

from archiver import __version__
from archiver.db.chain import check_chain
from archiver.outputs.proofs import TokenIndex, describe_memento, describe_token, memento_facts, seal_head
from archiver.clock import iso_utc
from archiver.analyze.diff import diff_summary, reflow, render_html as diff_html, word_diff
from archiver.analyze.answers import readable_capture
from archiver.analyze.kinds import CONTENT_KINDS, describe_change, seriousness
from archiver.db.queries import article_anchors, find_article, original_capture, text_of_capture
from archiver.db.store import Store
from archiver.warc.reader import read_payload
from archiver.words import error_words, http_status_words, human_date

REPORT_VERSION = 1
INLINE_SCREENSHOT_LIMIT = 8 << 20  # a larger screenshot is named in the HTML report, not shown
STATUSES = ("intact", "changed", "gone", "soft_404", "blocked", "moved", "restored", "never_captured")

_CAPTURE_FIELDS = (
    "id", "fetched_at", "requested_url", "final_url", "http_status", "content_type", "content_length",
    "payload_sha256", "warc_file", "warc_offset", "warc_length", "warc_record_id", "record_type",
    "warc_payload_digest", "revisit_of", "truncated", "error", "title",
)


# -- gathering ---------------------------------------------------------------------------------


def _capture(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: row.get(k) for k in _CAPTURE_FIELDS} if row else None


def _has_record(row: dict[str, Any]) -> bool:
    return bool(row.get("warc_file")) and (row.get("http_status") is not None or row.get("record_type") == "resource")


def describe_event(event: dict[str, Any], captures: list[dict[str, Any]] | None = None) -> str:
    """One sentence saying what a change event means (for people, not programs).

    With the URL's ``captures``, a "gone" also says over how long its failed checks came.
    """
    since, error, status = None, None, None
    if captures and event["kind"] == "gone":
        after, upto = event.get("from_capture_id") or 0, event.get("to_capture_id") or 0
        since = min((c["fetched_at"] for c in captures if after < c["id"] <= upto), default=None)
        # The failure as recorded ("proxy: through the proxy: RemoteDisconnected ...") says more than its code.
        found = next((c for c in captures if c["id"] == upto), None)
        error, status = (found.get("error"), found.get("http_status")) if found else (None, None)
    return describe_change(
        event["kind"], event.get("detail"), event.get("similarity"), error=error, http_status=status,
        failing_since=since, detected_at=event.get("detected_at"),
    )


def _check_outcome(latest: dict[str, Any], first: dict[str, Any] | None, events: list[dict[str, Any]], status: str,
                   captures: list[dict[str, Any]] | None = None) -> str:
    for event in events:
        if event["to_capture_id"] == latest["id"]:
            return describe_event(event, captures)
    if latest.get("error") and not latest.get("warc_file"):
        return f"no answer: {error_words(latest['error'])}"
    answered = f"the server answered {http_status_words(latest['http_status'])}" if latest.get("http_status") else ""
    if status in ("gone", "soft_404", "blocked") and first is not None and latest["id"] != first["id"]:
        return f"still {STATUS_LABELS[status]}" + (f" ({answered})" if answered else "")
    if first is not None and latest["id"] == first["id"]:
        return "first capture"
    # Nothing new at this check; for a source that changed earlier, "unchanged" alone would mislead.
    since = "since the first capture" if status == "intact" else "since the previous check"
    if latest.get("record_type") == "revisit":
        how = "the server said it has not changed" if latest.get("http_status") == 304 else "the same bytes as before"
        return f"no change {since} ({how})"
    if latest.get("http_status"):
        if first is not None and latest.get("payload_sha256") and latest["payload_sha256"] != first.get("payload_sha256"):
            # "Intact" between two different hashes needs saying why: only noise moved.
            return f"no change {since} ({answered}; different bytes, same main text: only noise such as dates, ads or tokens moved)"
        return f"no change {since} ({answered})"
    return "checked"


def _status(url_row, captures, events) -> tuple[str, str | None]:
    if not captures:
        return "never_captured", "not fetched"
    if not any(_has_record(c) for c in captures):
        return "never_captured", error_words(captures[0].get("error")) or "no answer was recorded"
    state = (url_row or {}).get("state") or "ok"
    kinds = [e["kind"] for e in events]
    if state == "gone":
        gone = [e for e in events if e["kind"] == "gone"]
        return "gone", describe_event(gone[-1], captures) if gone else None
    if state in ("soft_404", "blocked"):
        found = [e for e in events if e["kind"] == state]
        return state, describe_event(found[-1], captures) if found else None
    if not any(readable_capture(c) for c in captures):
        first = next(c for c in captures if _has_record(c))
        return "gone", f"the server answered {http_status_words(first['http_status'])} when it was first captured"
    if kinds and kinds[-1] in ("restored", "moved"):
        return kinds[-1], describe_event(events[-1], captures)
    if any(k in CONTENT_KINDS for k in kinds):
        return "changed", None
    return "intact", None


def _robust_link(url: str, anchor: str | None, first: dict[str, Any] | None, replay_base: str | None) -> dict[str, str] | None:
    """The Robust Links attributes: original URL, the version's date and (with a replay base) its URL."""
    if first is None:
        return None
    when = first["fetched_at"]
    link = {"href": url, "data-originalurl": url, "data-versiondate": when[:10]}
    if replay_base:
        stamp = re.sub(r"\D", "", when)[:14]
        base = replay_base if replay_base.endswith("/") else replay_base + "/"
        link["data-versionurl"] = f"{base}{stamp}/{first['requested_url'] or url}"
    return link


def _latest_text(store: Store, captures: list[dict[str, Any]]) -> tuple[int, str] | None:
    for row in reversed(captures):
        if readable_capture(row):
            found = text_of_capture(store, row["id"])
            if found is not None:
                return row["id"], found[1]
    return None


def citation_label(entry: dict[str, Any]) -> str:
    """How a citation is named: "2018-05-10: Title" for a dated list item, else its link text (or URL)."""
    title = entry.get("item_title") or entry.get("anchor_text") or entry["url"]
    return f"{entry['item_date']}: {title}" if entry.get("item_date") else title


def gather_report(store: Store, article: str, replay_base: str | None = None, archive_dir: str | None = None) -> dict[str, Any]:
    """Everything the report says about ``article`` (URL or id), as one JSON-ready dict."""
    art = find_article(store, article)
    art_capture = store.row("SELECT * FROM captures WHERE id = ?", (art["capture_id"],)) if art.get("capture_id") else None
    first_art = store.row("SELECT MIN(fetched_at) AS first FROM captures WHERE url_id = ? AND warc_file IS NOT NULL", (art["url_id"],))
    cites = store.rows(
        """SELECT c.*, u.url AS url, u.state AS state FROM citations c LEFT JOIN urls u ON u.id = c.url_id
           WHERE c.article_id = ? AND c.cited = 1 ORDER BY c.position""",
        (art["id"],),
    )
    versioned = store.has_table("article_versions")  # False: an older archive opened read-only
    quotes = store.rows(
        "SELECT * FROM quotes WHERE article_id = ?" + (" AND retired_at IS NULL" if versioned else "") + " ORDER BY position", (art["id"],)
    )
    for quote in quotes:
        quote["history"] = store.rows(
            "SELECT status, similarity, checked_at, capture_id, run_id FROM quote_checks WHERE quote_id = ? ORDER BY id", (quote["id"],)
        )

    entries, per_url = [], {}
    tokens = TokenIndex(store)
    anchors = article_anchors(store, art["id"])
    for cite in cites:
        url = cite["url"] or cite["href"]
        if cite["url_id"] not in per_url:
            per_url[cite["url_id"]] = _source(store, cite, quotes, replay_base, archive_dir, anchors.get(cite["url_id"]))
            per_url[cite["url_id"]].update(_timestamps(tokens, per_url[cite["url_id"]]))
            per_url[cite["url_id"]].update(memento_facts(store, art["id"], cite["url_id"], url))
        source = per_url[cite["url_id"]]
        entries.append(
            {
                "position": cite["position"],
                "anchor_text": cite["anchor_text"],
                "context": cite["context"],
                "item_date": cite.get("item_date"),
                "item_title": cite.get("item_title"),
                "list_heading": cite.get("list_heading"),
                "href": cite["href"],
                "url": url,
                **source,
                "robust_link": _robust_link(url, cite["anchor_text"], source["first_capture"], replay_base),
            }
        )

    sources: dict[str, str] = {}
    for entry in entries:
        sources.setdefault(entry["url"], entry["status"])
    source_counts = {"cited": len(sources), "captured": sum(1 for s in sources.values() if s != "never_captured")}
    source_counts.update({status: sum(1 for s in sources.values() if s == status) for status in STATUSES})
    quote_counts = {"total": len(quotes)}
    for status in ("present", "altered", "missing"):
        quote_counts[status] = sum(1 for q in quotes if q["status"] == status)
    quote_counts["unchecked"] = sum(1 for q in quotes if q["status"] not in ("present", "altered", "missing"))

    unlinked = store.rows("SELECT position, text, context FROM unlinked_references WHERE article_id = ? ORDER BY position", (art["id"],))
    head = chain_head(store)
    files = sorted(
        {e["first_capture"]["warc_file"] for e in entries if e["first_capture"] and e["first_capture"]["warc_file"]}
        | {e["latest_check"]["warc_file"] for e in entries if e["latest_check"] and e["latest_check"]["warc_file"]}
        | ({art_capture["warc_file"]} if art_capture and art_capture.get("warc_file") else set())
    )
    file_rows = {r["path"]: r for r in store.rows("SELECT path, size, sha256, closed_at FROM warc_files")}

    report = {
        "report_version": REPORT_VERSION,
        "generated_at": iso_utc(),
        "software": f"archiver/{__version__}",
        "archive": {"path": archive_dir, "chain_head": head, "captures": captures_count(store), "seal_head": seal_head(store)},
        "article": {
            "id": art["id"],
            "url": art["url"],
            "title": art.get("title"),
            "author": art.get("author"),
            "published": art.get("published"),
            "source": art.get("source"),
            "first_captured": (first_art or {}).get("first") or (art_capture or {}).get("fetched_at"),
            "capture": _capture(art_capture),
            "version_url": ((_robust_link(art["url"], None, art_capture, replay_base) or {}) if art_capture else {}).get("data-versionurl"),
            "screenshots": _screenshots(store, art["url_id"], archive_dir),
            "timestamp": tokens.covering(art_capture["id"] if art_capture else None),
            "versions": _versions(store, art["id"]),
            "changes": _article_changes(store, art["url_id"], anchors.get(art["url_id"])),
        },
        "summary": {
            "citations": len(entries),
            "sources": source_counts,
            "quotations": quote_counts,
            "unlinked_references": len(unlinked),
            "change_events": sum(len(s["changes"]) for s in per_url.values()),
        },
        "changes_by_seriousness": _by_seriousness(entries),
        "citations": entries,
        "unattributed_quotations": [_quote(q) for q in quotes if q["url_id"] is None],
        "unlinked_references": unlinked,
        "verification": {
            "warc_files": [
                {"path": f, "size": (file_rows.get(f) or {}).get("size"), "sha256": (file_rows.get(f) or {}).get("sha256")} for f in files
            ],
            "commands": _verify_commands(art, art_capture, entries, files, file_rows, head, store),
        },
    }
    return report


def _timestamps(tokens: TokenIndex, source: dict[str, Any]) -> dict[str, Any]:
    """The earliest time-stamp tokens covering a source's first capture and its latest check."""
    first, latest = source.get("first_capture"), source.get("latest_check")
    return {
        "first_capture_timestamp": tokens.covering(first["id"] if first else None),
        "latest_check_timestamp": tokens.covering(latest["id"] if latest else None),
    }
def _versions(store: Store, article_id: int) -> list[dict[str, Any]]:
    """Every recorded version of the article: when, from which capture, its citations added and removed."""
    if not store.has_table("article_versions"):
        return []
    rows = store.rows(
        "SELECT version, capture_id, created_at, title, text_sha256, citations, added, removed FROM article_versions WHERE article_id = ? ORDER BY version",
        (article_id,),
    )
    for row in rows:
        row["added"] = json.loads(row["added"]) if row["added"] else []
        row["removed"] = json.loads(row["removed"]) if row["removed"] else []
    return rows


def _article_changes(store: Store, url_id: int, anchor: int | None) -> list[dict[str, Any]]:
    """The article's own change events: its text edited, its citations added or removed, gone."""
    events = store.rows("SELECT * FROM changes WHERE url_id = ? AND to_capture_id > ? ORDER BY id", (url_id, anchor or 0))
    out = []
    for e in events:
        e["detail"] = json.loads(e["detail"]) if e["detail"] else {}
        out.append(
            {"id": e["id"], "detected_at": e["detected_at"], "kind": e["kind"], "similarity": e["similarity"],
             "from_capture_id": e["from_capture_id"], "to_capture_id": e["to_capture_id"], "detail": e["detail"],
             "description": describe_event(e)}
        )
    return out


def _quote(q: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": q["id"],
        "text": q["text"],
        "context": q["context"],
        "status": q["status"],
        "similarity": q["similarity"],
        "checked_at": q["checked_at"],
        "capture_id": q["capture_id"],
        "history": q.get("history", []),
    }


def _screenshots(store: Store, url_id: int, archive_dir: str | None) -> dict[str, Any] | None:
    """The first and the latest screenshot of a URL (a browser capture), with the PNG for the HTML report."""
    try:
        shots = store.rows(
            """SELECT a.*, c.fetched_at FROM attachments a JOIN captures c ON c.id = a.capture_id
               WHERE c.url_id = ? AND a.kind = 'screenshot' ORDER BY a.id""",
            (url_id,),
        )
    except Exception:  # noqa: BLE001 -- an archive from before browser capture
        return None
    if not shots:
        return None
    out: dict[str, dict[str, Any] | None] = {}
    for which, shot in (("first", shots[0]), ("latest", shots[-1])):
        if which == "latest" and shot["id"] == shots[0]["id"]:
            out["latest"] = None
            continue
        detail = json.loads(shot["detail"]) if shot["detail"] else {}
        entry = {
            "capture_id": shot["capture_id"],
            "fetched_at": shot["fetched_at"],
            "sha256": shot["sha256"],
            "width": detail.get("width"),
            "height": detail.get("height"),
            "cut": detail.get("cut", False),
            "warc_file": shot["warc_file"],
            "warc_offset": shot["warc_offset"],
            "warc_record_id": shot["warc_record_id"],
        }
        if archive_dir and (shot["content_length"] or 0) <= INLINE_SCREENSHOT_LIMIT:
            try:
                png = read_payload(archive_dir, shot["warc_file"], shot["warc_offset"], INLINE_SCREENSHOT_LIMIT)
            except (OSError, StopIteration, ValueError):
                png = None
            # Only what the database vouches for goes into the report.
            if png is not None and hashlib.sha256(png).hexdigest() == shot["sha256"] and png.startswith(b"\x89PNG\r\n\x1a\n"):
                entry["_png"] = png
        out[which] = entry
    return out


def _source(
    store: Store, cite: dict[str, Any], quotes: list[dict[str, Any]], replay_base: str | None, archive_dir: str | None = None,
    anchor: int | None = None,
) -> dict[str, Any]:
    """What the archive knows about one cited URL (shared by citations of the same URL).

    ``anchor``: the first capture of the URL since this article cited it; captures and change
    events before it belong to other articles' history (see queries.article_anchors).
    """
    url_id = cite["url_id"]
    if url_id is None:
        return {
            "status": "never_captured", "status_reason": cite.get("skip_reason") or "not fetched",
            "first_capture": None, "latest_check": None, "captures": 0, "changes": [], "quotations": [], "diff": None,
            "screenshots": None,
        }
    url_row = store.row("SELECT * FROM urls WHERE id = ?", (url_id,))
    since = anchor or 0
    captures = store.rows("SELECT * FROM captures WHERE url_id = ? AND id >= ? ORDER BY id", (url_id, since))
    events = store.rows("SELECT * FROM changes WHERE url_id = ? AND to_capture_id > ? ORDER BY id", (url_id, since))
    for event in events:
        event["detail"] = json.loads(event["detail"]) if event["detail"] else {}
    status, reason = _status(url_row, captures, events)
    if status == "never_captured" and cite.get("skip_reason"):
        reason = cite["skip_reason"]
    first = next((c for c in captures if _has_record(c)), None)
    latest = captures[-1] if captures else None
    latest_check = None
    if latest is not None:
        latest_check = {**(_capture(latest) or {}), "outcome": _check_outcome(latest, first, events, status, captures)}
    diff = None
    if status in ("changed", "moved", "restored") and first is not None:
        before = text_of_capture(store, first["id"])
        after = _latest_text(store, captures)
        if before and after and before[1] != after[1]:
            old_text, new_text = before[1], after[1]
            if any("pdf" in (c.get("content_type") or "") for c in (first, latest) if c is not None):
                # A PDF's text breaks at the end of every printed line; the diff reads as sentences.
                old_text, new_text = reflow(old_text), reflow(new_text)
            ops = word_diff(old_text, new_text)
            summary = diff_summary(ops)
            diff = {"from_capture_id": first["id"], "to_capture_id": after[0], **summary, "_ops": ops}
    return {
        "status": status,
        "status_reason": reason,
        "first_capture": _capture(first),
        "latest_check": latest_check,
        "captures": len(captures),
        "changes": [
            {
                "id": e["id"], "detected_at": e["detected_at"], "kind": e["kind"], "similarity": e["similarity"],
                "from_capture_id": e["from_capture_id"], "to_capture_id": e["to_capture_id"], "detail": e["detail"],
                "severity": e.get("severity"), "summary": (e.get("summary") or "").split("\n") if e.get("summary") else [],
                "description": describe_event(e, captures),
            }
            for e in events
        ],
        "quotations": [_quote(q) for q in quotes if q["url_id"] == url_id],
        "diff": diff,
        "screenshots": _screenshots(store, url_id, archive_dir),
    }


def _by_seriousness(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every change event of the cited sources, most serious first (kind, then severity), newest first within."""
    seen, events = set(), []
    for entry in entries:
        for change in entry["changes"]:
            if change["id"] not in seen:
                seen.add(change["id"])
                events.append({"url": entry["url"], **{k: change[k] for k in ("id", "detected_at", "kind", "severity", "description")}})
    events.sort(key=lambda c: c["detected_at"], reverse=True)
    return sorted(events, key=lambda c: seriousness(c["kind"], c["severity"]))


def _verify_commands(art, art_capture, entries, files, file_rows, head, store: Store) -> list[dict[str, Any]]:
    """Commands that recompute the report's hashes from the WARC files with warcio alone."""
    commands = [
        {"description": "Install warcio, the reference WARC library (independent of archiver).", "command": "pip install warcio", "expect": None},
    ]
    for path in files:
        sha = (file_rows.get(path) or {}).get("sha256")
        if sha:
            commands.append({"description": "The WARC file's sha256, as recorded when it was closed.", "command": f"sha256sum {shlex.quote(path)}", "expect": sha})
    if files:
        commands.append(
            {"description": "Check every record's WARC-Block-Digest and WARC-Payload-Digest.", "command": "warcio check -v " + " ".join(shlex.quote(f) for f in files), "expect": "no 'digest failed' lines"}
        )
    seen = set()
    rows = [art_capture] if art_capture else []
    rows += [e["first_capture"] for e in entries if e["first_capture"]]
    for row in rows:
        if row["id"] in seen or not row.get("payload_sha256"):
            continue
        seen.add(row["id"])
        holder = original_capture(store, row)
        commands.append(
            {
                "description": f"Payload sha256 of {row['final_url'] or row['requested_url']} as captured {human_date(row['fetched_at'])} (capture {row['id']}).",
                "command": f"warcio extract --payload {shlex.quote(holder['warc_file'])} {holder['warc_offset']} | sha256sum",
                "expect": row["payload_sha256"],
            }
        )
    commands.append(
        {"description": "With archiver: recheck all of the above and the database's hash chain.", "command": f"archiver --archive . verify --article {shlex.quote(art['url'])} --head {head}", "expect": "exit status 0"}
    )
    return commands


# -- rendering -----------------------------------------------------------------------------------

STATUS_LABELS = {
    "intact": "intact",
    "changed": "changed",
    "gone": "gone",
    "soft_404": "soft 404",
    "blocked": "blocked",
    "moved": "moved",
    "restored": "restored",
    "never_captured": "never captured",
}


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(_public(report), indent=2, ensure_ascii=False)


def _public(value: Any) -> Any:
    """The report without renderer-only keys (those starting with '_')."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


_MD_SPECIAL = re.compile(r"([\\`*\[\]|~])")


def _published(value: str | None) -> str | None:
    """A publication date as people write it; a bare date stays a date."""
    if not value:
        return value
    return human_date(value, with_time="T" in value or ":" in value)


def md(text: Any) -> str:
    """Page text made inert in Markdown: no markup, no raw HTML, one line."""
    if text is None:
        return ""
    value = " ".join(str(text).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", value)


def md_link(url: str) -> str:
    """A clickable autolink where the URL allows one, else the URL as code."""
    if re.fullmatch(r"https?://[^\s<>`\\]+", url):
        return f"<{url}>"
    return md_code(url)


def md_code(text: Any) -> str:
    value = " ".join(str(text).split()).replace("`", "'")
    return f"`{value}`"


def _where(cap: dict[str, Any] | None) -> str:
    if not cap or not cap.get("warc_file"):
        return "-"
    return f"{cap['warc_file']} @ {cap['warc_offset']}"


def _first_and_latest(entry: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A citation's first capture, and its latest check when that is another capture (both renderers)."""
    first, latest = entry["first_capture"], entry["latest_check"]
    if latest and first and latest["id"] == first["id"]:
        latest = None
    return first, latest


def _http(cap: dict[str, Any]) -> str:
    return str(cap["http_status"]) if cap["http_status"] is not None else "-"


def render_markdown(report: dict[str, Any]) -> str:
    art = report["article"]
    s = report["summary"]
    src, q = s["sources"], s["quotations"]
    cap = art["capture"] or {}
    out = [f"# Provenance report: {md(art['title'] or art['url'])}", ""]
    out += [
        f"- URL: {md_code(art['url'])}",
        f"- Author: {md(art['author']) or 'unknown'}",
        f"- Published: {md(_published(art['published'])) or 'unknown'}",
        f"- First captured: {human_date(art['first_captured']) or 'never'}",
        *([f"- Archived copy: {md_link(art['version_url'])}"] if art.get("version_url") else []),
        f"- Payload sha256: {md_code(cap.get('payload_sha256') or '-')}",
        f"- WARC: {md_code(_where(cap))} (record {md_code(cap.get('warc_record_id') or '-')})",
        f"- Time-stamped: {md(describe_token(art.get('timestamp')))}",
        *_md_screenshots(art.get("screenshots")),
        f"- Report generated {human_date(report['generated_at'])} by {report['software']}; archive chain head {md_code(report['archive']['chain_head'])}",
        "",
        "## Summary",
        "",
        f"- Sources cited: {src['cited']}; captured: {src['captured']}; intact: {src['intact']}; changed: {src['changed']}; "
        f"gone: {src['gone']}; soft 404: {src['soft_404']}; blocked: {src['blocked']}; moved: {src['moved']}; restored: {src['restored']}; never captured: {src['never_captured']}",
        f"- Quotations: {q['total']}; present: {q['present']}; altered: {q['altered']}; missing: {q['missing']}",
        f"- Unlinked references (not vouched for): {s['unlinked_references']}",
        "",
    ]
    if report["changes_by_seriousness"]:
        out += ["## Changes, most serious first", ""]
        out += [f"- {human_date(c['detected_at'])}: {md_code(c['url'])}: {md(c['description'])}" for c in report["changes_by_seriousness"]]
        out.append("")
    if len(art["versions"]) > 1 or art["changes"]:
        out += ["## The article's own history", ""]
        for v in art["versions"]:
            delta = ""
            if v["version"] > 1:
                delta = f"; cites {len(v['added'])} new, no longer cites {len(v['removed'])}"
            out.append(f"- Version {v['version']}: captured {v['created_at']} (capture {v['capture_id']}), {v['citations']} sources cited{delta}")
            out += [f"  - added: {md_code(u)}" for u in v["added"]] + [f"  - removed: {md_code(u)}" for u in v["removed"]]
        for change in art["changes"]:
            out.append(f"- {change['detected_at']}: {md(change['description'])}")
        out.append("")
    out += ["## Citations", ""]
    for number, entry in enumerate(report["citations"], 1):
        out.append(f"### {number}. {md(citation_label(entry))} — {STATUS_LABELS[entry['status']]}")
        out.append("")
        if entry["context"]:
            out.append(f"> {md(entry['context'])}")
            out.append("")
        out.append(f"- Source: {md_code(entry['url'])}")
        if entry["status_reason"]:
            out.append(f"- Status: {STATUS_LABELS[entry['status']]} ({md(entry['status_reason'])})")
        else:
            out.append(f"- Status: {STATUS_LABELS[entry['status']]}")
        first, latest = _first_and_latest(entry)
        if first:
            out.append(
                f"- First capture: {human_date(first['fetched_at'])}, HTTP {_http(first)}, "
                f"sha256 {md_code(first['payload_sha256'] or '-')}, {md_code(_where(first))}"
            )
            out.append(f"- First capture time-stamped: {md(describe_token(entry.get('first_capture_timestamp')))}")
        if latest:
            out.append(f"- Latest check, {human_date(latest['fetched_at'])}: {md(latest['outcome'])}")
            out.append(f"- Latest check time-stamped: {md(describe_token(entry.get('latest_check_timestamp')))}")
        if entry["robust_link"]:
            if entry["robust_link"].get("data-versionurl"):
                out.append(f"- Archived copy: {md_link(entry['robust_link']['data-versionurl'])}")
            out.append(f"- Robust link: {md_code(robust_anchor(entry['robust_link'], entry['anchor_text'] or entry['url']))}")
        out += _md_mementos(entry)
        out += _md_screenshots(entry.get("screenshots"))
        if entry["changes"]:
            out.append("- Timeline:")
            for change in entry["changes"]:
                out.append(f"  - {human_date(change['detected_at'])}: {md(change['description'])}")
        for quote in entry["quotations"]:
            sim = f", similarity {quote['similarity']:.2f}" if quote["similarity"] is not None and quote["status"] != "present" else ""
            out.append(f"- Quotation ({quote['status']}{sim}): “{md(quote['text'])}”")
        if entry["diff"]:
            d = entry["diff"]
            # The word counts are the timeline's, one per change; this names the diff to read.
            command = f"archiver diff {shlex.quote(entry['url'])} --from {d['from_capture_id']} --to {d['to_capture_id']}"
            out.append(f"- Word diff of the text, first capture → latest: in the HTML report, or {md_code(command)}")
        out.append("")
    if report["unattributed_quotations"]:
        out += ["## Quotations not found in any cited source", ""]
        out += [f"- ({q['status']}) “{md(q['text'])}”" for q in report["unattributed_quotations"]]
        out.append("")
    out += ["## Unlinked references", ""]
    if report["unlinked_references"]:
        out.append("The article names these without a link; this report cannot vouch for them.")
        out.append("")
        out += [f"- {md(r['text'])} — {md(r['context'])}" for r in report["unlinked_references"]]
    else:
        out.append("None.")
    out += ["", "## How to verify", "", "Run these in the archive directory; each prints the value shown after it.", ""]
    for command in report["verification"]["commands"]:
        out.append(f"- {md(command['description'])}")
        out.append("")
        out.append("  ```")
        out.append(f"  {command['command']}")
        out.append("  ```")
        if command["expect"]:
            out.append(f"  expect: {md_code(command['expect'])}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_mementos(entry: dict[str, Any]) -> list[str]:
    """What public web archives held of the source around the day it was cited."""
    found = entry.get("mementos") or {}
    out = []
    if found.get("looked_up"):
        if found.get("error"):
            out.append(f"- Web archives: lookup failed ({md(found['error'])})")
        elif not found.get("closest"):
            out.append("- Web archives: no memento of this source")
        for role in ("earlier", "closest"):
            memento = found.get(role)
            if memento and not (role == "closest" and found.get("earlier") and found["earlier"]["memento_url"] == memento["memento_url"]):
                out.append(f"- {md(describe_memento(memento, role.capitalize()))}: {md_code(robust_anchor(memento['robust_link'], entry['anchor_text'] or entry['url']))}")
    for saved in entry.get("submissions") or []:
        out.append(f"- Saved by a public archive on request {saved['requested_at']}: {md_code(saved['memento_url'] or '-')}{' (' + md(saved['error']) + ')' if saved['error'] else ''}")
    return out


def _html_mementos(entry: dict[str, Any]) -> str:
    e = html.escape
    found = entry.get("mementos") or {}
    parts = []
    if found.get("looked_up"):
        if found.get("error"):
            parts.append(f"<dt>Web archives</dt><dd>lookup failed ({e(found['error'])})</dd>")
        elif not found.get("closest"):
            parts.append("<dt>Web archives</dt><dd>no memento of this source</dd>")
        for role in ("earlier", "closest"):
            memento = found.get(role)
            if memento and not (role == "closest" and found.get("earlier") and found["earlier"]["memento_url"] == memento["memento_url"]):
                parts.append(f"<dt>{e(role.capitalize())} memento</dt><dd>{e(describe_memento(memento, role.capitalize()))}<br>{robust_anchor(memento['robust_link'], entry['anchor_text'] or entry['url'])}</dd>")
    for saved in entry.get("submissions") or []:
        parts.append(f"<dt>Saved on request</dt><dd>{e(saved['requested_at'])}: <code>{e(saved['memento_url'] or saved['error'] or '-')}</code></dd>")
    return "".join(parts)


def _md_screenshots(shots: dict[str, Any] | None) -> list[str]:
    lines = []
    for which, label in (("first", "Screenshot"), ("latest", "Latest screenshot")):
        shot = (shots or {}).get(which)
        if shot:
            cut = ", cut at that height" if shot["cut"] else ""
            lines.append(
                f"- {label}: {human_date(shot['fetched_at'])}, {shot['width']}×{shot['height']} px{cut}, sha256 {md_code(shot['sha256'])}, "
                f"{md_code(shot['warc_file'] + ' @ ' + str(shot['warc_offset']))}"
            )
    return lines


def _html_screenshots(shots: dict[str, Any] | None, subject: str) -> str:
    """The screenshots as data: images (the report's CSP allows images from data: and nothing else)."""
    if not shots:
        return ""
    e = html.escape
    figures = []
    for which, label in (("first", "first capture"), ("latest", "latest capture")):
        shot = shots.get(which)
        if not shot:
            continue
        caption = f"Screenshot, {label}: {human_date(shot['fetched_at'])}, {shot['width']}×{shot['height']} px" + (", cut at that height" if shot["cut"] else "")
        if shot.get("_png"):
            image = (
                f'<div class="shot"><img src="data:image/png;base64,{base64.b64encode(shot["_png"]).decode("ascii")}" '
                f'width="{int(shot["width"] or 0)}" height="{int(shot["height"] or 0)}" alt="{e(caption + " of " + subject, quote=True)}"></div>'
            )
        else:
            image = "<p>(not shown: too large or not readable here; read it from the WARC record below)</p>"
        figures.append(
            f"<figure>{image}<figcaption>{e(caption)}<br>sha256 <code>{e(shot['sha256'] or '-')}</code> "
            f"<code>{e(shot['warc_file'])} @ {shot['warc_offset']}</code></figcaption></figure>"
        )
    return '<div class="shots">' + "".join(figures) + "</div>"


def robust_anchor(link: dict[str, str], text: str) -> str:
    """An <a> carrying the Robust Links attributes, every value escaped."""
    attrs = "".join(f' {name}="{html.escape(value, quote=True)}"' for name, value in link.items() if name != "href")
    return f'<a href="{html.escape(_safe_href(link["href"]), quote=True)}"{attrs}>{html.escape(" ".join(text.split()))}</a>'


def _safe_href(url: str | None) -> str:
    """Only web and file URLs become links: a javascript: or data: URL must not be clickable."""
    if not url:
        return "#"
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https", "file") else "#"


_CSS = """
:root{--fg:#1d1d1f;--muted:#5f6368;--line:#ddd;--ok:#1e7b34;--warn:#a15c00;--bad:#b3261e;--bg:#fff}
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:52rem;padding:1rem;overflow-wrap:anywhere}
li,p,h1,h2,h3,summary,blockquote,figcaption{overflow-wrap:anywhere;min-width:0}
h1{font-size:1.5rem;line-height:1.25}h2{font-size:1.2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem;margin:0 0 .4rem}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:.4rem 0}dt{color:var(--muted)}dd{margin:0;min-width:0;overflow-wrap:anywhere}
.summary{display:flex;flex-wrap:wrap;gap:.5rem;padding:0;list-style:none}.summary li{border:1px solid var(--line);border-radius:.4rem;padding:.3rem .6rem}
.cite{border:1px solid var(--line);border-radius:.5rem;padding:.8rem;margin:1rem 0}
blockquote{margin:.4rem 0;padding-left:.8rem;border-left:3px solid var(--line);color:var(--muted)}
.badge{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.85rem;color:#fff;background:var(--muted)}
.s-intact,.q-present{background:var(--ok)}.s-changed,.s-moved,.s-restored,.q-altered{background:var(--warn)}.s-gone,.s-soft_404,.s-blocked,.s-never_captured,.q-missing{background:var(--bad)}
.diff{white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid var(--line);border-radius:.4rem;padding:.5rem;font-size:.9rem}
summary{cursor:pointer;color:var(--muted);margin:.4rem 0}a.replay{font-weight:600}
@media (max-width:30rem){body{padding:.6rem}dl{grid-template-columns:1fr}dt{margin-top:.3rem}}
@media print{details>summary{list-style:none}.diff{border:0;padding:0}}
del{background:#fde2e1;color:#8c1d18}ins{background:#dcf5e3;color:#0d5323;text-decoration:none}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5rem;border-radius:.3rem}
ol.timeline{padding-left:1.2rem;margin:.3rem 0}a{color:#0b57d0}
.shots{display:flex;flex-wrap:wrap;gap:.8rem;margin:.5rem 0}figure{margin:0;flex:1 1 20rem;min-width:0}
.shot{max-height:28rem;overflow:auto;border:1px solid var(--line);border-radius:.4rem}.shot img{display:block;width:100%;height:auto}
figcaption{font-size:.8rem;color:var(--muted);overflow-wrap:anywhere}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--muted:#9aa0a6;--line:#3c4043;--bg:#202124}pre{background:#2d2f31}a{color:#8ab4f8}}
"""


def _time(iso: str | None) -> str:
    """A <time> element: the date as people read it, the exact ISO timestamp as its datetime."""
    if not iso:
        return ""
    return f'<time datetime="{html.escape(iso, quote=True)}">{html.escape(human_date(iso))}</time>'


def _archived_copy(version_url: str | None, when: str | None) -> list[str]:
    """A clickable link to the archived copy in the replay system (under --replay-base)."""
    if not version_url:
        return []
    label = "Open the archived copy" + (f" of {human_date(when, with_time=False)}" if when else "")
    return [f'<dt>Archived copy</dt><dd><a class="replay" href="{html.escape(_safe_href(version_url), quote=True)}" rel="noreferrer">{html.escape(label)}</a></dd>']


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    art = report["article"]
    s = report["summary"]
    src, q = s["sources"], s["quotations"]
    cap = art["capture"] or {}
    title = art["title"] or art["url"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Belt and braces on top of escaping: no script, no outside request, whatever a page held.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">",
        '<meta name="referrer" content="no-referrer">',
        f"<title>Provenance report: {e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Provenance report: {e(title)}</h1>",
        "<dl>",
        f"<dt>URL</dt><dd><a href=\"{e(_safe_href(art['url']), quote=True)}\" rel=\"noreferrer\">{e(art['url'])}</a></dd>",
        f"<dt>Author</dt><dd>{e(art['author'] or 'unknown')}</dd>",
        f"<dt>Published</dt><dd>{e(_published(art['published']) or 'unknown')}</dd>",
        f"<dt>First captured</dt><dd>{_time(art['first_captured']) or 'never'}</dd>",
        *_archived_copy(art.get("version_url"), (art["capture"] or {}).get("fetched_at")),
        f"<dt>Payload sha256</dt><dd><code>{e(cap.get('payload_sha256') or '-')}</code></dd>",
        f"<dt>WARC</dt><dd><code>{e(_where(cap))}</code></dd>",
        f"<dt>Time-stamped</dt><dd>{e(describe_token(art.get('timestamp')))}</dd>",
        f"<dt>Chain head</dt><dd><code>{e(report['archive']['chain_head'])}</code></dd>",
        "</dl>",
        _html_screenshots(art.get("screenshots"), art["url"]),
        "<h2>Summary</h2>",
        '<ul class="summary">',
        f"<li>{src['cited']} sources cited</li><li>{src['captured']} captured</li><li>{src['intact']} intact</li>",
        f"<li>{src['changed']} changed</li><li>{src['gone'] + src['soft_404']} gone or soft 404</li><li>{src['blocked']} blocked</li><li>{src['moved']} moved</li>",
        f"<li>{src['restored']} restored</li><li>{src['never_captured']} never captured</li>",
        "</ul>",
        '<ul class="summary">',
        f"<li>{q['total']} quotations</li><li>{q['present']} present</li><li>{q['altered']} altered</li><li>{q['missing']} missing</li>",
        f"<li>{s['unlinked_references']} unlinked references</li>",
        "</ul>",
    ]
    if report["changes_by_seriousness"]:
        parts.append("<h2>Changes, most serious first</h2><ol class=\"timeline\">")
        parts += [f"<li>{_time(c['detected_at'])}: <code>{e(c['url'])}</code>: {e(c['description'])}</li>"
                  for c in report["changes_by_seriousness"]]
        parts.append("</ol>")
    if len(art["versions"]) > 1 or art["changes"]:
        parts.append("<h2>The article's own history</h2><ul>")
        for v in art["versions"]:
            delta = f"; cites {len(v['added'])} new, no longer cites {len(v['removed'])}" if v["version"] > 1 else ""
            items = "".join(f"<li>added <code>{e(u)}</code></li>" for u in v["added"]) + "".join(f"<li>removed <code>{e(u)}</code></li>" for u in v["removed"])
            parts.append(
                f"<li>Version {v['version']}: captured {e(v['created_at'])} (capture {v['capture_id']}), {v['citations']} sources cited{e(delta)}"
                + (f"<ul>{items}</ul>" if items else "") + "</li>"
            )
        parts += [f"<li>{e(c['detected_at'])}: {e(c['description'])}</li>" for c in art["changes"]]
        parts.append("</ul>")
    parts.append("<h2>Citations</h2>")
    for number, entry in enumerate(report["citations"], 1):
        status = entry["status"]
        parts.append('<section class="cite">')
        parts.append(f"<h3>{number}. {e(citation_label(entry))} <span class=\"badge s-{status}\">{e(STATUS_LABELS[status])}</span></h3>")
        if entry["context"]:
            parts.append(f"<blockquote>{e(entry['context'])}</blockquote>")
        parts.append("<dl>")
        parts.append(f"<dt>Source</dt><dd><a href=\"{e(_safe_href(entry['url']), quote=True)}\" rel=\"noreferrer\">{e(entry['url'])}</a></dd>")
        reason = f" ({e(entry['status_reason'])})" if entry["status_reason"] else ""
        parts.append(f"<dt>Status</dt><dd>{e(STATUS_LABELS[status])}{reason}</dd>")
        first, latest = _first_and_latest(entry)
        if first:
            parts.append(
                f"<dt>First capture</dt><dd>{_time(first['fetched_at'])}, HTTP {e(_http(first))}<br>"
                f"sha256 <code>{e(first['payload_sha256'] or '-')}</code><br><code>{e(_where(first))}</code><br>"
                f"time-stamped: {e(describe_token(entry.get('first_capture_timestamp')))}</dd>"
            )
        if latest:
            parts.append(
                f"<dt>Latest check</dt><dd>{_time(latest['fetched_at'])}: {e(latest['outcome'])}<br>"
                f"time-stamped: {e(describe_token(entry.get('latest_check_timestamp')))}</dd>"
            )
        if entry["robust_link"]:
            parts += _archived_copy(entry["robust_link"].get("data-versionurl"), first["fetched_at"] if first else None)
            parts.append(f"<dt>Robust link</dt><dd>{robust_anchor(entry['robust_link'], entry['anchor_text'] or entry['url'])}</dd>")
        parts.append(_html_mementos(entry))
        parts.append("</dl>")
        parts.append(_html_screenshots(entry.get("screenshots"), entry["url"]))
        if entry["changes"]:
            parts.append('<ol class="timeline">')
            parts += [f"<li>{_time(c['detected_at'])}: {e(c['description'])}</li>" for c in entry["changes"]]
            parts.append("</ol>")
        for quote in entry["quotations"]:
            sim = f", similarity {quote['similarity']:.2f}" if quote["similarity"] is not None and quote["status"] != "present" else ""
            parts.append(
                f"<p><span class=\"badge q-{e(quote['status'] or 'unchecked')}\">quotation {e(quote['status'] or 'unchecked')}{e(sim)}</span> "
                f"“{e(quote['text'])}”</p>"
            )
        diff = entry.get("diff")
        if diff and diff.get("_ops"):
            # Open, so that it reads on a phone and prints; the word counts are the timeline's (one per change).
            parts.append(
                f"<details open><summary>What changed in the text, first capture → latest (captures "
                f"{int(diff['from_capture_id'])} → {int(diff['to_capture_id'])})</summary>"
                f"<div class=\"diff\">{diff_html(diff['_ops'])}</div></details>"
            )
        parts.append("</section>")
    if report["unattributed_quotations"]:
        parts.append("<h2>Quotations not found in any cited source</h2><ul>")
        parts += [f"<li>({e(q['status'] or 'unchecked')}) “{e(q['text'])}”</li>" for q in report["unattributed_quotations"]]
        parts.append("</ul>")
    parts.append("<h2>Unlinked references</h2>")
    if report["unlinked_references"]:
        parts.append("<p>The article names these without a link; this report cannot vouch for them.</p><ul>")
        parts += [f"<li>{e(r['text'])}<br><small>{e(r['context'] or '')}</small></li>" for r in report["unlinked_references"]]
        parts.append("</ul>")
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>How to verify</h2><p>Run these in the archive directory; each should print the value shown.</p>")
    for command in report["verification"]["commands"]:
        parts.append(f"<p>{e(command['description'])}</p><pre>{e(command['command'])}</pre>")
        if command["expect"]:
            parts.append(f"<p>expect: <code>{e(command['expect'])}</code></p>")
    parts.append(f"<p><small>Generated {_time(report['generated_at'])} by {e(report['software'])}.</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


RENDERERS = {"json": render_json, "md": render_markdown, "html": render_html}


def chain_head(store: Store) -> str:
    """The archive's chain head: the newest captures row's hash, as stored.

    A report names the head; checking the whole chain is ``archiver verify --head``'s job, so
    the report reads one row instead of walking every capture (a million rows: half a minute).
    Only rows written before the chain existed carry no hash: then the walk computes it.
    """
    last = store.value("SELECT chain_hash FROM captures ORDER BY id DESC LIMIT 1")
    if last:
        return last
    head, _ = check_chain(store.rows("SELECT * FROM captures ORDER BY id"))
    return head


def captures_count(store: Store) -> int:
    """How many captures rows the archive holds, without counting a million of them.

    Rows are only ever appended (ids 1, 2, 3, ...; a rolled-back insert leaves no gap), so
    the newest id is the count; a deleted row would break the hash chain, which verify checks.
    """
    return store.value("SELECT MAX(id) FROM captures") or 0


def build_report(store: Store, article: str, fmt: str = "md", replay_base: str | None = None, archive_dir: str | None = None) -> str:
    """The report for ``article`` in ``fmt`` (md, html or json)."""
    return RENDERERS[fmt](gather_report(store, article, replay_base=replay_base, archive_dir=archive_dir))
