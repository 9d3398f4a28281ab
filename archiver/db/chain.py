"""The tamper-evident chain over captures rows.

Each captures row carries ``chain_hash = sha256(previous row's chain_hash + this row's
provenance fields)``, so an edited, inserted or deleted row breaks every hash after it.
The newest row's hash (the chain head) fixes the whole archive's state in one value that
a user can publish or timestamp elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

GENESIS = "0" * 64

# The fields a provenance claim rests on; their order is part of the format.
CHAIN_FIELDS = (
    "id",
    "url_id",
    "run_id",
    "requested_url",
    "final_url",
    "fetched_at",
    "http_status",
    "content_type",
    "content_length",
    "payload_sha256",
    "warc_file",
    "warc_offset",
    "warc_length",
    "warc_record_id",
    "warc_payload_digest",
    "record_type",
    "revisit_of",
    "error",
)


def chain_hash(previous: str | None, row: dict[str, Any]) -> str:
    payload = json.dumps([row.get(name) for name in CHAIN_FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(((previous or GENESIS) + "\n" + payload).encode("utf-8")).hexdigest()


def check_chain(rows: Iterable[dict[str, Any]]) -> tuple[str, list[str]]:
    """Walk captures rows in id order; returns (head, problems)."""
    previous = GENESIS
    problems: list[str] = []
    for row in rows:
        expected = chain_hash(previous, row)
        if row.get("chain_hash") != expected:
            problems.append(
                f"captures row {row['id']}: chain hash does not match (row edited, or a row before it inserted or deleted)"
            )
        previous = row.get("chain_hash") or expected
    return previous, problems
