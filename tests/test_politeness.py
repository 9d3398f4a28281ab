"""Fetching like a good citizen: retries with backoff, Retry-After, per-host limits, delay, User-Agent."""

from __future__ import annotations

import threading
import time

from archiver import USER_AGENT, __version__
from archiver.net.fetch import FetchOptions, Fetcher
from tests import webserver as ws


def test_retry_after_429_and_503(server):
    calls = {"/busy": 0, "/down": 0}
    seen: list[float] = []

    def busy(h):
        calls["/busy"] += 1
        seen.append(time.monotonic())
        if calls["/busy"] == 1:
            ws.send(h, 429, b"slow down", {"Retry-After": "1"})
        else:
            ws.send(h, 200, b"ok now")

    def down(h):
        calls["/down"] += 1
        ws.send(h, 503, b"maintenance", {"Retry-After": "3600"})

    server.route("/busy", busy)
    server.route("/down", down)
    with Fetcher(FetchOptions(allow_private=True, retries=2, backoff=0.05, retry_after_cap=0.5, total_timeout=120)) as fetcher:
        result = fetcher.fetch(server.url("/busy"))
        assert result.final.status == 200 and calls["/busy"] == 2
        assert seen[1] - seen[0] >= 0.45  # Retry-After honoured, up to the cap
        result = fetcher.fetch(server.url("/down"))
        assert result.final.status == 503 and calls["/down"] == 3  # retried, then recorded as it is


def test_no_retry_on_404(server):
    with Fetcher(FetchOptions(allow_private=True, retries=3, backoff=0.01)) as fetcher:
        assert fetcher.fetch(server.url("/absent")).final.status == 404
    assert server.hits["/absent"] == 1


def test_per_host_limit_and_delay(server):
    state = {"now": 0, "max": 0, "starts": []}
    both_in = threading.Condition()

    def slow(h):
        with both_in:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            state["starts"].append(time.monotonic())
            both_in.notify_all()
            # The first request waits for a second one to be in flight, so two do overlap
            # however slowly the machine starts them; the limit is what keeps a third out.
            both_in.wait_for(lambda: state["max"] >= 2, timeout=60)
        time.sleep(0.3)
        with both_in:
            state["now"] -= 1
        ws.send(h, 200, b"done")

    for i in range(6):
        server.route(f"/slow/{i}", slow)
    with Fetcher(FetchOptions(allow_private=True, concurrency=8, per_host=2)) as fetcher:
        results = dict(fetcher.fetch_many((server.url(f"/slow/{i}"), None) for i in range(6)))
    assert all(r.final.status == 200 for r in results.values())
    assert state["max"] == 2

    state.update(now=0, max=0, starts=[])
    with Fetcher(FetchOptions(allow_private=True, concurrency=8, per_host=4, delay=0.25)) as fetcher:
        list(fetcher.fetch_many((server.url(f"/slow/{i}"), None) for i in range(4)))
    starts = sorted(state["starts"])
    assert all(b - a >= 0.2 for a, b in zip(starts, starts[1:], strict=False))


def test_user_agent(server, cli, tmp_path):
    agents = []

    def record(h):
        agents.append(h.headers.get("User-Agent"))
        ws.send(h, 200, ws.page("UA", "<p>hello</p>"))

    server.route("/ua", record)
    with Fetcher(FetchOptions(allow_private=True)) as fetcher:
        fetcher.fetch(server.url("/ua"))
    assert agents[-1] == USER_AGENT
    assert f"archiver/{__version__}" in USER_AGENT and "http" in USER_AGENT
    cli("capture", server.url("/ua"), "--allow-private", "--user-agent", "Research bot (+mailto:lab@example.org)")
    assert agents[-1] == "Research bot (+mailto:lab@example.org)"


def test_cookies_stay_within_one_fetch(server):
    """A cookie set by one source is not sent to another, but survives the redirect hops of one fetch."""
    seen = {}

    def setter(h):
        ws.send(h, 302, b"", {"Location": "/cookie/check", "Set-Cookie": "session=abc; Path=/"})

    def check(h):
        seen[h.path] = h.headers.get("Cookie")
        ws.send(h, 200, b"ok")

    server.route("/cookie/set", setter)
    server.route("/cookie/check", check)
    server.route("/cookie/other", check)
    with Fetcher(FetchOptions(allow_private=True)) as fetcher:
        fetcher.fetch(server.url("/cookie/set"))
        assert seen["/cookie/check"] == "session=abc"
        fetcher.fetch(server.url("/cookie/other"))
        assert seen["/cookie/other"] is None


def test_name_lookups_have_a_deadline():
    """getaddrinfo has no timeout of its own; archiver gives it one (a resolver that never answers)."""
    import socket

    import pytest

    from archiver.net.guard import resolve

    release = threading.Event()

    def stuck_resolver(*args):
        release.wait()  # never answers by itself: only the deadline can end the lookup
        return []

    try:
        with pytest.raises(socket.gaierror, match="no answer from the resolver within 0.3 s"):
            resolve("slow.example", 80, 0.3, lookup=stuck_resolver)
    finally:
        release.set()
    assert resolve("localhost", 80, 5)  # the real resolver still answers through the same path
