"""--notify: the run's outcome POSTed as JSON to a real webhook on 127.0.0.1, retried, never failing the run."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from archiver.notify import notify
from archiver.sample import INTERVIEW_URL, SampleWeb
from tests import webserver as ws
from tests.conftest import Cli
from tests.helpers import FAST, build_sample


class Hook:
    """A webhook that answers each POST with the next status of ``statuses`` (then 200) and keeps the bodies."""

    def __init__(self, server: ws.TestServer, statuses: list[int] = ()):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.statuses = list(statuses)
        self._lock = threading.Lock()
        server.post_routes["/hook"] = self.handle
        self.url = server.url("/hook")

    def handle(self, h) -> None:
        body = h.rfile.read(int(h.headers["Content-Length"]))
        with self._lock:
            self.bodies.append(json.loads(body))
            self.headers.append(dict(h.headers))
            status = self.statuses.pop(0) if self.statuses else 200
        ws.send(h, status, b"ok", {"Content-Type": "text/plain", "Retry-After": "0"})


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/hook"


def test_recheck_notifies_with_the_documented_body_and_retries(server, tmp_path):
    hook = Hook(server, statuses=[503, 500])  # two failures, then accepted
    archive = build_sample(tmp_path / "archive", (1,))
    with SampleWeb(hang_seconds=0.5) as web:
        quiet = Cli(archive)("recheck", "--all", "--proxy", web.proxy_url, *FAST, "--notify", hook.url)
        assert quiet.exit_code == 0 and hook.bodies == []  # nothing changed: no notification
        web.version = 2
        loud = Cli(archive)("recheck", "--all", "--proxy", web.proxy_url, *FAST, "--notify", hook.url)
    assert loud.exit_code == 0 and loud.stderr == ""
    assert len(hook.bodies) == 3  # 503, 500, then 200
    body = hook.bodies[-1]
    assert {b["delivery_id"] for b in hook.bodies} == {body["delivery_id"]}  # one notification, retried
    assert body["notify_version"] == 1 and body["event"] == "archiver.recheck"
    assert body["summary"].startswith("archiver recheck: 1 quotation changed, ")
    assert body["text"].startswith("QUOTATION ") and INTERVIEW_URL in body["text"]  # what cron mail says
    assert body["archive"] == str(archive) and body["software"].startswith("archiver/") and body["sent_at"].endswith("Z")
    result = body["result"]
    assert {c["kind"] for c in result["changes"]} >= {"gone", "content_changed"} and result["quotes"]
    assert hook.headers[-1]["Content-Type"].startswith("application/json")
    assert hook.headers[-1]["X-Archiver-Event"] == "archiver.recheck"


def test_a_dead_webhook_never_fails_the_run(tmp_path):
    archive = build_sample(tmp_path / "archive", (1,))
    with SampleWeb(hang_seconds=0.5) as web:
        web.version = 2
        result = Cli(archive)("recheck", "--all", "--proxy", web.proxy_url, *FAST, "--notify", closed_port_url())
    assert result.exit_code == 0
    assert result.stdout.startswith("QUOTATION ")
    assert "archiver: warning: --notify" in result.stderr and "the run itself is recorded" in result.stderr
    import sqlite3

    db = sqlite3.connect(archive / "archive.db")
    assert db.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0] == "finished"
    assert db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] > 0


def test_refused_notification_is_not_retried(server):
    hook = Hook(server, statuses=[404, 404, 404])
    problem = notify(hook.url, "recheck", {"changes": [], "quotes": [], "checked": 3}, "text", "/a", attempts=3)
    assert problem == "the webhook answered HTTP 404" and len(hook.bodies) == 1


def test_a_webhook_that_never_answers_is_given_up(server):
    stop = threading.Event()
    server.post_routes["/slow"] = ws.never_answer(stop)
    try:
        problem = notify(server.url("/slow"), "verify", {"ok": False, "problems": [{}]}, "text", "/a", attempts=2, timeout=0.5, deadline=5)
    finally:
        stop.set()
    assert problem and problem.startswith("no answer")


def test_verify_notifies_on_problems_only(server, tmp_path):
    hook = Hook(server)
    archive = build_sample(tmp_path / "archive", (1,))
    assert Cli(archive)("verify", "--notify", hook.url).exit_code == 0 and hook.bodies == []
    assert Cli(archive)("verify", "--notify", hook.url, "--notify-always").exit_code == 0
    assert hook.bodies[-1]["summary"] == "archiver verify: no problems" and hook.bodies[-1]["result"]["ok"] is True
    warc = sorted((archive / "warcs").glob("*.warc.gz"))[0]
    warc.write_bytes(warc.read_bytes()[:-100])
    assert Cli(archive)("verify", "-q", "--notify", hook.url).exit_code == 1
    assert hook.bodies[-1]["event"] == "archiver.verify" and hook.bodies[-1]["result"]["ok"] is False
    assert "PROBLEM" in hook.bodies[-1]["text"]


@pytest.mark.parametrize("command", ["recheck", "verify"])
def test_notify_url_from_the_environment(command):
    from archiver.cli import main

    option = next(p for p in main.commands[command].params if p.name == "notify_urls")
    assert option.envvar == "ARCHIVER_NOTIFY"
