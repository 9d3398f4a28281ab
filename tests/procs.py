"""The archiver CLI as a real subprocess (to kill it, or run two at once), and archive checks after a crash.

The checks read WARC files with warcio and FastWARC (tests/warccheck.py), never with
archiver's own reader, and the database with plain sqlite3.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from tests.warccheck import fastwarc_check, read_at, sha256, warcio_records

ROOT = Path(__file__).resolve().parents[1]
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy", "ARCHIVER_HOME")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Proc:
    """One ``python -m archiver.cli`` subprocess; stdout and stderr go to files (no pipe to fill).

    With ``freeze_past``, the process stops itself (SIGSTOP) once an open WARC file is past
    that many bytes (tests/freeze.py); :meth:`frozen` tells when it has.
    """

    def __init__(self, archive: Path, args: list[str], logs: Path, name: str = "run", freeze_past: int | None = None) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.out_path = logs / f"{name}-{time.monotonic_ns()}.out"
        self.err_path = logs / f"{name}-{time.monotonic_ns()}.err"
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", *(["tests.freeze", str(freeze_past)] if freeze_past else ["archiver.cli"]), "--archive", str(archive), *args],
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            cwd=str(ROOT),
            env=_env(),
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def frozen(self) -> bool:
        """Whether the process is stopped (state T in /proc/PID/stat)."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except FileNotFoundError:
            return False
        return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")

    def has_open(self, path: Path) -> bool:
        """Whether the process has ``path`` open (one of its /proc/PID/fd links points there)."""
        fds = Path(f"/proc/{self.pid}/fd")
        try:
            return any(os.path.realpath(fd) == os.path.realpath(path) for fd in fds.iterdir())
        except (FileNotFoundError, PermissionError):
            return False

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.popen.wait(timeout)
        finally:
            self._close_logs()

    def kill(self) -> None:
        """SIGKILL: no handler, no finally block, no flush runs."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(30)
        assert self.popen.returncode == -signal.SIGKILL, f"process ended by itself ({self.popen.returncode}) before the kill: {self.stderr}"
        self._close_logs()

    def _close_logs(self) -> None:
        for fh in (self._out, self._err):
            if not fh.closed:
                fh.close()

    @property
    def stdout(self) -> str:
        return self.out_path.read_text("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text("utf-8", "replace")


def run(archive: Path, args: list[str], logs: Path, timeout: float = 60, name: str = "run") -> Proc:
    proc = Proc(archive, args, logs, name)
    proc.wait(timeout)
    return proc


def wait_until(condition: Callable[[], bool], timeout: float, proc: Proc | None = None, interval: float = 0.005) -> None:
    """Poll ``condition``; fail if it does not hold in time or ``proc`` ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and not proc.alive():
            raise AssertionError(f"process ended ({proc.popen.returncode}) before the kill point: {proc.stderr[-2000:]}")
        time.sleep(interval)
    raise AssertionError("kill point not reached in time")


def db_value(archive: Path, sql: str, params: tuple = ()):
    """One value read through a read-only connection (safe while a run writes)."""
    db_path = archive / "archive.db"
    if not db_path.exists():
        return None
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None
    except sqlite3.OperationalError:
        return None  # not created yet
    finally:
        conn.close()


def db_rows(archive: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{archive / 'archive.db'}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def open_files(archive: Path) -> list[Path]:
    return sorted((archive / "warcs").glob("*.warc.gz.open"))


def closed_files(archive: Path) -> list[Path]:
    return sorted((archive / "warcs").glob("*.warc.gz"))


def check_closed_warcs(archive: Path) -> int:
    """Every closed WARC file reads whole with warcio and FastWARC, every digest right; returns the record count."""
    total = 0
    for path in closed_files(archive):
        records = warcio_records(path)
        assert records, f"{path.name}: no records"
        assert records[0]["type"] == "warcinfo", path.name
        for record in records:
            assert not record["digest_problems"], (path.name, record["uri"], record["digest_problems"])
        fast = fastwarc_check(path)
        assert len(fast) == len(records), path.name
        for record in fast:
            assert record["block_ok"], (path.name, record["uri"])
            assert record["payload_ok"] in (None, True), (path.name, record["uri"])
        total += len(records)
    return total


def check_rows_point_at_whole_records(archive: Path) -> int:
    """Every captures and hops row with a WARC location names a closed file and a whole record there."""
    checked = 0
    for row in db_rows(archive, "SELECT * FROM captures WHERE warc_file IS NOT NULL"):
        path = archive / row["warc_file"]
        assert path.is_file(), f"captures row {row['id']} points at {row['warc_file']}, which is not a closed file"
        assert row["warc_offset"] + row["warc_length"] <= path.stat().st_size, row["id"]
        record = read_at(path, row["warc_offset"], row["warc_length"])
        assert record.rec_headers.get_header("WARC-Record-ID") == row["warc_record_id"], row["id"]
        if row["record_type"] == "response" and not row["truncated"]:
            body = record.content_stream().read()
            assert sha256(body) == row["payload_sha256"], row["requested_url"]
        elif row["record_type"] == "resource":
            assert sha256(record.content_stream().read()) == row["payload_sha256"], row["requested_url"]
        checked += 1
    for row in db_rows(archive, "SELECT * FROM hops WHERE warc_file IS NOT NULL"):
        path = archive / row["warc_file"]
        assert path.is_file(), row["warc_file"]
        record = read_at(path, row["warc_offset"], row["warc_length"])
        assert record.rec_headers.get_header("WARC-Record-ID") == row["warc_record_id"]
    # The database itself is whole.
    assert db_value(archive, "PRAGMA integrity_check") == "ok"
    return checked


def whole_prefix(path: Path) -> int:
    """Bytes of ``path`` made of whole gzip members, found with zlib alone (not archiver's code)."""
    import zlib

    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        decompressor = zlib.decompressobj(31)
        try:
            decompressor.decompress(data[offset:])
        except zlib.error:
            break
        if not decompressor.eof:
            break
        offset = len(data) - len(decompressor.unused_data)
    return offset
