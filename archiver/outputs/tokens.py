"""Verify's check of stored RFC 3161 tokens: each against its chain head, its TSA's roots and its WARC record.

    a token time-stamps a seal's hash: that seal must be in the seal chain, and the chain head
        it fixes must still be the chain hash of the captures row it names
    the token must be granted, over sha256(message), signed by a timeStamping certificate
        chaining to the trusted roots (--tsa-roots, else the roots stored with it, else certifi's)
    what the database says about it (time, serial) must be what the token says
    its resource record must hold the same bytes
"""

from __future__ import annotations

import hashlib
from typing import Any

from archiver.proof.rfc3161 import TimestampError, check_token, default_roots_pem, load_certificates, parse_reply
from archiver.results import Problem


def stored_tokens(store) -> list[dict[str, Any]]:
    try:
        return store.rows("SELECT * FROM timestamps ORDER BY id")
    except Exception:  # noqa: BLE001 -- a database from before timestamps has none
        return []


def check_tokens(
    tokens: list[dict[str, Any]], captures: list[dict[str, Any]], seals: dict[int, dict[str, Any]], files: dict, tsa_roots: str | None = None
) -> tuple[list[Problem], list[str]]:
    """(problems, notes) for every stored token; ``seals`` by id, ``files`` are verify's walked WARC files."""
    problems: list[Problem] = []
    notes: list[str] = []
    by_id = {r["id"]: r for r in captures}
    root_sets: dict[str | None, list] = {}

    def roots_for(pem: str | None) -> list:
        key = tsa_roots if tsa_roots is not None else pem
        if key not in root_sets:
            root_sets[key] = load_certificates(key if key is not None else default_roots_pem())
        return root_sets[key]

    for token in tokens:
        what = f"timestamps row {token['id']} (TSA {token['tsa_url']}, {token['gen_time']})"
        found: list[str] = []
        covered = by_id.get(token["capture_id"])
        sealed = seals.get(token["seal_id"])
        if sealed is None:
            found.append(f"seal {token['seal_id']} it time-stamps is missing")
        elif (sealed["seal_hash"], sealed["chain_head"], sealed["capture_id"]) != (token["message"], token["chain_head"], token["capture_id"]):
            found.append(f"it names seal {token['seal_id']}, whose hash, chain head or captures row differ from the token's")
        if covered is None:
            found.append(f"captures row {token['capture_id']} it covers is missing")
        elif covered.get("chain_hash") != token["chain_head"]:
            found.append(
                f"it covers chain head {token['chain_head']}, but captures row {token['capture_id']} now has chain hash {covered.get('chain_hash')}: rows it covered were changed"
            )
        token_bytes = bytes(token["token"] or b"")
        try:
            check_token(token_bytes, token["message"].encode("ascii"), roots_for(token["tsa_roots"]))
            info = parse_reply(token_bytes)
            for name, in_token, stored in (
                ("genTime", info.gen_time, token["gen_time"]),
                ("serial number", info.serial_number, token["serial_number"]),
            ):
                if in_token != stored:
                    found.append(f"{name} is {in_token} in the token, {stored} in the database")
        except TimestampError as exc:
            found.append(str(exc))
        found += _record(token, token_bytes, files)
        for message in found:
            problems.append(Problem("timestamp", f"{what}: {message}", token["warc_file"], token["warc_offset"], token["capture_id"]))
        if not found:
            notes.append(
                f"timestamp token {token['id']}: {token['tsa_name'] or token['tsa_url']} vouches that seal {token['seal_id']} "
                f"({token['message'][:16]}...: the archive up to captures row {token['capture_id']}) existed by {token['gen_time']}"
            )
    if tokens and tsa_roots is None and any(t["tsa_roots"] for t in tokens):
        notes.append("timestamp tokens were checked against the TSA roots stored with them: pass --tsa-roots to check against roots you obtained yourself")
    return problems, notes


def _record(token: dict[str, Any], token_bytes: bytes, files: dict) -> list[str]:
    result = files.get(token["warc_file"])
    if result is None or result.state == "missing":
        return [] if result is not None else [f"its WARC file {token['warc_file']} was not read"]
    info = result.records.get(token["warc_offset"])
    if info is None:
        return [f"no readable record at {token['warc_file']} offset {token['warc_offset']}"]
    found = []
    for name, in_warc, stored in (
        ("WARC-Record-ID", info.record_id, token["warc_record_id"]),
        ("length", info.length, token["warc_length"]),
        ("payload sha256", info.decoded_sha256, hashlib.sha256(token_bytes).hexdigest()),
    ):
        if in_warc != stored:
            found.append(f"{name} is {in_warc!r} in the WARC, {stored!r} in the database")
    return found
