"""What the report says about proofs: the time-stamp tokens covering a capture, and the seal head.

A token covers every captures row up to the one it names (the seal it signs fixes the chain
head there, and the chain fixes every row before it). The earliest covering token is the
strongest claim: the capture existed by then.
"""

from __future__ import annotations

from typing import Any


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
