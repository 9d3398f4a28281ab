"""The sample citation web: a small HTTP forward proxy that serves invented sites.

Point an HTTP client at ``SampleWeb.proxy_url`` as its proxy and ask for
``http://blog.example/...`` and friends; nothing leaves 127.0.0.1. Requests in
absolute form (``GET http://host/path HTTP/1.1``, what a client sends to a proxy)
and in origin form with a ``Host`` header both work. The sample web is plain
http only: CONNECT (and so https through the proxy) is answered 501.

Stdlib only: http.server.ThreadingHTTPServer on a background thread.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import posixpath
import random
import secrets
import socket
import struct
import threading
import zlib
from datetime import datetime, UTC
from functools import lru_cache, cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from . import routes
from .pdf import pdf_from_text
from .routes import (
    ARTICLE_URL,
    BOILERPLATE_LINKS,
    CITED_SOURCES,
    QUOTED_PASSAGE,
    Route,
    expected_changes,
)

__all__ = [
    "SampleWeb",
    "expected_changes",
    "CITED_SOURCES",
    "BOILERPLATE_LINKS",
    "QUOTED_PASSAGE",
    "ARTICLE_URL",
]

SITE_DIR = Path(__file__).resolve().parent / "site"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json",
}
HTML = "text/html; charset=utf-8"

ROBOTS_TXT = b"User-agent: *\nAllow: /\n"

# Noise for the page that changes on every request.
_NOISE_ADS = [
    "Corrowick Motors: winter tyres fitted while you wait.",
    "Learn to sail this spring with the Tully Marshes Yacht Club.",
    "Ansel Valley Honey: straight from the hive to your table.",
    "Book your harbour-view room at the Old Customs House Hotel.",
    "Vellmark Savings: a fixed rate that stays put.",
    "East Tully Garden Centre: bulbs half price this weekend.",
]
_NOISE_RELATED = [
    ("/news/2026/11/ferry-operator-recruits-crew", "Ferry operator launches crew recruitment drive"),
    ("/news/2026/10/contractor-named-for-crossing", "Contractor named for crossing, but no contract yet"),
    ("/news/2026/10/assembly-questions-minister", "Assembly members press minister on bridge timetable"),
    ("/business/2026/11/steel-prices-ease", "Steel prices ease for the first time in two years"),
    ("/news/2026/09/evening-ferries-reduced", "Evening ferries reduced as staff shortage bites"),
    ("/opinion/2026/11/a-bridge-too-often", "A bridge promised too often"),
    ("/news/2026/11/east-tully-care-home-staff", "Care home staff count the cost of the late boat"),
]


def _png_logo(size: int = 48) -> bytes:
    """A small real PNG: the blog's logo, a river under a bridge deck, drawn pixel by pixel."""
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type 0
        for x in range(size):
            if size * 0.30 <= y < size * 0.38:
                pixel = (0x2A, 0x4D, 0x69)  # bridge deck
            elif y >= size * 0.62:
                wave = (x + y) % 12 < 2
                pixel = (0xE8, 0xF1, 0xF5) if wave else (0x7F, 0xB2, 0xCC)  # river
            elif (x < size * 0.12 or x >= size * 0.88) and y >= size * 0.30:
                pixel = (0x9C, 0x8F, 0x6E)  # banks
            else:
                pixel = (0xFD, 0xFC, 0xF8)  # sky
            row += bytes(pixel)
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


@cache
def _logo() -> bytes:
    return _png_logo()


def _etag(body: bytes, suffix: str = "") -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + suffix + '"'


def _find_file(host: str, path: str, version: int) -> tuple[Path, int] | None:
    """The file for host+path in the highest version directory <= version."""
    if path.endswith("/"):
        path += "index.html"
    rel = posixpath.normpath(path.lstrip("/"))
    if rel.startswith("..") or rel in (".", ""):
        return None
    name = rel.rsplit("/", 1)[-1]
    if name.startswith(("_", ".")):
        return None
    for v in range(version, 0, -1):
        candidate = SITE_DIR / f"v{v}" / host / rel
        if candidate.is_file():
            return candidate, v
    return None


