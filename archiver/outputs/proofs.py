"""What the report says about proofs: the time-stamp tokens covering a capture, and the seal head.

A token covers every captures row up to the one it names (the seal it signs fixes the chain
head there, and the chain fixes every row before it). The earliest covering token is the
strongest claim: the capture existed by then.
"""

from __future__ import annotations

from typing import Any, overload


def _tokens(store) -> list[dict[str, Any]]:
    try:
        return store.rows(
            "SELECT id, seal_id, message, capture_id, tsa_url, tsa_name, gen_time, serial_number FROM timestamps ORDER BY gen_time, id"
        )
    except Exception:  # noqa: BLE001 -- a database from before timestamps
        return []


class TokenIndex:
    """Finds the tokens covering a capture, with one read of the timestamps table."""

    def __init__(self, store) -> None:
        self.tokens = _tokens(store)

    def covering(self, capture_id: int | None) -> dict[str, Any] | None:
        """The earliest token covering ``capture_id`` and how many cover it; None when none does."""
        if capture_id is None:
            return None
        found = [t for t in self.tokens if t["capture_id"] is not None and t["capture_id"] >= capture_id]
        if not found:
            return None
        first = found[0]
        return {
            "timestamp_id": first["id"],
            "gen_time": first["gen_time"],
            "tsa": first["tsa_name"] or first["tsa_url"],
            "tsa_url": first["tsa_url"],
            "serial_number": first["serial_number"],
            "seal_id": first["seal_id"],
            "seal_hash": first["message"],
            "tokens": len(found),
        }


def seal_head(store) -> str | None:
    try:
        return store.value("SELECT seal_hash FROM seals ORDER BY id DESC LIMIT 1")
    except Exception:  # noqa: BLE001 -- a database from before seals
        return None


def describe_token(token: dict[str, Any] | None) -> str:
    """One line for a report: who vouches for the time, or that nobody does yet."""
    if token is None:
        return "not yet time-stamped (run `archiver timestamp`)"
    more = f"; {token['tokens'] - 1} later tokens also cover it" if token["tokens"] > 1 else ""
    return f"existed by {token['gen_time']}, vouched for by {token['tsa']} (timestamp {token['timestamp_id']}, serial {token['serial_number']}){more}"


# -- mementos and submissions ----------------------------------------------------------------

_AGREES = {"same": True, "differs": False}


def _memento(row: dict[str, Any], original_url: str) -> dict[str, Any]:
    import json

    from archiver.clock import parse_iso

    days = None
    if row["memento_datetime"] and row["target_datetime"]:
        days = round((parse_iso(row["memento_datetime"]) - parse_iso(row["target_datetime"])).total_seconds() / 86400, 1)
    detail = json.loads(row["detail"]) if row["detail"] else {}
    return {
        "memento_url": row["memento_url"],
        "memento_datetime": row["memento_datetime"],
        "days_from_citation": days,
        "verdict": row["verdict"],
        "agrees": _AGREES.get(row["verdict"]),
        "similarity": row["similarity"],
        "diff_summary": detail.get("diff_summary"),
        "capture_id": row["capture_id"],
        "compared_capture_id": row["compared_capture_id"],
        "error": row["error"],
        "robust_link": {
            "href": original_url,
            "data-originalurl": original_url,
            "data-versionurl": row["memento_url"],
            "data-versiondate": (row["memento_datetime"] or "")[:10],
        },
    }


def memento_facts(store, article_id: int, url_id: int | None, original_url: str) -> dict[str, Any]:
    """A source's mementos for one article (the latest lookup), and the copies asked of public archives."""
    empty = {"mementos": {"looked_up": False, "citation_day": None, "closest": None, "earlier": None, "error": None}, "submissions": []}
    if url_id is None:
        return empty
    try:
        rows = store.rows("SELECT * FROM mementos WHERE article_id = ? AND url_id = ? ORDER BY id", (article_id, url_id))
        submissions = store.rows(
            "SELECT requested_at, endpoint, http_status, memento_url, memento_datetime, error FROM submissions WHERE url_id = ? ORDER BY id", (url_id,)
        )
    except Exception:  # noqa: BLE001 -- a database from before mementos
        return empty
    if not rows:
        return {**empty, "submissions": submissions}
    latest_run = rows[-1]["run_id"]
    rows = [r for r in rows if r["run_id"] == latest_run]
    closest = next((r for r in rows if r["role"] in ("closest", "closest+earlier")), None)
    earlier = next((r for r in rows if r["role"] in ("earlier", "closest+earlier")), None)
    failed = next((r["error"] for r in rows if r["role"] == "error"), None)
    return {
        "mementos": {
            "looked_up": True,
            "citation_day": rows[0]["target_datetime"],
            "citation_day_from": rows[0]["target_source"],
            "lookup_url": rows[0]["lookup_url"],
            "closest": _memento(closest, original_url) if closest else None,
            "earlier": _memento(earlier, original_url) if earlier else None,
            "error": failed,
        },
        "submissions": submissions,
    }


@overload
def describe_memento(memento: dict[str, Any], role: str) -> str: ...


@overload
def describe_memento(memento: None, role: str) -> None: ...


def describe_memento(memento: dict[str, Any] | None, role: str) -> str | None:
    """One line for a report about one memento."""
    if memento is None:
        return None
    days = memento["days_from_citation"]
    when = "on the day it was cited" if days is not None and abs(days) < 1 else (
        f"{abs(days):g} days {'after' if days > 0 else 'before'} it was cited" if days is not None else "")
    agreement = {
        True: "agrees with archiver's first capture",
        False: "differs from archiver's first capture",
    }.get(memento["agrees"], "could not be compared with archiver's first capture" if memento["verdict"] != "error" else f"could not be fetched ({memento['error']})")
    summary = memento.get("diff_summary") or {}
    change = f" (+{summary.get('added', 0)} -{summary.get('removed', 0)} words)" if memento["agrees"] is False and summary else ""
    return f"{role} memento {memento['memento_datetime']}, {when}: {agreement}{change}"
