"""kill -9 at several moments of a capture and a recheck, a full disk, a read-only archive.

The archiver runs as a real subprocess against a real server on 127.0.0.1 and is killed
with SIGKILL (no cleanup of any kind runs). Afterwards the WARC files are read with warcio
and FastWARC, the database with sqlite3, and the next run must repair and finish the work.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import threading
import time
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests import webserver as ws
from tests.helpers import FAST_FETCH, FAST_LOCAL, article_page
from tests.procs import (
    Proc,
    check_closed_warcs,
    check_rows_point_at_whole_records,
    closed_files,
    db_rows,
    db_value,
    open_files,
    run,
    wait_until,
    whole_prefix,
)

pytestmark = pytest.mark.slow  # real subprocesses killed and rerun: left out of ./scripts/test -m 'not slow'

BIG = 24 * 1024 * 1024
SMALL_SOURCES = ["/src/minutes", "/src/report", "/src/statement", "/src/letter"]


def delayed(seconds: float, body: bytes, content_type: str = "text/html; charset=utf-8"):
    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        ws.send(h, 200, body, {"Content-Type": content_type})

    return handler




@pytest.fixture
def site(server):
    server.static("/article", article_page(SMALL_SOURCES + ["/src/big"]))
    for i, path in enumerate(SMALL_SOURCES):
        server.route(path, delayed(0.05 * i, ws.page(f"Source {i}", f"<p>Source number {i} says the bridge is late.</p>")))
    # Incompressible, so its record is written in many pieces. Sent once ``big_ready`` returns,
    # which a test sets to wait for whatever must happen first, whatever the clock says.
    big = os.urandom(BIG)
    server.big_ready = lambda: None

    def big_source(h: BaseHTTPRequestHandler) -> None:
        server.big_ready()
        ws.send(h, 200, big, {"Content-Type": "application/octet-stream"})

    server.route("/src/big", big_source)
    return server


def runs(archive: Path) -> list[dict]:
    return [dict(r) for r in db_rows(archive, "SELECT id, command, status, args FROM runs ORDER BY id")]


def captures_by_path(archive: Path, run_id: int | None = None) -> dict[str, int]:
    sql = "SELECT requested_url, count(*) FROM captures" + (" WHERE run_id = ?" if run_id else "") + " GROUP BY requested_url"
    rows = db_rows(archive, sql, (run_id,) if run_id else ())
    return {re.sub(r"^http://127\.0\.0\.1:\d+", "", url): n for url, n in rows}


def check_after_kill(archive: Path) -> None:
    """Right after the kill, before any repair: closed files whole, rows point only at whole records."""
    check_closed_warcs(archive)
    prefixes = {p: whole_prefix(p) for p in open_files(archive)}
    for row in db_rows(archive, "SELECT * FROM captures WHERE warc_file IS NOT NULL"):
        path = archive / row["warc_file"]
        if not path.exists():
            open_path = Path(str(path) + ".open")
            assert open_path in prefixes, row["warc_file"]
            # Rows are written after their records are flushed: the record lies in the whole part.
            assert row["warc_offset"] + row["warc_length"] <= prefixes[open_path]
    assert db_value(archive, "PRAGMA integrity_check") == "ok"


def check_repaired(archive: Path) -> None:
    assert open_files(archive) == []
    check_closed_warcs(archive)
    check_rows_point_at_whole_records(archive)


def recorded(archive: Path, paths: list[str]) -> bool:
    """Whether every one of ``paths`` has a captures row (read-only, while the run writes)."""
    try:
        done = captures_by_path(archive)
    except sqlite3.Error:  # the database is not there yet
        return False
    return all(path in done for path in paths)


def test_kill_mid_large_record_then_resume(site, tmp_path):
    archive = tmp_path / "archive"
    logs = tmp_path / "logs"
    args = ["capture", site.url("/article"), "--warc-size", "2k", "--json", *FAST_LOCAL]
    # The big source is sent once the small ones are recorded, and the process stops itself
    # when the 24 MiB record is 3 MB into its file: the kill lands inside that record.
    site.big_ready = lambda: wait_until(lambda: recorded(archive, SMALL_SOURCES), 120)
    proc = Proc(archive, args, logs, "capture", freeze_past=3_000_000)
    try:
        wait_until(proc.frozen, 120, proc)
    finally:
        proc.kill()
    site.big_ready = lambda: None

    [open_path] = open_files(archive)
    size = open_path.stat().st_size
    keep = whole_prefix(open_path)
    assert 0 < keep < size, "the kill should land inside the large record"
    assert len(closed_files(archive)) >= 1, "rotation at 2k should have closed earlier files"
    check_after_kill(archive)
    [killed] = runs(archive)
    assert killed["status"] == "running"
    first = captures_by_path(archive, killed["id"])
    recorded_small = [p for p in SMALL_SOURCES if p in first]
    assert recorded_small == SMALL_SOURCES, "the small sources were recorded before the kill"
    assert "/src/big" not in first

    # The same command again: repairs the open file, marks the killed run, resumes the work.
    again = run(archive, args, logs, timeout=60, name="capture2")
    assert again.popen.returncode == 0, again.stderr
    repaired = Path(str(open_path)[: -len(".open")])
    assert repaired.stat().st_size == keep, "the partial record is cut off, the whole ones kept"
    check_repaired(archive)

    killed_run, resumed = runs(archive)
    assert killed_run["status"] == "interrupted"
    assert resumed["status"] == "finished"
    assert json.loads(resumed["args"])["resumes"] == [killed_run["id"]]
    # Sources the killed run recorded are reused, not fetched again; the rest are fetched now.
    for path in recorded_small:
        assert site.hits[path] == 1, path
    assert site.hits["/src/big"] == 2
    totals = captures_by_path(archive)
    for path in SMALL_SOURCES + ["/src/big"]:
        assert totals[path] == 1, (path, totals)
    # ...and the outcome names every source with its capture.
    outcome = json.loads(again.stdout)
    sources = {re.sub(r"^http://127\.0\.0\.1:\d+", "", s["url"]): s for s in outcome["articles"][0]["sources"]}
    assert set(sources) == set(SMALL_SOURCES + ["/src/big"])
    assert all(s["status"] == 200 and s["capture_id"] for s in sources.values())
    big = db_rows(archive, "SELECT content_length, warc_file FROM captures WHERE requested_url LIKE '%/src/big'")[0]
    assert big["content_length"] == BIG
    # Every source the article cites is tracked for recheck, reused or not.
    assert db_value(archive, "SELECT count(*) FROM urls WHERE next_check_at IS NULL AND url LIKE '%/src/%'") == 0


def test_kill_right_after_the_first_file_opens(site, tmp_path):
    """The earliest moment: a file just created (perhaps not even its warcinfo whole)."""
    archive = tmp_path / "archive"
    logs = tmp_path / "logs"
    args = ["capture", site.url("/article"), *FAST_LOCAL]
    held = threading.Event()
    site.big_ready = lambda: held.wait(300)  # the run cannot finish before the kill
    proc = Proc(archive, args, logs, "capture")
    try:
        wait_until(lambda: bool(open_files(archive)), 120, proc, interval=0.001)
    finally:
        proc.kill()
        held.set()
    site.big_ready = lambda: None
    check_after_kill(archive)
    again = run(archive, args, logs, timeout=60, name="capture2")
    assert again.popen.returncode == 0, again.stderr
    check_repaired(archive)
    statuses = [r["status"] for r in runs(archive)]
    assert statuses[-1] == "finished" and all(s == "interrupted" for s in statuses[:-1])
    assert all(n == 1 for p, n in captures_by_path(archive).items() if p.startswith("/src/"))


def test_kill_during_recheck_then_resume(server, tmp_path):
    archive = tmp_path / "archive"
    logs = tmp_path / "logs"
    paths = [f"/src/{i}" for i in range(6)]
    server.static("/article", article_page(paths))
    # During the killed recheck, sources past the second are held until after the kill: it
    # cannot check them all first, however fast the machine.
    holding = {"on": False, "served": 0}
    released = threading.Event()

    def source(i: int):
        def handler(h: BaseHTTPRequestHandler) -> None:
            if holding["on"]:
                holding["served"] += 1
                if holding["served"] > 2:
                    released.wait(300)
            ws.send(h, 200, ws.page(f"Source {i}", f"<p>Source {i} says the bridge is late.</p>"))

        return handler

    for i, path in enumerate(paths):
        server.route(path, source(i))
    first = run(archive, ["capture", server.url("/article"), *FAST_LOCAL], logs, name="capture")
    assert first.popen.returncode == 0, first.stderr
    [capture_run] = runs(archive)

    holding["on"] = True
    args = ["recheck", "--all", "--concurrency", "1", *FAST_LOCAL]
    proc = Proc(archive, args, logs, "recheck")
    try:
        wait_until(
            lambda: (db_value(archive, "SELECT count(*) FROM captures WHERE run_id > ?", (capture_run["id"],)) or 0) >= 2,
            120,
            proc,
        )
    finally:
        proc.kill()
        holding["on"] = False
        released.set()
    check_after_kill(archive)
    killed = runs(archive)[-1]
    done_before = captures_by_path(archive, killed["id"])
    assert 2 <= sum(done_before.values()) < len(paths) + 1

    again = run(archive, args, logs, timeout=60, name="recheck2")
    assert again.popen.returncode == 0, again.stderr
    check_repaired(archive)
    *_, killed_run, resumed = runs(archive)
    assert killed_run["status"] == "interrupted" and resumed["status"] == "finished"
    assert json.loads(resumed["args"])["resumes"] == [killed_run["id"]]
    # Between them the two recheck runs checked every URL exactly once.
    rechecked = db_rows(
        archive,
        "SELECT requested_url, count(*) AS n FROM captures WHERE run_id IN (?, ?) GROUP BY requested_url",
        (killed_run["id"], resumed["id"]),
    )
    assert len(rechecked) == len(paths) + 1 and all(r["n"] == 1 for r in rechecked)
    for path in done_before:
        if path.startswith("/src/"):
            assert server.hits[path] == 2, path  # capture + the killed recheck; not again
    assert db_value(archive, "SELECT count(*) FROM urls WHERE last_checked_at IS NULL AND url LIKE '%/src/%'") == 0


def test_recorded_but_unjudged_capture_is_judged_without_fetching_again(server, tmp_path, monkeypatch):
    """A crash between a recheck's capture row and its verdict: the next run judges that capture."""
    from archiver import Archive, RecheckOptions
    from archiver.runs.recheck import RecheckRun

    archive_dir = tmp_path / "archive"
    paths = ["/src/a", "/src/b"]
    server.static("/article", article_page(paths))
    for path in paths:
        server.static(path, ws.page("Source", f"<p>{path} says the bridge is late.</p>"))
    assert run(archive_dir, ["capture", server.url("/article"), *FAST_LOCAL], tmp_path / "logs").popen.returncode == 0
    server.static("/src/a", ws.page("Source", "<p>Now it says something else entirely, about ferries.</p>"))
    options = RecheckOptions(fetch=replace(FAST_FETCH, allow_private=True, concurrency=1), due_only=False)

    class Crash(BaseException):
        pass

    def crash(self, *args, **kwargs):
        raise Crash()

    with Archive(archive_dir) as archive:
        monkeypatch.setattr(RecheckRun, "_judge", crash)
        with pytest.raises(Crash):
            archive.recheck(options)
        # What a kill leaves: the run still 'running'.
        archive.store.conn.execute("UPDATE runs SET status = 'running', finished_at = NULL WHERE command = 'recheck'")
    monkeypatch.undo()
    crashed = db_value(archive_dir, "SELECT max(id) FROM runs")
    [(recorded_url,)] = db_rows(archive_dir, "SELECT requested_url FROM captures WHERE run_id = ?", (crashed,))
    with Archive(archive_dir) as archive:  # opening repairs what the crash left
        outcome = archive.recheck(options)
    assert outcome.checked == len(paths) + 1
    # Every URL has exactly one capture from the two recheck runs: the one recorded before the
    # crash was judged from that capture, not fetched again.
    rows = db_rows(
        archive_dir,
        "SELECT requested_url, count(*) AS n FROM captures WHERE run_id IN (?, ?) GROUP BY requested_url",
        (crashed, outcome.run_id),
    )
    assert len(rows) == len(paths) + 1 and all(r["n"] == 1 for r in rows)
    assert recorded_url not in [r["requested_url"] for r in db_rows(archive_dir, "SELECT requested_url FROM captures WHERE run_id = ?", (outcome.run_id,))]
    assert db_value(archive_dir, "SELECT count(*) FROM urls WHERE last_checked_at IS NULL") == 0
    # The changed source is reported whichever run recorded it.
    assert [re.sub(r"^http://127\.0\.0\.1:\d+", "", c.url) for c in outcome.changes] == ["/src/a"]


