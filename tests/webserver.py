"""A real HTTP server on 127.0.0.1 with the failure modes archiver must survive.

Routes are plain functions taking the handler; tests add their own with ``server.route``.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    headers = dict(headers or {})
    headers.setdefault("Content-Type", "text/html; charset=utf-8")
    for name, value in headers.items():
        handler.send_header(name, value)
    if "Transfer-Encoding" not in headers:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def page(title: str, body: str) -> bytes:
    return f"<!doctype html><html><head><title>{title}</title></head><body><main><article><h1>{title}</h1>{body}</article></main></body></html>".encode()


class TestServer:
    """ThreadingHTTPServer with a route table; ``url(path)`` gives absolute URLs."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.post_routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self._path("")
                self._answer(server.routes.get(path) or server.routes.get(path.split("?")[0]), 404, b"Not found")

            do_HEAD = do_GET

            def do_POST(self) -> None:
                self._answer(server.post_routes.get(self._path("POST ")), 405, b"Method not allowed")

            def _path(self, hit_prefix: str) -> str:
                """The request's path (also from an absolute-form target, as a proxy gets it), counted in hits."""
                path = self.path
                if path.startswith(("http://", "https://")):
                    path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
                with server._lock:
                    server.hits[hit_prefix + path] = server.hits.get(hit_prefix + path, 0) + 1
                return path

            def _answer(self, route, status: int, reason: bytes) -> None:
                try:
                    if route is None:
                        send(self, status, b"<html><body><h1>" + reason + b"</h1></body></html>")
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.stop_event = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, func: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.routes[path] = func

    def static(self, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.routes[path] = lambda h: send(h, status, body, headers)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = lambda h: send(h, status, b"", {"Location": location})

    def start(self) -> TestServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


# -- failure modes ------------------------------------------------------------------------


def never_answer(stop: threading.Event) -> Callable:
    def handler(h: BaseHTTPRequestHandler) -> None:
        stop.wait(60)

    return handler


def drip(stop: threading.Event, total: int = 10_000, interval: float = 0.5) -> Callable:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(total))
        h.end_headers()
        for _ in range(total):
            if stop.is_set():
                return
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(interval)

    return handler


def close_mid_body(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/plain")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(b"y" * 5000)
    h.wfile.flush()
    h.connection.shutdown(socket.SHUT_RDWR)
    h.close_connection = True


def big_body(size: int, chunk: int = 1 << 16) -> Callable:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        block = b"z" * chunk
        sent = 0
        while sent < size:
            n = min(chunk, size - sent)
            h.wfile.write(block[:n])
            sent += n

    return handler


def gzip_bomb(inflated: int) -> Callable:
    """A small gzip body that inflates to ``inflated`` bytes."""
    compressor_input = b"\0" * (1 << 20)
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = []
    for _ in range(inflated // len(compressor_input)):
        parts.append(comp.compress(compressor_input))
    parts.append(comp.flush())
    body = b"".join(parts)

    def handler(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, body, {"Content-Encoding": "gzip", "Content-Type": "text/html"})

    return handler


def chunked(parts: list[bytes], content_type: str = "text/html; charset=utf-8") -> Callable:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for part in parts:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        h.wfile.write(b"0\r\n\r\n")

    return handler


def gzipped(body: bytes, content_type: str = "text/html; charset=utf-8") -> Callable:
    data = gzip.compress(body)
    return lambda h: send(h, 200, data, {"Content-Encoding": "gzip", "Content-Type": content_type})


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
