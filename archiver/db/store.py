"""The provenance database: opening, migrations and every SQL write.

Only this module runs SQL that changes the database. Writes that belong together (a
capture row, its hops, its text) go through :meth:`Store.transaction`, one SQLite
transaction, after the WARC records they point at have been flushed to disk.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, overload

import sqlite_utils

from archiver.db.chain import chain_hash
from archiver.db.seal import seal
from archiver.clock import iso_utc, utc_now
from archiver.db.schema import MIGRATIONS
from archiver.errors import SchemaTooNew
from archiver.urls import host_of

DB_NAME = "archive.db"


class Store:
    """An open archive database."""

    def __init__(self, path: Path, readonly: bool = False, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.readonly = readonly
        # A newer archiver's database is refused before SQLite opens it, since even a
        # read-only connection to a WAL database leaves -wal and -shm files behind.
        on_disk = _header_user_version(self.path)
        if on_disk is not None and on_disk > len(MIGRATIONS):
            raise SchemaTooNew(_too_new_message(self.path, on_disk))
        if readonly:
            uri = f"file:{self.path.resolve()}?mode=ro"
            if _on_readonly_fs(self.path.parent):
                # Nobody can write there, and a WAL database cannot make its -shm file:
                # read it as an immutable file.
                uri += "&immutable=1"
            conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False)
        else:
            if _on_readonly_fs(self.path.parent):
                raise OSError(errno.EROFS, "read-only file system", str(self.path.parent))
            conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        self.conn = conn
        self._in_transaction = False
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self.db = sqlite_utils.Database(conn)
            if not readonly:
                # Before anything is written: a newer archiver's database is left untouched.
                self.check_version()
                conn.execute("PRAGMA journal_mode = WAL")
                # FULL: a commit survives power loss, which an evidence archive wants.
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
        except BaseException as exc:
            conn.close()
            _raise_translated(exc, self.path)

    # -- schema ------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def has_table(self, name: str) -> bool:
        """Whether the database has this table (an archive opened read-only may predate it)."""
        return bool(self.value("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def check_version(self) -> None:
        if self.schema_version > len(MIGRATIONS):
            raise SchemaTooNew(_too_new_message(self.path, self.schema_version))

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, each in its own transaction."""
        self.check_version()
        applied = []
        for number in range(self.schema_version + 1, len(MIGRATIONS) + 1):
            migration = MIGRATIONS[number - 1]
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if callable(migration):
                    migration(self.conn)
                else:
                    for statement in _statements(migration):
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number}")
                self.conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback()
                _raise_translated(exc, self.path)
            applied.append(number)
        return applied

    def close(self) -> None:
        self.conn.close()

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One SQLite transaction: all of it lands, or none of it."""
        if self._in_transaction:
            yield self
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            _raise_translated(exc, self.path)
        self._in_transaction = True
        try:
            yield self
            # COMMIT can fail too (a full disk shows when the WAL grows): roll back then.
            self.conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            _raise_translated(exc, self.path)
        finally:
            self._in_transaction = False

    def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (SQLITE_FULL, SQLITE_IOERR).
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def insert(self, table: str, row: dict[str, Any]) -> int:
        columns = list(row)
        sql = f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' for _ in columns)})"
        row_id = self.conn.execute(sql, [_sql_value(row[c]) for c in columns]).lastrowid
        assert row_id is not None  # set by every successful INSERT
        return row_id

    def insert_capture(self, row: dict[str, Any]) -> int:
        """Insert a captures row and link it into the tamper-evident chain (inside a transaction)."""
        assert self._in_transaction, "captures rows are written inside a transaction"
        capture_id = self.insert("captures", row)
        previous = self.value("SELECT chain_hash FROM captures WHERE id < ? ORDER BY id DESC LIMIT 1", (capture_id,))
        stored = self.row("SELECT * FROM captures WHERE id = ?", (capture_id,))
        assert stored is not None  # inserted just above, in this transaction
        self.conn.execute("UPDATE captures SET chain_hash = ? WHERE id = ?", (chain_hash(previous, stored), capture_id))
        return capture_id

    def add_capture(
        self, row: dict[str, Any], hops: Sequence[dict[str, Any]] = (), text: dict[str, Any] | None = None, attachments: Sequence[dict[str, Any]] = ()
    ) -> int:
        """A captures row with its redirect hops, extracted text and attachments, in one transaction; returns its id.

        Call only once the WARC records the row points at are flushed to disk. A text that an
        earlier capture of the same URL already holds, the same in every column, is not stored
        again: the capture shares that row (:func:`archiver.db.queries.text_holder`). A page
        whose served bytes change only by noise (a timestamp, an advert) thus adds its response
        record, the evidence, and no second copy of the same text.
        """
        with self.transaction():
            capture_id = self.insert_capture(row)
            for hop in hops:
                self.insert("hops", {"capture_id": capture_id, **hop})
            if text is not None and not self._holds_same_text(capture_id, row, text):
                self.insert("texts", {"capture_id": capture_id, **text})
            for attachment in attachments:
                self.insert("attachments", {"capture_id": capture_id, **attachment})
        return capture_id

    def _holds_same_text(self, capture_id: int, row: dict[str, Any], text: dict[str, Any]) -> bool:
        """Whether the texts row an earlier capture of this URL shares (same text_sha256) is ``text`` exactly."""
        if not row.get("text_sha256"):
            return False
        holder = shared_text_holder(self, row["url_id"], row["text_sha256"], capture_id)
        if holder is None:
            return False
        stored = self.row("SELECT * FROM texts WHERE capture_id = ?", (holder,))
        assert stored is not None  # found through its texts row
        wanted = {"features": None, **text}
        return all(stored.get(name) == _sql_value(value) for name, value in wanted.items())

    def update(self, table: str, row_id: int, values: dict[str, Any], key: str = "id") -> None:
        if not values:
            return
        assignments = ", ".join(f"[{c}] = ?" for c in values)
        self.conn.execute(
            f"UPDATE [{table}] SET {assignments} WHERE [{key}] = ?", [*(_sql_value(v) for v in values.values()), row_id]
        )

    # -- reads -------------------------------------------------------------------------------

    def rows(self, sql: str, params: tuple | list | dict = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def row(self, sql: str, params: tuple | list | dict = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: tuple | list | dict = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- urls, runs ----------------------------------------------------------------------------

    @overload
    def url_id(self, url: str, create: Literal[True] = ...) -> int: ...

    @overload
    def url_id(self, url: str, create: bool) -> int | None: ...

    def url_id(self, url: str, create: bool = True) -> int | None:
        """The id of ``url`` in the urls table, added when missing unless ``create`` is false."""
        found = self.value("SELECT id FROM urls WHERE url = ?", (url,))
        if found is not None or not create:
            return found
        with self.transaction():
            return self.insert("urls", {"url": url, "host": host_of(url), "first_seen": iso_utc()})

    # -- articles and their citations ----------------------------------------------------------

    def save_article(
        self, url_id: int, values: dict[str, Any], citations: list[dict[str, Any]], unlinked: list[dict[str, Any]],
        version: dict[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """An article's row, its current citations and unlinked references, and a new article version.

        ``citations`` rows carry ``url`` (normalised, or None for a link that cannot be fetched)
        instead of ``url_id``. The current citation set (``citations``) is replaced; every
        earlier set stays in ``version_citations`` under its own ``article_versions`` row.
        ``version``: that row's run_id, created_at and text_sha256. Returns (article id, the
        new version row with ``added`` and ``removed``: URLs cited now and not before, and the reverse).
        """
        with self.transaction():
            article_id = self.value("SELECT id FROM articles WHERE url_id = ?", (url_id,))
            if article_id is None:
                article_id = self.insert("articles", {"url_id": url_id, "added_at": iso_utc(), **values})
            else:
                # Capturing an article again tracks it again, if it was removed from tracking.
                self.update("articles", article_id, {**values, "untracked_at": None})
            previous = self.row(
                "SELECT * FROM article_versions WHERE article_id = ? ORDER BY version DESC LIMIT 1", (article_id,)
            )
            rows = self._replace_citations(article_id, citations, unlinked)
            added, removed, now_cited = self._citation_delta(previous, rows)
            info = dict(version or {})
            record = {
                "article_id": article_id,
                "version": (previous["version"] + 1) if previous else 1,
                "capture_id": values.get("capture_id"),
                "run_id": info.get("run_id"),
                "created_at": info.get("created_at") or iso_utc(),
                "title": values.get("title"),
                "text_sha256": info.get("text_sha256"),
                "citations": len(now_cited),
                "added": added,
                "removed": removed,
            }
            record["id"] = self.insert("article_versions", record)
            for _url, row in rows:
                self.insert("version_citations", {"version_id": record["id"], **row})
        record["previous"] = previous
        return article_id, record

    def revise_article_version(
        self, article_id: int, version_id: int, citations: list[dict[str, Any]], unlinked: list[dict[str, Any]],
        superseded_change_id: int | None = None,
    ) -> dict[str, Any]:
        """Replace the citation set of a version the running capture recorded, judged again in the
        same run; the event its first judgement made (``superseded_change_id``) goes with it."""
        with self.transaction():
            record = self.row("SELECT * FROM article_versions WHERE id = ?", (version_id,))
            if record is None:
                raise LookupError(f"article version {version_id} is not in the archive")
            previous = self.row(
                "SELECT * FROM article_versions WHERE article_id = ? AND version < ? ORDER BY version DESC LIMIT 1",
                (article_id, record["version"]),
            )
            if superseded_change_id is not None:
                self.conn.execute("DELETE FROM changes WHERE id = ?", (superseded_change_id,))
            self.conn.execute("DELETE FROM version_citations WHERE version_id = ?", (version_id,))
            rows = self._replace_citations(article_id, citations, unlinked)
            added, removed, now_cited = self._citation_delta(previous, rows)
            self.update("article_versions", version_id, {"citations": len(now_cited), "added": added, "removed": removed})
            for _url, row in rows:
                self.insert("version_citations", {"version_id": version_id, **row})
        record.update({"citations": len(now_cited), "added": added, "removed": removed, "previous": previous})
        return record

    def _replace_citations(
        self, article_id: int, citations: list[dict[str, Any]], unlinked: list[dict[str, Any]]
    ) -> list[tuple[str | None, dict[str, Any]]]:
        self.conn.execute("DELETE FROM citations WHERE article_id = ?", (article_id,))
        self.conn.execute("DELETE FROM unlinked_references WHERE article_id = ?", (article_id,))
        rows = []
        for citation in citations:
            citation = dict(citation)
            url = citation.pop("url")
            row = {"url_id": self.url_id(url) if url else None, **citation}
            rows.append((url, row))
            self.insert("citations", {"article_id": article_id, **row})
        for ref in unlinked:
            self.insert("unlinked_references", {"article_id": article_id, **ref})
        return rows

    def _citation_delta(
        self, previous: dict[str, Any] | None, rows: list[tuple[str | None, dict[str, Any]]]
    ) -> tuple[list[str], list[str], list[str]]:
        """(added, removed, cited now): the URLs cited now against those ``previous`` version cited."""
        before: list[str] = []
        if previous is not None:
            before = [
                r["url"] for r in self.rows(
                    """SELECT DISTINCT u.url FROM version_citations vc JOIN urls u ON u.id = vc.url_id
                       WHERE vc.version_id = ? AND vc.cited = 1 ORDER BY vc.position""",
                    (previous["id"],),
                )
            ]
        now_cited = list(dict.fromkeys(url for url, row in rows if url and row["cited"]))
        added = [u for u in now_cited if u not in before] if previous is not None else []
        removed = [u for u in before if u not in now_cited]
        return added, removed, now_cited

    # -- tracking: baselines, verdicts, the schedule ----------------------------------------------

    def start_tracking(
        self, url_id: int, capture_id: int, baseline: bool, interval: int, next_check_at: str, judgement: dict[str, Any] | None = None
    ) -> None:
        """A URL's first capture puts it on the recheck schedule; ``baseline``: the capture is its baseline.

        Only for a URL not tracked yet: every later capture is judged (:meth:`record_check`).
        ``judgement``: the ``judgements`` row saying so.
        """
        with self.transaction():
            if baseline:
                self.conn.execute(
                    "UPDATE urls SET baseline_capture_id = ?, state = 'ok', failure_streak = 0 WHERE id = ? AND baseline_capture_id IS NULL",
                    (capture_id, url_id),
                )
            self.conn.execute(
                "UPDATE urls SET check_interval = ?, next_check_at = ? WHERE id = ? AND next_check_at IS NULL",
                (interval, next_check_at, url_id),
            )
            if judgement is not None:
                self.insert("judgements", {"url_id": url_id, **judgement})

    def record_check(
        self, url_id: int, change: dict[str, Any] | None, url_state: dict[str, Any], judgement: dict[str, Any] | None = None
    ) -> int | None:
        """A verdict on one new capture of a URL: the change event (if any), the judgement and the URL's new state, together."""
        with self.transaction():
            change_id = self.insert("changes", {"url_id": url_id, **change}) if change else None
            self.update("urls", url_id, url_state)
            if judgement is not None:
                self.insert("judgements", {"url_id": url_id, "change_id": change_id, **judgement})
        return change_id

    def add_change(self, url_id: int, change: dict[str, Any]) -> int:
        """A change event seen without a new baseline judgement (an article's citation set changed)."""
        with self.transaction():
            return self.insert("changes", {"url_id": url_id, **change})

    # -- quotations ----------------------------------------------------------------------------

    def replace_quotes(
        self, article_id: int, quotes: list[tuple[dict[str, Any], dict[str, Any] | None]], version_id: int | None = None
    ) -> list[int]:
        """An article version's quotations, each with its first check (None: unchecked).

        The earlier version's quotations are retired (``retired_at``), never deleted: their
        checks are evidence too.
        """
        with self.transaction():
            self.conn.execute("UPDATE quotes SET retired_at = ? WHERE article_id = ? AND retired_at IS NULL", (iso_utc(), article_id))
            ids = []
            for quote, check in quotes:
                quote_id = self.insert("quotes", {"article_id": article_id, "version_id": version_id, **quote})
                if check is not None:
                    self.insert("quote_checks", {"quote_id": quote_id, **check})
                ids.append(quote_id)
        return ids

    def record_quote_checks(self, checks: list[tuple[int, dict[str, Any]]]) -> None:
        """New checks of quotations: a quote_checks row each, and the quotation's latest status."""
        with self.transaction():
            for quote_id, check in checks:
                self.insert("quote_checks", {"quote_id": quote_id, **check})
                self.update(
                    "quotes",
                    quote_id,
                    {k: check[k] for k in ("status", "similarity", "checked_at", "capture_id")},
                )

    # -- browser loads and attachments -----------------------------------------------------------

    def add_browser_load(self, load: dict[str, Any], requests: Sequence[dict[str, Any]] = (), attachments: Sequence[dict[str, Any]] = ()) -> int:
        """A page load with its requests and attachments (screenshot, DOM, ...), in one transaction.

        Sets ``load_id`` and ``id`` on each attachment dict; returns the load's id.
        """
        with self.transaction():
            load_id = self.insert("browser_loads", load)
            for request in requests:
                self.insert("browser_requests", {"load_id": load_id, **request})
            for attachment in attachments:
                attachment["load_id"] = load_id
                attachment["id"] = self.insert("attachments", attachment)
        return load_id

    def add_attachments(self, attachments: list[dict[str, Any]]) -> None:
        """Records derived from a capture (media files and their metadata); sets each dict's ``id``."""
        with self.transaction():
            for attachment in attachments:
                attachment["id"] = self.insert("attachments", attachment)

    def add_memento(self, row: dict[str, Any]) -> int:
        """A memento lookup's row (its capture, if any, already stored); returns its id."""
        with self.transaction():
            return self.insert("mementos", row)

    def add_submission(self, row: dict[str, Any]) -> int:
        """A request to a public archive to save a source, and what it answered."""
        with self.transaction():
            return self.insert("submissions", row)

    def add_timestamp(self, row: dict[str, Any]) -> int:
        """A time-stamp token's row (its WARC record already on disk); returns its id."""
        with self.transaction():
            return self.insert("timestamps", row)

    # -- warc files ------------------------------------------------------------------------------

    def warc_file_opened(self, relpath: str, run_id: int) -> None:
        with self.transaction():
            self.insert("warc_files", {"path": relpath, "run_id": run_id, "created_at": iso_utc()})

    def warc_file_closed(self, relpath: str, size: int, sha256: str | None, repaired: bool = False) -> None:
        """A WARC file finished (``repaired``: closed by crash recovery, only if still marked open)."""
        with self.transaction():
            self.conn.execute(
                "UPDATE warc_files SET closed_at = ?, size = ?, sha256 = ? WHERE path = ?"
                + (" AND closed_at IS NULL" if repaired else ""),
                (iso_utc(), size, sha256, relpath),
            )

    def start_run(self, command: str, args: dict, software: str) -> int:
        with self.transaction():
            return self.insert(
                "runs",
                {"command": command, "args": json.dumps(args, sort_keys=True, default=str), "software": software, "started_at": iso_utc()},
            )

    def finish_run(self, run_id: int, status: str, counts: dict[str, int]) -> None:
        """The run's outcome, and a seal over the rows it left (db/seal.py), in one transaction."""
        with self.transaction():
            self.update("runs", run_id, {"finished_at": iso_utc(), "status": status, **counts})
            seal(self.conn, run_id, "run")

    def seal(self, run_id: int | None, reason: str) -> dict[str, Any]:
        """Seal the rows the captures chain does not cover, as they are now; returns the seals row."""
        with self.transaction():
            return seal(self.conn, run_id, reason)

    def close_stale_runs(self) -> int:
        """Runs a crash left 'running' are marked 'interrupted' (call while holding the archive lock)."""
        with self.transaction():
            stale = self.conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?) WHERE status = 'running'",
                (iso_utc(),),
            ).rowcount
            if stale:
                # What the killed run wrote is sealed now, not when it wrote it: the seal says so.
                seal(self.conn, None, "recovery")
            return stale

    def interrupted_runs(self, command: str, same: Callable[[dict], bool], window: float) -> list[int]:
        """Ids of recent runs of ``command`` doing the same work (per ``same``) that a crash cut short.

        Looks back from the newest run no further than the latest run of the same work that
        ended by itself (finished or failed): work after that was not left unfinished.
        """
        since = iso_utc(utc_now() - timedelta(seconds=window))
        found: list[int] = []
        for run in self.rows(
            "SELECT id, args, status FROM runs WHERE command = ? AND started_at >= ? ORDER BY id DESC", (command, since)
        ):
            try:
                args = json.loads(run["args"])
            except ValueError:
                continue
            if not isinstance(args, dict) or not same(args):
                continue
            if run["status"] != "interrupted":
                break
            found.append(run["id"])
        return sorted(found)

    def captures_of_runs(self, run_ids: list[int]) -> dict[str, dict[str, Any]]:
        """url -> the latest captures row the runs wrote for it (rows exist only for whole records)."""
        if not run_ids:
            return {}
        marks = ",".join("?" for _ in run_ids)
        found: dict[str, dict[str, Any]] = {}
        for row in self.rows(
            f"SELECT c.*, u.url AS _url FROM captures c JOIN urls u ON u.id = c.url_id WHERE c.run_id IN ({marks}) ORDER BY c.id",
            list(run_ids),
        ):
            found[row.pop("_url")] = row
        return found


