"""A small web archive on 127.0.0.1 speaking Memento (RFC 7089) in the Wayback URL forms.

    GET /web/timemap/link/URI-R        TimeMap (application/link-format), 404 when nothing is held
    GET /web/URI-R                     TimeGate: Accept-Datetime -> 302 to the closest memento
    GET /web/YYYYMMDDhhmmss/URI-R      memento as replayed (a banner added, Memento-Datetime, Link)
    GET /web/YYYYMMDDhhmmssid_/URI-R   memento as captured (the bytes only, Memento-Datetime)
    GET /save/URI-R                    Save Page Now style: archives what ``live`` says now, 302 to it
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime, UTC
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

_MEMENTO = re.compile(r"^/web/(\d{14})(id_)?/(.+)$")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


class MementoServer:
    """``held[uri_r] = [(datetime, html bytes), ...]``; ``broken_timemaps`` answer 500."""

    def __init__(self, live: Callable[[str], bytes] | None = None) -> None:
        self.held: dict[str, list[tuple[datetime, bytes]]] = {}
        self.broken_timemaps: set[str] = set()
        self.live = live
        self.requests: list[str] = []
        self.saves: list[tuple[float, str]] = []  # (monotonic arrival, uri_r)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(self.path)
                server.answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def timemap(self) -> str:
        return self.base + "/web/timemap/link/"

    @property
    def timegate(self) -> str:
        return self.base + "/web/"

    @property
    def save(self) -> str:
        return self.base + "/save/"

    def add(self, uri_r: str, moment: datetime, body: bytes) -> str:
        self.held.setdefault(uri_r, []).append((moment, body))
        self.held[uri_r].sort()
        return f"{self.base}/web/{stamp(moment)}/{uri_r}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- answers --------------------------------------------------------------------------------

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        if path.startswith("/web/timemap/link/"):
            return self._timemap(h, path[len("/web/timemap/link/"):])
        if path.startswith("/save/"):
            return self._save(h, path[len("/save/"):])
        match = _MEMENTO.match(path)
        if match:
            return self._memento(h, match.group(3), match.group(1), bool(match.group(2)))
        if path.startswith("/web/"):
            return self._timegate(h, path[len("/web/"):])
        self._send(h, 404, b"not here")

    def _timemap(self, h, uri_r: str) -> None:
        if uri_r in self.broken_timemaps:
            return self._send(h, 500, b"TimeMap service unavailable")
        held = self.held.get(uri_r)
        if not held:
            return self._send(h, 404, b"")
        lines = [f'<{uri_r}>; rel="original"', f'<{self.timemap}{uri_r}>; rel="self"; type="application/link-format"', f'<{self.timegate}{uri_r}>; rel="timegate"']
        for number, (moment, _) in enumerate(held):
            rel = "memento"
            if number == 0:
                rel = "first memento"
            if number == len(held) - 1:
                rel = "last memento" if number else "first last memento"
            lines.append(f'<{self.base}/web/{stamp(moment)}/{uri_r}>; rel="{rel}"; datetime="{format_datetime(moment, usegmt=True)}"')
        self._send(h, 200, (",\n".join(lines) + "\n").encode(), {"Content-Type": "application/link-format"})

    def _timegate(self, h, uri_r: str) -> None:
        held = self.held.get(uri_r)
        if not held:
            return self._send(h, 404, b"not archived")
        wanted = h.headers.get("Accept-Datetime")
        when = parsedate_to_datetime(wanted) if wanted else held[-1][0]
        moment, _ = min(held, key=lambda m: abs((m[0] - when).total_seconds()))
        self._send(h, 302, b"", {"Location": f"{self.base}/web/{stamp(moment)}/{uri_r}", "Vary": "accept-datetime",
                                  "Link": f'<{uri_r}>; rel="original"'})

    def _memento(self, h, uri_r: str, when: str, raw: bool) -> None:
        found = next((body for moment, body in self.held.get(uri_r, []) if stamp(moment) == when), None)
        if found is None:
            return self._send(h, 404, b"no such memento")
        moment = datetime.strptime(when, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        headers = {"Content-Type": "text/html; charset=utf-8", "Memento-Datetime": format_datetime(moment, usegmt=True),
                   "Link": f'<{uri_r}>; rel="original", <{self.timemap}{uri_r}>; rel="timemap"'}
        body = found if raw else found.replace(b"<body>", b"<body><div id='wm-banner'>Wayback banner: captured " + when.encode() + b"</div>", 1)
        self._send(h, 200, body, headers)

    def _save(self, h, uri_r: str) -> None:
        with self._lock:
            self.saves.append((time.monotonic(), uri_r))
        now = datetime.now(UTC).replace(microsecond=0)
        body = self.live(uri_r) if self.live else b"<html><body>saved</body></html>"
        location = self.add(uri_r, now, body)
        self._send(h, 302, b"", {"Location": location, "Content-Location": location[len(self.base):]})

    @staticmethod
    def _send(h, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        if "Content-Type" not in (headers or {}):
            h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