# -- full disk, read-only archive ----------------------------------------------------------------


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip() or 'not permitted'}): full-disk and read-only tests need one")


@pytest.fixture
def small_disk(tmp_path):
    where = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    _mount_tmpfs(where, "3m")
    yield where
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_full_disk_stops_the_run_with_a_message_and_keeps_what_was_written(server, small_disk, tmp_path):
    archive = small_disk / "archive"
    logs = tmp_path / "logs"
    server.static("/small", article_page(["/src/one"]))
    server.static("/src/one", ws.page("One", "<p>One source.</p>"))
    server.static("/large", article_page(["/src/two", "/src/huge"]))
    server.static("/src/two", ws.page("Two", "<p>Two source.</p>"))
    server.static("/src/huge", os.urandom(8 * 1024 * 1024), headers={"Content-Type": "application/octet-stream"})

    ok = run(archive, ["capture", server.url("/small"), *FAST_LOCAL], logs)
    assert ok.popen.returncode == 0, ok.stderr
    before = check_rows_point_at_whole_records(archive)

    full = run(archive, ["capture", server.url("/large"), *FAST_LOCAL], logs, name="full")
    assert full.popen.returncode == 1, (full.stdout, full.stderr)
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and "disk full" in lines[0], full.stderr
    assert "Traceback" not in full.stderr
    # The failed record was cut off at once: every file whole, every row pointing at a whole record.
    check_closed_warcs(archive)
    for path in open_files(archive):
        assert whole_prefix(path) == path.stat().st_size
    assert check_rows_point_at_whole_records(archive) >= before
    assert db_value(archive, "SELECT count(*) FROM captures WHERE requested_url LIKE '%/src/huge'") == 0

    # Space freed (the big source gone): the next run works and nothing needs repair beyond the usual.
    server.static("/src/huge", b"small now", headers={"Content-Type": "text/plain"})
    again = run(archive, ["capture", server.url("/large"), *FAST_LOCAL], logs, name="again")
    assert again.popen.returncode == 0, again.stderr
    check_repaired(archive)


def test_read_only_archive_stops_with_a_message_and_changes_nothing(server, small_disk, tmp_path):
    archive = small_disk / "archive"
    logs = tmp_path / "logs"
    server.static("/small", article_page(["/src/one"]))
    server.static("/src/one", ws.page("One", "<p>One source.</p>"))
    ok = run(archive, ["capture", server.url("/small"), *FAST_LOCAL], logs)
    assert ok.popen.returncode == 0, ok.stderr
    snapshot = {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()}
    done = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only: {done.stderr.decode().strip()}")
    for args in (["capture", server.url("/small")], ["recheck", "--all"]):
        proc = run(archive, [*args, *FAST_LOCAL], logs, name=args[0])
        assert proc.popen.returncode == 1, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "read-only" in lines[0], proc.stderr
    # Reading still works on a read-only archive.
    listed = run(archive, ["changes"], logs, name="changes")
    assert listed.popen.returncode == 0, listed.stderr
    assert {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()} == snapshot
    check_closed_warcs(archive)