def _too_new_message(path: Path, version: int) -> str:
    return (
        f"{path} has schema version {version}, newer than this archiver "
        f"understands ({len(MIGRATIONS)}): upgrade archiver to use this archive"
    )


def _header_user_version(path: Path) -> int | None:
    """PRAGMA user_version as the database file's header holds it (None if not an SQLite file).

    The WAL may hold a later value; versions only grow, so this one is a lower bound.
    """
    try:
        with open(path, "rb") as fh:
            header = fh.read(64)
    except OSError:
        return None
    if len(header) < 64 or not header.startswith(b"SQLite format 3\x00"):
        return None
    return int.from_bytes(header[60:64], "big", signed=True)


def _on_readonly_fs(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _os_error(exc: BaseException, path: Path) -> BaseException:
    """SQLite's disk-full and read-only errors as the OSError they are (callers report those plainly)."""
    if not isinstance(exc, sqlite3.Error):
        return exc
    message = str(exc).lower()
    if "disk is full" in message:
        return OSError(errno.ENOSPC, "no space left on device", str(path))
    if "readonly database" in message or "read-only" in message:
        if _on_readonly_fs(Path(path).parent):
            return OSError(errno.EROFS, "read-only file system", str(path))
        return PermissionError(errno.EACCES, "cannot write the database", str(path))
    return exc


def _raise_translated(exc: BaseException, path: Path) -> None:
    """Re-raise ``exc``, as the OSError the CLI reports when SQLite says the disk is full or read-only."""
    translated = _os_error(exc, path)
    if translated is exc:
        raise exc
    raise translated from exc


def shared_text_holder(store: Store, url_id: int, text_sha256: str, before_id: int) -> int | None:
    """The newest capture of ``url_id`` before ``before_id`` with a texts row, whose text hashes to ``text_sha256``."""
    return store.value(
        """SELECT c.id FROM captures c JOIN texts t ON t.capture_id = c.id
            WHERE c.url_id = ? AND c.text_sha256 = ? AND c.id < ? ORDER BY c.id DESC LIMIT 1""",
        (url_id, text_sha256, before_id),
    )


def _sql_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, bool):
        return int(value)
    return value


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (sqlite3.complete_statement knows the grammar)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
