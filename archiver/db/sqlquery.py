"""Read-only SQL over the archive database, for ``archiver query``.

The database is opened with ``mode=ro`` and ``PRAGMA query_only``, and an authorizer
refuses ATTACH and turning query_only off: a query can read everything and change nothing.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from archiver.errors import QueryError, ReadOnlyQuery

# sqlite3 authorizer action codes (not all Python versions export the names).
_ATTACH, _DETACH, _PRAGMA = 24, 25, 19
_WRITE_PRAGMAS = {"query_only", "writable_schema", "journal_mode", "wal_checkpoint", "incremental_vacuum", "optimize"}


def _authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action in (_ATTACH, _DETACH):
        return sqlite3.SQLITE_DENY
    if action == _PRAGMA and arg1 and arg1.lower() in _WRITE_PRAGMAS and arg2 is not None:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def connect_readonly(db_path: Path) -> sqlite3.Connection:
    """A connection that cannot write, even if the SQL tries to."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    conn.set_authorizer(_authorizer)
    return conn


def run_query(db_path: Path, sql: str, params: dict[str, Any] | tuple[Any, ...] | None = None) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of one SQL statement run read-only."""
    conn = connect_readonly(db_path)
    try:
        try:
            cursor = conn.execute(sql, params or {})
            rows = cursor.fetchall()
        except (sqlite3.OperationalError, sqlite3.DatabaseError, sqlite3.ProgrammingError, sqlite3.Warning) as exc:
            message = str(exc)
            if "readonly" in message or "read-only" in message or "authoriz" in message:
                raise ReadOnlyQuery(message) from None
            raise QueryError(message) from None
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, rows
    finally:
        conn.close()


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        # sqlite-utils' convention for binary values in JSON.
        return {"$base64": True, "encoded": base64.b64encode(value).decode("ascii")}
    return value


def render(columns: list[str], rows: list[tuple], fmt: str = "table") -> str:
    """Rows as ``json`` (a list of objects), ``csv`` (with a header) or an aligned ``table``."""
    if fmt == "json":
        return json.dumps([{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows], indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if v is None else (base64.b64encode(v).decode() if isinstance(v, bytes) else v) for v in row])
        return out.getvalue().rstrip("\n")
    if not columns:
        return ""
    cells = [[_fit(_cell(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for line in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    if any(v.endswith(_CUT) for line in cells for v in line):
        lines.append(f"(text longer than {PROSE_WIDTH} characters is cut{_CUT} here: --json or --csv give whole values)")
    return "\n".join(lines)


PROSE_WIDTH = 60
_CUT = "\u2026"


def _fit(value: str) -> str:
    """Prose is cut for the table; a value without spaces (a sha256, a URL, a WARC path) never is,
    so that it can be copied from the terminal whole."""
    if len(value) <= PROSE_WIDTH or " " not in value:
        return value
    return value[: PROSE_WIDTH - 1] + _CUT


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return " ".join(str(value).split())
