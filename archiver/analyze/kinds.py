"""The change kinds: the one vocabulary of change events, how serious each is, and how it is said.

The codes are what the database, ``--json`` and ``--kind`` use; the labels and
descriptions are what people read (cron mail, ``changes``, reports).
"""

from __future__ import annotations

from typing import Any

# Most serious first: the order of cron mail and of reports. Content changes are further
# ordered by their severity (archiver.analyze.judge.SEVERITIES: rewrite, substantive, minor).
KINDS = ("gone", "soft_404", "blocked", "content_changed", "moved", "binary_changed", "restored")
CONTENT_KINDS = ("content_changed", "binary_changed")
LABELS = {
    "gone": "gone",
    "soft_404": "soft 404",
    "blocked": "blocked",
    "content_changed": "changed",
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
) -> str:
    """One line saying what a change event means, for people."""
    detail = detail or {}
    if kind == "content_changed":
        summary = detail.get("diff_summary") or {}
        findings = detail.get("summary") or []
        text = f"{detail['severity']} change" if detail.get("severity") else "the text changed"
        if findings:
            text += ": " + "; ".join(findings[:2]) + (f"; and {len(findings) - 2} more" if len(findings) > 2 else "")
        words = summary.get("added", 0) or summary.get("removed", 0)
        if similarity is not None and (words or similarity < 1.0 or not findings):
            # Left out where only links or images changed: the text is word for word the same.
            text += f" (similarity {similarity:.2f}"
            text += f", +{summary.get('added', 0)} -{summary.get('removed', 0)} words)" if summary else ")"
        return text
    if kind == "blocked":
        findings = detail.get("summary") or []
        status = detail.get("http_status") or http_status
        return "blocked: " + (findings[0] if findings else str(detail.get("reason", ""))) + (f" (HTTP {status})" if status else "")
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