def _content_type(path: str) -> str:
    suffix = posixpath.splitext(path)[1].lower()
    return CONTENT_TYPES.get(suffix, HTML)


class _Response:
    """A response ready to send: status, headers, body and how to frame it."""

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain; charset=utf-8",
        *,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        gzip_ok: bool = False,
        chunked: bool = False,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.etag = etag
        self.last_modified = last_modified
        self.gzip_ok = gzip_ok
        self.chunked = chunked


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SampleWeb/1.0"
    # Idle keep-alive connections are dropped after this long.
    timeout = 120

    web: SampleWeb  # set on the subclass made by SampleWeb.start()

    # --------------------------------------------------------------- plumbing

    def setup(self) -> None:
        super().setup()
        self.web._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.web._track(self.connection, add=False)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from stdlib
        if self.web.verbose:
            super().log_message(format, *args)

    def _target(self) -> tuple[str, str, str]:
        """(scheme, host, path-with-query) of the request, host lower-cased without port."""
        raw = self.path
        if raw.lower().startswith(("http://", "https://")):
            parts = urlsplit(raw)
            scheme = parts.scheme.lower()
            host = (parts.hostname or "").lower()
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            return scheme, host, path
        host_header = self.headers.get("Host", "").strip()
        host = (urlsplit("//" + host_header).hostname or "") if host_header else ""
        return "http", host.lower().rstrip("."), raw or "/"

    def _discard_body(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # not worth decoding a chunked upload here
            return
        if length and length.isdigit():
            remaining = int(length)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)

    # ----------------------------------------------------------------- verbs

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def _other(self) -> None:
        scheme, host, path = self._target()
        self.web._record(self.command, f"{scheme}://{host}{path}")
        self._discard_body()
        self._send(_Response(405, b"sample web: only GET and HEAD are supported\n", headers={"Allow": "GET, HEAD"}), head=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

    def do_CONNECT(self) -> None:
        self.web._record("CONNECT", self.path)
        self.close_connection = True
        self._send(
            _Response(501, b"sample proxy: https (CONNECT) is not supported; the sample web is http only\n"),
            head=False,
        )

    def _handle(self, head: bool) -> None:
        scheme, host, path = self._target()
        self.web._record(self.command, f"{scheme}://{host}{path}")
        if scheme == "https":
            response = _Response(501, b"sample proxy: https is not supported; the sample web is http only\n")
        elif self.web._is_self(host):
            response = self.web._help_page()
        elif host not in routes.KNOWN_HOSTS:
            response = _Response(502, b"sample proxy: unknown host\n")
        else:
            version = self.web.version
            since = routes.HANGING_HOSTS.get(host)
            if since is not None and version >= since:
                self._hang()
                return
            response = self.web._respond(host, path, version)
        self._send(response, head=head)

    def _hang(self) -> None:
        """Accept the request, send nothing, close after hang_seconds (sooner if the server stops)."""
        self.close_connection = True
        self.web._stopping.wait(self.web.hang_seconds)

    # --------------------------------------------------------------- sending

    def _not_modified(self, response: _Response, etag: str | None) -> bool:
        if response.status != 200 or not (etag or response.last_modified):
            return False
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            if not etag:
                return False
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            plain = response.etag
            return "*" in tags or etag in tags or (plain is not None and plain in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims and response.last_modified:
            try:
                since = email.utils.parsedate_to_datetime(ims)
                modified = email.utils.parsedate_to_datetime(response.last_modified)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return modified <= since
        return False

    def _send(self, response: _Response, head: bool) -> None:
        body = response.body
        headers = dict(response.headers)
        etag = response.etag
        if response.gzip_ok:
            headers["Vary"] = "Accept-Encoding"
            if _accepts_gzip(self.headers.get("Accept-Encoding", "")):
                body = gzip.compress(body, compresslevel=6, mtime=0)
                headers["Content-Encoding"] = "gzip"
                if etag:
                    etag = etag[:-1] + '-gzip"'
        if etag:
            headers["ETag"] = etag
        if response.last_modified:
            headers["Last-Modified"] = response.last_modified

        if self._not_modified(response, etag):
            self.send_response(304)
            for name in ("ETag", "Last-Modified", "Vary", "Cache-Control"):
                if name in headers:
                    self.send_header(name, headers[name])
            self.end_headers()
            return

        chunked = response.chunked and self.request_version == "HTTP/1.1"
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        if chunked:
            # Uneven chunk sizes, the way a streaming application server sends them.
            position, sizes, i = 0, (517, 1400, 4096), 0
            while position < len(body):
                piece = body[position:position + sizes[i % len(sizes)]]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                position += len(piece)
                i += 1
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return True
            return True
    return False


class SampleWeb:
    """The sample citation web, served as an HTTP forward proxy on 127.0.0.1.

    >>> with SampleWeb() as web:
    ...     requests.get(web.article_url, proxies={"http": web.proxy_url})

    ``version`` may be changed while the server runs: 1 = day of publication,
    2 = a month later, 3 = two months later (see ``expected_changes``).
    ``hang_seconds`` is how long a host that "stops answering" holds a request
    before closing the connection without a response.
    """

    article_url: str = ARTICLE_URL
    hang_seconds: float = 30.0

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        version: int = 1,
        *,
        hang_seconds: float = 30.0,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.version = version
        self.hang_seconds = hang_seconds
        self.verbose = verbose
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str]] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._random = random.Random()
        self._views = 18_000 + self._random.randrange(4000)

    # ------------------------------------------------------------ lifecycle

    @property
    def version(self) -> int:
        return self._version

    @version.setter
    def version(self, value: int) -> None:
        if value not in routes.VERSIONS:
            raise ValueError(f"sample web version must be one of {routes.VERSIONS}, not {value!r}")
        self._version = value

    def start(self) -> SampleWeb:
        if self._httpd is not None:
            return self
        handler = type("SampleWebHandler", (_Handler,), {"web": self})
        self._stopping.clear()
        httpd = ThreadingHTTPServer((self.host, self.port), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sample-web", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes hanging handlers
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections would otherwise linger
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SampleWeb:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (used by ``python -m archiver.sample serve``)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    @property
    def proxy_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("SampleWeb is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def proxies(self) -> dict[str, str]:
        """A ``proxies`` mapping for requests (http only)."""
        return {"http": self.proxy_url}

    # ------------------------------------------------------------- requests

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, absolute URL) of every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, method: str, url: str) -> None:
        with self._lock:
            self._requests.append((method, url))

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _is_self(self, host: str) -> bool:
        return host in ("", "localhost", self.host, "127.0.0.1", "::1")

    # -------------------------------------------------------------- content

    def _help_page(self) -> _Response:
        text = (
            "This is the archiver sample web, an HTTP forward proxy serving invented sites.\n"
            f"Use it as your HTTP proxy: {self.proxy_url}\n"
            f"Article: {ARTICLE_URL}\n"
            f"Version: {self.version}\n"
            f"e.g. curl -x {self.proxy_url} {ARTICLE_URL}\n"
        )
        return _Response(200, text.encode(), headers={"Cache-Control": "no-store"})

    def _respond(self, host: str, path_and_query: str, version: int) -> _Response:
        path = urlsplit(path_and_query).path or "/"
        if host in routes.STUB_HOSTS:
            return _stub_page(host)
        route = routes.route_for(f"http://{host}{path}", version)
        if route.action == "redirect":
            assert route.location
            body = (
                f'<!DOCTYPE html><html><head><title>Moved</title></head><body><p>This page has moved to '
                f'<a href="{route.location}">{route.location}</a>.</p></body></html>\n'
            ).encode()
            return _Response(route.status, body, HTML, headers={"Location": route.location})
        if route.action == "not_found":
            return self._not_found(host, version)
        if route.action == "noise":
            return self._noise_page(host, path, version, route)
        if route.action == "png":
            body = _logo()
            return _Response(200, body, "image/png", etag=_etag(body), last_modified=routes.VERSION_DATES[1],
                             headers={"Cache-Control": "max-age=86400"})
        if route.action == "pdf":
            found = _find_file(host, path + ".txt", version)
            if not found:
                return self._not_found(host, version)
            source, found_version = found
            body = _pdf(str(source))
            return _Response(200, body, "application/pdf", etag=_etag(body),
                             last_modified=routes.VERSION_DATES[found_version],
                             headers={"Cache-Control": "max-age=300"})
        # static file
        found = None if path.endswith(".pdf.txt") else _find_file(host, path, version)
        if found is None:
            if path == "/robots.txt":
                return _Response(200, ROBOTS_TXT, "text/plain; charset=utf-8")
            return self._not_found(host, version)
        file, found_version = found
        body = file.read_bytes()
        ctype = _content_type(file.name)
        compressible = ctype.startswith(("text/", "image/svg", "application/xml", "application/json"))
        return _Response(
            200, body, ctype,
            etag=_etag(body),
            last_modified=routes.VERSION_DATES[found_version],
            gzip_ok=(route.gzip or host in routes.GZIP_HOSTS) and compressible,
            chunked=route.chunked,
            headers={"Cache-Control": "max-age=300"},
        )

    def _not_found(self, host: str, version: int) -> _Response:
        # The host's own 404 page (_404.html, never served directly), else a generic one.
        page = None
        for v in range(version, 0, -1):
            candidate = SITE_DIR / f"v{v}" / host / "_404.html"
            if candidate.is_file():
                page = candidate.read_bytes()
                break
        if page is None:
            page = (
                b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
                b"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n"
            )
        return _Response(404, page, HTML, headers={"Cache-Control": "no-cache"})

    def _noise_page(self, host: str, path: str, version: int, route: Route) -> _Response:
        found = _find_file(host, path, version)
        if found is None:
            return self._not_found(host, version)
        template = found[0].read_text(encoding="utf-8")
        with self._lock:
            self._views += 1 + self._random.randrange(3)
            views = self._views
            ad, ad2 = self._random.sample(_NOISE_ADS, 2)
            related = self._random.sample(_NOISE_RELATED, 4)
            market = (f"Harbour shares now: Vellmark Ports {self._random.randint(300, 900) / 10:.1f} crowns "
                      f"({self._random.choice('+-')}{self._random.randint(1, 99) / 100:.2f}%), "
                      f"Quayside Holdings {self._random.randint(100, 400) / 10:.1f} crowns, volume {self._random.randint(1000, 9999):,}")
        now = datetime.now(UTC)
        items = "\n".join(f'    <li><a href="{href}">{title}</a></li>' for href, title in related)
        values = {
            "{{generated_at}}": now.isoformat(timespec="microseconds"),
            "{{today}}": f"{now:%A} {now.day} {now:%B %Y, %H:%M:%S} UTC",
            "{{csrf_token}}": secrets.token_urlsafe(24),
            "{{view_count}}": f"{views:,}",
            "{{ad}}": f'<a href="http://ads.example/click?slot=top&amp;r={secrets.token_hex(4)}" rel="sponsored">{ad}</a>',
            "{{ad2}}": f'<a href="http://ads.example/click?slot=side&amp;r={secrets.token_hex(4)}" rel="sponsored">{ad2}</a>',
            "{{related}}": items,
            "{{market}}": market,
        }
        for key, value in values.items():
            template = template.replace(key, value)
        return _Response(
            200, template.encode("utf-8"), HTML,
            gzip_ok=route.gzip, chunked=route.chunked,
            headers={"Cache-Control": "private, no-cache", "Set-Cookie": f"ledger_session={secrets.token_hex(8)}; Path=/; HttpOnly"},
        )


@lru_cache(maxsize=16)
def _pdf(source_path: str) -> bytes:
    text = Path(source_path).read_text(encoding="utf-8")
    return pdf_from_text(text, author="Vellmark Statistics Office", creation_date=None)


def _stub_page(host: str) -> _Response:
    body = (
        f"<!DOCTYPE html><html><head><title>{host}</title></head>"
        f"<body><p>{host}: placeholder page of the sample web.</p></body></html>\n"
    ).encode()
    return _Response(200, body, HTML, headers={"Cache-Control": "no-cache"})
