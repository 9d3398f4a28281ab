"""The change kinds: the one vocabulary of change events, how serious each is, and how it is said.

The codes are what the database, ``--json`` and ``--kind`` use; the labels and
descriptions are what people read (cron mail, ``changes``, reports).
"""

from __future__ import annotations

from typing import Any

# Most serious first: the order of cron mail and of reports.
KINDS = ("gone", "soft_404", "content_changed", "citations_changed", "moved", "binary_changed", "restored")
CONTENT_KINDS = ("content_changed", "binary_changed")
LABELS = {
    "gone": "gone",
    "soft_404": "soft 404",
    "content_changed": "changed",
    "citations_changed": "citations changed",
    "moved": "moved",
    "binary_changed": "file changed",
    "restored": "restored",
}


def seriousness(kind: str) -> int:
    """0 for the most serious kind; unknown kinds last."""
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def describe_change(
    kind: str,
    detail: dict[str, Any] | None,
    similarity: float | None = None,
    url: str | None = None,
    error: str | None = None,
    http_status: int | None = None,
    final_url: str | None = None,
) -> str:
    """One line saying what a change event means, for people."""
    detail = detail or {}
    if kind == "content_changed":
        summary = detail.get("diff_summary") or {}
        text = "the text changed"
        if similarity is not None:
            text += f" (similarity {similarity:.2f}"
            text += f", +{summary.get('added', 0)} -{summary.get('removed', 0)} words)" if summary else ")"
        return text
    if kind == "citations_changed":
        # An article's own edit: links to sources added or removed between two versions.
        added, removed = detail.get("added") or [], detail.get("removed") or []
        parts = [f"cites {len(added)} new source{'s' if len(added) != 1 else ''}: {', '.join(added)}"] if added else []
        parts += [f"no longer cites {len(removed)}: {', '.join(removed)}"] if removed else []
        version = f" (version {detail['from_version']} -> {detail['to_version']})" if detail.get("to_version") else ""
        return "; ".join(parts) + version if parts else "the citations changed" + version
    if kind == "binary_changed":
        old, new = str(detail.get("from_sha256") or "")[:12], str(detail.get("to_sha256") or "")[:12]
        return "the file changed (different bytes" + (f": sha256 {old} -> {new})" if old and new else ")")
    if kind == "gone":
        status = detail.get("http_status") or http_status
        reason = error or detail.get("reason") or ""
        return f"gone: {reason}{f' (HTTP {status})' if status and str(status) not in reason else ''}".strip()
    target = detail.get("redirect_to") or (final_url if final_url != url else None)
    if kind == "soft_404":
        return f"soft 404: {detail.get('reason', '')}" + (f", now leads to {target}" if target else "")
    if kind == "moved":
        return "moved" + (f" to {target}" if target else "") + (f" ({detail['reason']})" if detail.get("reason") else "")
    if kind == "restored":
        return "back again" + (f" ({detail['reason']})" if detail.get("reason") else "")
    return kind
