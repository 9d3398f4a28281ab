"""Two runs at once: two rechecks (cron overlapping itself), and a capture while others read."""

from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from tests import webserver as ws
from tests.helpers import FAST_LOCAL, article_page
from tests.procs import Proc, check_closed_warcs, check_rows_point_at_whole_records, db_rows, db_value, run, wait_until

pytestmark = pytest.mark.slow  # real subprocesses side by side: left out of ./scripts/test -m 'not slow'

PATHS = [f"/src/{i}" for i in range(5)]


@pytest.fixture
def slow_site(server):
    """The sources answer only while ``server.open`` is set: a test holds a run where it wants it."""
    server.static("/article", article_page(PATHS))
    server.open = threading.Event()
    server.open.set()

    def source(i: int):
        def handler(h: BaseHTTPRequestHandler) -> None:
            server.open.wait(300)
            ws.send(h, 200, ws.page(f"Source {i}", f"<p>Source {i} says the bridge is late.</p>"))

        return handler

    for i, path in enumerate(PATHS):
        server.route(path, source(i))
    return server


def captured(server, archive, logs):
    done = run(archive, ["capture", server.url("/article"), *FAST_LOCAL], logs, name="capture")
    assert done.popen.returncode == 0, done.stderr
    return db_value(archive, "SELECT max(id) FROM runs")


def no_lock_errors(*procs: Proc) -> None:
    for proc in procs:
        assert "locked" not in proc.stderr.lower().replace("another archiver run", ""), proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr


def test_a_second_recheck_while_one_runs_exits(slow_site, tmp_path):
    """Cron overlapping itself: the first recheck is held mid-run, so the two surely overlap."""
    archive, logs = tmp_path / "archive", tmp_path / "logs"
    capture_run = captured(slow_site, archive, logs)
    slow_site.open.clear()
    args = ["recheck", "--all", "--concurrency", "1", *FAST_LOCAL]
    first = Proc(archive, args, logs, "a")
    try:
        wait_until(lambda: (db_value(archive, "SELECT count(*) FROM runs WHERE command = 'recheck'") or 0) >= 1, 120, first)
        second = Proc(archive, args, logs, "b")
        second.wait(120)
    finally:
        slow_site.open.set()
    codes = (first.wait(120), second.popen.returncode)
    assert codes == (0, 0), (first.stderr, second.stderr)
    no_lock_errors(first, second)
    # Exactly one of them ran; the other said so in one line and did nothing.
    rechecks = db_rows(archive, "SELECT id, status FROM runs WHERE command = 'recheck'")
    assert [r["status"] for r in rechecks] == ["finished"]
    idle = [p for p in (first, second) if "another archiver run" in p.stderr]
    assert len(idle) == 1
    assert len(idle[0].stderr.strip().splitlines()) == 1
    # No duplicates: each URL checked once.
    counts = db_rows(archive, "SELECT url_id, count(*) AS n FROM captures WHERE run_id > ? GROUP BY url_id", (capture_run,))
    assert len(counts) == len(PATHS) + 1 and all(r["n"] == 1 for r in counts)
    check_closed_warcs(archive)
    check_rows_point_at_whole_records(archive)


def test_recheck_with_wait_runs_after_the_other_and_finds_nothing_due(slow_site, tmp_path):
    archive, logs = tmp_path / "archive", tmp_path / "logs"
    capture_run = captured(slow_site, archive, logs)
    # URLs the capture just tracked are due a day later; make them due now.
    conn = sqlite3.connect(archive / "archive.db")
    conn.execute("UPDATE urls SET next_check_at = '2000-01-01T00:00:00.000Z' WHERE next_check_at IS NOT NULL")
    conn.commit()
    conn.close()
    slow_site.open.clear()  # the first run is held until the second is waiting for the lock
    first = Proc(archive, ["recheck", "--concurrency", "1", *FAST_LOCAL], logs, "a")
    try:
        wait_until(lambda: (db_value(archive, "SELECT count(*) FROM runs WHERE command = 'recheck'") or 0) >= 1, 120, first)
        second = Proc(archive, ["recheck", "--wait", "--concurrency", "1", *FAST_LOCAL], logs, "b")
        wait_until(lambda: second.has_open(archive / ".lock"), 120, second)
        assert second.alive()
    finally:
        slow_site.open.set()
    assert (first.wait(120), second.wait(120)) == (0, 0), (first.stderr, second.stderr)
    no_lock_errors(first, second)
    runs = db_rows(archive, "SELECT id, status, started_at, finished_at, urls_total FROM runs WHERE command = 'recheck' ORDER BY id")
    assert [r["status"] for r in runs] == ["finished", "finished"]
    # The waiting run started after the first ended, and everything was checked once.
    assert runs[1]["started_at"] >= runs[0]["finished_at"]
    assert runs[0]["urls_total"] == len(PATHS) + 1 and runs[1]["urls_total"] == 0
    counts = db_rows(archive, "SELECT url_id, count(*) AS n FROM captures WHERE run_id > ? GROUP BY url_id", (capture_run,))
    assert len(counts) == len(PATHS) + 1 and all(r["n"] == 1 for r in counts)


def test_capture_while_others_read(slow_site, tmp_path):
    """WAL: readers (query, report, changes, plain sqlite3) and a writing capture all succeed."""
    archive, logs = tmp_path / "archive", tmp_path / "logs"
    captured(slow_site, archive, logs)
    slow_site.open.clear()  # the writer is held until the readers have had one round
    writer = Proc(archive, ["capture", slow_site.url("/article"), "--concurrency", "1", *FAST_LOCAL], logs, "capture2")
    article_url = slow_site.url("/article")
    readers: list[Proc] = []
    direct_reads = 0
    counts = []
    commands = [["query", "SELECT count(*) AS n FROM captures", "--json"], ["report", article_url, "--format", "json"], ["changes"]]
    while writer.alive():
        for command in commands:
            readers.append(run(archive, command, logs, name=command[0]))
        conn = sqlite3.connect(f"file:{archive / 'archive.db'}?mode=ro", uri=True, timeout=30)  # WAL: readers never wait on the writer; this only bounds a checkpoint
        try:
            counts.append(conn.execute("SELECT count(*) FROM captures").fetchone()[0])
            conn.execute("SELECT * FROM captures ORDER BY id").fetchall()
            direct_reads += 1
        finally:
            conn.close()
        slow_site.open.set()
    assert writer.wait(120) == 0, writer.stderr
    no_lock_errors(writer, *readers)
    for proc in readers:
        assert proc.popen.returncode == 0, (proc.popen.args, proc.stderr)
    assert len(readers) >= len(commands) and direct_reads >= 1
    # The readers saw the capture progress (committed rows only) and the writer was not held up.
    assert counts == sorted(counts)
    queried = [json.loads(p.stdout)[0]["n"] for p in readers if p.popen.args[5] == "query"]
    assert queried == sorted(queried)
    check_closed_warcs(archive)
    check_rows_point_at_whole_records(archive)
