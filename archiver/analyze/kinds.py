"""The change kinds: the one vocabulary of change events, how serious each is, and how it is said.

The codes are what the database, ``--json`` and ``--kind`` use; the labels and
descriptions are what people read (cron mail, ``changes``, reports).
"""

from __future__ import annotations

from typing import Any

from archiver.clock import parse_iso
from archiver.words import count_words, error_words, http_status_words, human_span, moved_words, restored_words, soft_404_words

# Most serious first: the order of cron mail and of reports. Content changes are further
# ordered by their severity (archiver.analyze.judge.SEVERITIES: rewrite, substantive, minor).
KINDS = ("gone", "soft_404", "blocked", "content_changed", "citations_changed", "moved", "binary_changed", "restored")
CONTENT_KINDS = ("content_changed", "binary_changed")
LABELS = {
    "gone": "gone",
    "soft_404": "soft 404",
    "blocked": "blocked",
    "content_changed": "changed",
    "citations_changed": "citations changed",
    "moved": "moved",
    "binary_changed": "file changed",
    "restored": "restored",
}


SEVERITIES = ("rewrite", "substantive", "minor")


def seriousness(kind: str, severity: str | None = None) -> tuple[int, int]:
    """Sort key, most serious first: the kind's rank, then (content changes) the severity's; unknowns last."""
    rank = KINDS.index(kind) if kind in KINDS else len(KINDS)
    return rank, SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def describe_change(
    kind: str,
    detail: dict[str, Any] | None,
    similarity: float | None = None,
    url: str | None = None,
    error: str | None = None,
    http_status: int | None = None,
    final_url: str | None = None,
    failing_since: str | None = None,
    detected_at: str | None = None,
) -> str:
    """One sentence saying what a change event means, for people (the codes stay in ``detail``).

    ``failing_since`` (the first failed check of a run of failures) and ``detected_at`` let a
    "gone" say over how long the failures came.
    """
    detail = detail or {}
    if kind == "content_changed":
        summary = detail.get("diff_summary") or {}
        findings = detail.get("summary") or []
        text = f"{detail['severity']} change" if detail.get("severity") else "the text changed"
        if findings:
            text += ": " + "; ".join(findings[:2]) + (f"; and {len(findings) - 2} more" if len(findings) > 2 else "")
        words = summary.get("added", 0) or summary.get("removed", 0)
        counts = f"{count_words(summary.get('added', 0))} added, {count_words(summary.get('removed', 0))} removed"
        same = f"{similarity:.0%} the same" if similarity is not None else None
        if findings and words:
            # Left out where only links or images changed: the text is word for word the same.
            text += f" ({counts}, {same})" if same else f" ({counts})"
        elif not findings:
            text += f": {counts}" if summary else ""
            text += f" ({same})" if same else ""
        title = detail.get("title") or {}
        if not findings and isinstance(title, dict) and title.get("from") != title.get("to") and title.get("to"):
            text += f"; the title is now \u201c{title['to']}\u201d"
        return text
    if kind == "citations_changed":
        # An article's own edit: links to sources added or removed between two versions.
        added, removed = detail.get("added") or [], detail.get("removed") or []
        parts = [f"cites {len(added)} new source{'s' if len(added) != 1 else ''}: {', '.join(added)}"] if added else []
        parts += [f"no longer cites {len(removed)}: {', '.join(removed)}"] if removed else []
        version = f" (version {detail['from_version']} -> {detail['to_version']})" if detail.get("to_version") else ""
        return "; ".join(parts) + version if parts else "the citations changed" + version
    if kind == "blocked":
        findings = detail.get("summary") or []
        status = detail.get("http_status") or http_status
        reason = findings[0] if findings else str(detail.get("reason", ""))
        return f"the page is behind a wall now: {reason}" + (f" (the server answered {http_status_words(status)})" if status else "")
    if kind == "binary_changed":
        old, new = str(detail.get("from_sha256") or "")[:12], str(detail.get("to_sha256") or "")[:12]
        return "the file changed: its bytes differ" + (f" (sha256 {old}\u2026 is now {new}\u2026)" if old and new else "")
    if kind == "gone":
        return _gone_words(detail, error, http_status, failing_since, detected_at)
    target = detail.get("redirect_to") or (final_url if final_url and final_url != url else None)
    if kind == "soft_404":
        text = soft_404_words(detail.get("reason"))
        return text + (f" ({target})" if target and detail.get("reason") != "redirect_home" else "") + (
            f": {target}" if target and detail.get("reason") == "redirect_home" else ""
        )
    if kind == "moved":
        return moved_words(detail.get("reason")) + (f": {target}" if target else "")
    if kind == "restored":
        return restored_words(detail.get("reason"), detail.get("content_changed"))
    return LABELS.get(kind, kind)


def _gone_words(detail: dict[str, Any], error: str | None, http_status: int | None, since: str | None, until: str | None) -> str:
    reason = str(detail.get("reason") or "")
    status = detail.get("http_status") or http_status
    streak = detail.get("failure_streak")
    if reason.startswith("http_") and not streak:
        # 404 and 410 count at once: the server says the page is gone.
        code = int(reason[5:]) if reason[5:].isdigit() else None
        return f"the page now answers {http_status_words(status or code)}"
    text = error_words(error) if error else error_words(reason) if reason else "the page stopped answering"
    if not error and status and not reason.startswith("http_"):
        text += f" (HTTP {status})"
    if streak:
        text += f" on {streak} checks in a row"
        if since and until:
            try:
                span = (parse_iso(until) - parse_iso(since)).total_seconds()
            except ValueError:
                span = None
            if span is not None:
                text = text.removesuffix(" in a row") + f", {human_span(span)} apart"
    return text
