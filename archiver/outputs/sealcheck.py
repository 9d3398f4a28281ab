"""Verify's check of the seals (archiver/db/seal.py): the rows the report states, against the newest seal."""

from __future__ import annotations

from typing import Any

from archiver.db.seal import check_seals
from archiver.results import Problem


def seal_problems(store, captures: list[dict[str, Any]]) -> tuple[list[Problem], list[str], str | None, dict[int, dict[str, Any]]]:
    """(problems, notes, newest seal hash, seals by id).

    Rows that differ from the newest seal are problems, unless a run is still writing (then
    they are its work in progress, and a note says so).
    """
    try:
        seals = {r["id"]: r for r in store.rows("SELECT * FROM seals ORDER BY id")}
    except Exception:  # noqa: BLE001 -- a database from before seals (read-only, not migrated)
        return [], ["this database has no seals yet (an older archiver wrote it): its derived rows are not covered"], None, {}
    outcome = check_seals(store.conn, {r["id"]: r.get("chain_hash") for r in captures})
    problems = [Problem(kind, message) for kind, message in outcome.problems]
    notes: list[str] = []
    if outcome.latest is None:
        if any(True for _ in captures):
            notes.append("no seal yet: texts, citations, quotations and changes are covered from the end of the next run")
        return problems, notes, None, seals
    running = store.value("SELECT COUNT(*) FROM runs WHERE status = 'running'")
    if outcome.differences and running:
        notes.append(
            f"a run is still writing: {len(outcome.differences)} rows differ from seal {outcome.latest['id']}; verify again when it has finished"
        )
    else:
        where = f" (seal {outcome.latest['id']}, {outcome.latest['sealed_at']})"
        problems += [Problem("sealed_row", message + where) for message in outcome.differences]
    recovered = [s["id"] for s in seals.values() if s["reason"] == "recovery"]
    if recovered:
        notes.append(
            f"seals {', '.join(map(str, recovered))} were made by crash recovery: they cover what an interrupted run wrote from the time of recovery, not of writing"
        )
    return problems, notes, outcome.head, seals
