"""A hostile sample site on 127.0.0.1, and a network tripwire for the tests that use it.

Everything here listens on 127.0.0.1 only. The pieces:

* :class:`HostileSite` -- one HTTP server (tests.webserver.TestServer) whose routes are the
  failure modes archiver must survive (redirect loop, gzip bomb, 2 GB body, drips, a
  connection closed mid-body, malformed HTML, an invalid charset, 10,000 links, script in
  titles and anchors...), plus a raw socket server that accepts and never answers and a
  TLS server whose certificate is self-signed and for the wrong host.
* :class:`RedirectingProxy` -- a tiny HTTP forward proxy that answers invented public hosts
  with redirects to private literal addresses, and logs every request it receives.
* :class:`Tripwire` -- refuses (and records) any connect() to an address other than
  127.0.0.1 and any name lookup other than ``localhost``, so a bug in archiver's address
  guard shows up as a recorded violation instead of a packet to 169.254.169.254.

Run ``python -m tests.hostile cli ARGS...`` to run the archiver CLI in a subprocess with
the tripwire installed (what the memory and deadline tests do).
"""

from __future__ import annotations

import html
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests import webserver as ws
from tests.certs import self_signed

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

#: Every error code a captures row may carry (the prefix of ``captures.error``).
ERROR_CODES = {
    "dns",
    "refused",
    "timeout",
    "tls",
    "connection",
    "proxy",
    "too_many_redirects",
    "blocked_private",
    "too_large",
    "bad_encoding",
    "bad_redirect",
    "invalid_url",
}

TITLE = """Bridges </title><script>alert("title")</script> & "quotes" 'too'"""
SCRIPT_ANCHOR = """<script>alert("anchor")</script> "double" 'single' </a>"""
LONG_URL_LENGTH = 100 * KiB


# -- bodies ------------------------------------------------------------------------------------


@cache
def gzip_bomb_body(inflated: int) -> bytes:
    """A valid gzip member of about inflated/1000 bytes that inflates to ``inflated`` zero bytes.

    Built without compressing gigabytes: one MiB of zeros is deflated once, ended with a full
    flush (byte-aligned, no back-references across it), and the piece is repeated.
    """
    assert inflated % MiB == 0
    block = bytes(MiB)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    count = inflated // MiB
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    final_empty_block = b"\x03\x00"  # BFINAL=1, fixed Huffman, end-of-block
    trailer = crc.to_bytes(4, "little") + (inflated & 0xFFFFFFFF).to_bytes(4, "little")
    return header + piece * count + final_empty_block + trailer


def long_url(base: str, length: int = LONG_URL_LENGTH) -> str:
    return base + "/long?q=" + "a" * (length - len(base) - 8)


def many_links_page(count: int = 10_000, base: str = "/n/") -> bytes:
    parts = [f"<!doctype html><html><head><title>{count} links</title></head><body><main><article><h1>Links</h1>"]
    for i in range(count):
        parts.append(f'<p>Item {i} of the long list is discussed in <a href="{base}{i}">source number {i}</a> at some length today.</p>\n')
    parts.append("</article></main></body></html>")
    return "".join(parts).encode()


def malformed_page() -> bytes:
    deep = "<div><span>" * 5000
    return (
        b"<html><head><title>Broken <b>title</title><meta charset=utf-8><body><p>Unclosed <b><i>tags <table><tr><td>cell"
        b"<p>Para <a href='/x'>link <a href=\"/y\">nested link</a> after</p></td></tr><tr><p>stray</table>"
        b"\x00\x01\x02 control bytes \xff\xfe invalid utf-8 \xc3\x28 and a lone surrogate \xed\xa0\x80 "
        b"<!-- unterminated comment <p>gone? "
        b"<![CDATA[ cdata ]]> <? processing ?> </nonexistent> <<<>>> &bogus; &#xD800; &#99999999999; "
        + deep.encode()
        + b"deep text<a href=\"/deep\">deep link in running text of a sentence</a>"
        + b"<script>var s = '</scr' + 'ipt>';</script><style>p{}</style"
    )


def bad_charset_page() -> bytes:
    return (
        b'<!doctype html><html><head><meta charset="x-no-such-charset"><title>Caf\xe9 \xff\xfe</title></head>'
        b"<body><main><article><h1>Caf\xe9</h1><p>Text in no charset at all: \x80\x81\x82 \xc3\x28 \xe9t\xe9, "
        b"long enough to be the main text of a page about bridges and budgets.</p></article></main></body></html>"
    )


def script_page() -> bytes:
    return (
        f"<!doctype html><html><head><title>{html.escape(TITLE)}</title>"
        "<script>document.write('<h1>injected</h1>')</script></head><body><main><article>"
        f"<h1>{html.escape(TITLE)}</h1><p onclick=\"alert('p')\">A source page whose title holds a script tag "
        "and quotes, which a report must print as text and never run.</p>"
        "<img src=x onerror=alert(1)><svg><script>alert('svg')</script></svg>"
        "</article></main></body></html>"
    ).encode()


# -- handlers ----------------------------------------------------------------------------------


def big_body(size: int, chunk: int = MiB, fill: bytes = b"\0", content_type: str = "application/octet-stream"):
    """``size`` bytes streamed from a generator: nothing of that size ever exists in memory.

    Zero bytes by default, which archiver's text extraction rightly treats as binary; with
    ``fill=b"z"`` the body looks like text and is handed to extraction.
    """

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(size))
        h.end_headers()
        block = fill * chunk
        sent = 0
        while sent < size:
            n = min(chunk, size - sent)
            h.wfile.write(block if n == chunk else block[:n])
            sent += n

    return handler


def drip_head(stop: threading.Event, interval: float = 1.0):
    """A status line, then a header that arrives a byte a second and never ends."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: ")
        h.wfile.flush()
        while not stop.wait(interval):
            h.wfile.write(b"a")
            h.wfile.flush()

    return handler


def raw(data: bytes):
    """Write ``data`` as the whole response, whatever it is, then close."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(data)
        h.wfile.flush()
        h.close_connection = True

    return handler


class SilentServer:
    """Accepts connections on 127.0.0.1 and never reads or writes a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self._held.append(conn)

    def start(self) -> SilentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._held:
            conn.close()
        self.sock.close()


class CountingServer(ws.TestServer):
    """A TestServer that also counts accepted connections (a guard test wants zero)."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0
        original = self.httpd.get_request

        def get_request():
            request = original()
            with self._lock:
                self.connections += 1
            return request

        self.httpd.get_request = get_request


# -- TLS with a bad certificate ----------------------------------------------------------------

BAD_CERT_HOST = "wrong-host.invalid"


def make_bad_certificate(directory: Path) -> tuple[Path, Path] | str:
    """A self-signed certificate for the wrong host: (cert, key), or why none could be made."""
    try:
        return self_signed(directory, "bad", BAD_CERT_HOST)
    except ImportError:
        pass
    cert, key = directory / "bad-cert.pem", directory / "bad-key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        return "neither the cryptography package nor the openssl command is available to make a test certificate"
    done = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={BAD_CERT_HOST}"],
        capture_output=True,
        timeout=30,
    )
    if done.returncode != 0:
        return f"openssl could not make a test certificate: {done.stderr.decode(errors='replace')[:200]}"
    return cert, key


class BadTLSServer:
    """HTTPS on 127.0.0.1 with a self-signed certificate for another host name."""

    def __init__(self, cert: Path, key: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                self.request.settimeout(10)
                self.request.do_handshake()  # in the handler thread, never in the accept loop
                super().setup()

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                ws.send(self, 200, ws.page("Secret", "<p>A page behind a certificate nobody should trust.</p>"))

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # the client refusing our certificate is the expected outcome

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.httpd.server_port
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def start(self) -> BadTLSServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- the site ----------------------------------------------------------------------------------


class HostileSite:
    """The hostile sample site: every route a failure mode, and an article citing them all.

    ``sources`` maps a short name to (URL, the error code its captures row must carry, or
    None when it must be captured without error). ``big_size`` and ``bomb_size`` are the
    2 GB body and what the gzip bomb inflates to.

    Sources that only the clock ends could never finish in any time. Those that never answer
    (``SILENT``) are cited by ``/article``, captured with a short read timeout and a deadline
    out of reach; those that drip for hours (``DRIPPING``) by ``/article-dripping``, captured
    the other way round. All other sources are cited by ``/article-unhurried``, captured with
    neither in reach: what ends them (a cut at --max-bytes, a redirect loop, a closed
    connection, a whole page) is the same however slow the machine.
    """

    SILENT = ("never", "silent")
    DRIPPING = ("drip", "drip-head")

    def __init__(self, workdir: Path, big_size: int = 2 * GiB, bomb_size: int = 2 * GiB) -> None:
        self.http = CountingServer()
        self.silent = SilentServer()
        made = make_bad_certificate(workdir)
        self.tls: BadTLSServer | None = None
        self.tls_skip_reason: str | None = None
        if isinstance(made, str):
            self.tls_skip_reason = made
        else:
            self.tls = BadTLSServer(*made)
        self.big_size = big_size
        self.bomb_size = bomb_size
        self.closed_port = ws.closed_port()
        gzip_bomb_body(bomb_size)  # built now: building it inside a request would look like a slow server
        self._routes()

    def url(self, path: str) -> str:
        return self.http.url(path)

    def _routes(self) -> None:
        srv, stop = self.http, self.http.stop_event
        srv.static("/article", self.article_html(names=self.SILENT))
        srv.static("/article-dripping", self.article_html(names=self.DRIPPING, unfetchable=False))
        unhurried = tuple(name for name in self.sources if name not in self.SILENT + self.DRIPPING)
        srv.static("/article-unhurried", self.article_html(names=unhurried, unfetchable=False))
        srv.static("/many-links", many_links_page())
        srv.static("/malformed", malformed_page())
        srv.static("/bad-charset", bad_charset_page(), headers={"Content-Type": "text/html; charset=x-no-such-charset"})
        srv.static("/script-title", script_page())
        srv.static("/ok", ws.page("Fine", "<p>An ordinary source that answers at once with a short page.</p>"))
        srv.redirect("/loop", "/loop2")
        srv.redirect("/loop2", "/loop")
        srv.redirect("/self-loop", "/self-loop")
        srv.redirect("/to-closed-port", f"http://127.0.0.1:{self.closed_port}/internal")
        srv.redirect("/bad-location", "http://[::1/")
        srv.redirect("/to-javascript", "javascript:alert(1)")
        srv.redirect("/to-file", "file:///etc/passwd")
        srv.redirect("/to-long-url", long_url(self.url(""), 12 * KiB))
        srv.route("/huge-head", raw(b"HTTP/1.1 302 Found\r\nLocation: " + long_url(self.url(""), 60 * KiB).encode() + b"\r\nContent-Length: 0\r\n\r\n"))
        # The bombs inflate to zero bytes: as application/octet-stream that is binary (no text
        # extraction), as text/html it is a page extraction must cope with.
        srv.route("/bomb", lambda h: ws.send(h, 200, gzip_bomb_body(self.bomb_size), {"Content-Encoding": "gzip", "Content-Type": "application/octet-stream"}))
        srv.route("/bomb-html", lambda h: ws.send(h, 200, gzip_bomb_body(self.bomb_size), {"Content-Encoding": "gzip", "Content-Type": "text/html"}))
        # 32 MB of dense, real-looking article markup: what extraction must not be handed whole.
        dense = b"<html><body>" + b"<p>The council met again to discuss the bridge and its budget.</p>" * 500_000 + b"</body></html>"
        srv.route("/dense-html", lambda h: ws.send(h, 200, dense, {"Content-Type": "text/html; charset=utf-8"}))
        srv.route("/bad-gzip", lambda h: ws.send(h, 200, b"\x1f\x8b\x08\x00garbage, not gzip at all", {"Content-Encoding": "gzip"}))
        srv.route("/big", big_body(self.big_size))
        srv.route("/big-text", big_body(self.big_size, fill=b"z", content_type="text/plain"))
        srv.route("/never", ws.never_answer(stop))
        srv.route("/drip", ws.drip(stop, total=10_000, interval=1.0))
        srv.route("/drip-head", drip_head(stop))
        srv.route("/close-mid-body", ws.close_mid_body)
        srv.route("/bad-status", raw(b"HTTP/1.1 two-hundred OK\r\n\r\nhello"))
        srv.route("/many-headers", raw(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(500)) + b"\r\nbody"))
        srv.route("/garbage", raw(b"\x00\xff\x16\x03\x01 not http at all\r\n\r\n"))

    @property
    def sources(self) -> dict[str, tuple[str, str | None]]:
        u = self.url
        out = {
            "ok": (u("/ok"), None),
            "many-links": (u("/many-links"), None),
            "malformed": (u("/malformed"), None),
            "bad-charset": (u("/bad-charset"), None),
            "script-title": (u("/script-title"), None),
            "loop": (u("/loop"), "too_many_redirects"),
            "self-loop": (u("/self-loop"), "too_many_redirects"),
            "to-closed-port": (u("/to-closed-port"), "refused"),
            "closed-port": (f"http://127.0.0.1:{self.closed_port}/", "refused"),
            "bad-location": (u("/bad-location"), "bad_redirect"),
            "to-javascript": (u("/to-javascript"), "bad_redirect"),
            "to-file": (u("/to-file"), "bad_redirect"),
            "to-long-url": (u("/to-long-url"), "bad_redirect"),
            "huge-head": (u("/huge-head"), "too_large"),
            "bomb": (u("/bomb"), "too_large"),
            "bad-gzip": (u("/bad-gzip"), "bad_encoding"),
            "big": (u("/big"), "too_large"),
            "never": (u("/never"), "timeout"),
            "silent": (self.silent.url("/"), "timeout"),
            "drip": (u("/drip"), "timeout"),
            "drip-head": (u("/drip-head"), "timeout"),
            "close-mid-body": (u("/close-mid-body"), "connection"),
            "bad-status": (u("/bad-status"), "connection"),
            "many-headers": (u("/many-headers"), "connection"),
            "garbage": (u("/garbage"), "connection"),
        }
        if self.tls is not None:
            out["tls"] = (self.tls.url("/"), "tls")
        return out

    def article_html(self, extra_links: list[tuple[str, str]] = (), names: tuple[str, ...] | None = None, unfetchable: bool = True) -> bytes:
        """The hostile article citing ``names`` (default: every source) in running prose, plus unfetchable links."""
        paragraphs = []
        chosen = names if names is not None else list(self.sources)
        links = [(self.sources[name][0], name) for name in chosen] + list(extra_links)
        for url, name in links:
            paragraphs.append(
                f'<p>The council\'s claims about the bridge were checked against <a href="{html.escape(url)}">the {name} source</a>, '
                f"which the reporters read closely before this story went to print.</p>"
            )
        unfetchable = [] if not unfetchable else [
            "javascript:alert(document.cookie)",
            " JaVaScRiPt:alert(1)",
            "java\tscript:alert(2)",
            "data:text/html,<script>alert(1)</script>",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "mailto:editor@example.org?subject=<script>",
            "file:///etc/passwd",
            "file://localhost/etc/shadow",
            "vbscript:msgbox(1)",
            "about:blank",
            "http://[::1",
            "http://exa mple.org:99999/",
            long_url(self.url("")),
        ]
        for href in unfetchable:
            paragraphs.append(
                f'<p>Readers also wrote in to point at <a href="{html.escape(href, quote=True)}">{html.escape(SCRIPT_ANCHOR)}</a>, '
                f"a link that must be recorded but never fetched or run by anything.</p>"
            )
        paragraphs.append(
            f'<p>Even the <a href="{html.escape(self.url("/ok"))}" title="&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;">'
            f"ordinary <b>source</b><script>alert('inside anchor')</script> with an \"odd\" anchor</a> "
            f"was cited twice in the reporting of the bridge budget.</p>"
        )
        body = "\n".join(paragraphs)
        return (
            f"<!doctype html><html><head><title>{html.escape(TITLE)}</title>"
            f"<meta name=\"author\" content=\"&quot;&gt;&lt;script&gt;alert('author')&lt;/script&gt;\">"
            f"<script>alert('head')</script></head><body><main><article><h1>{html.escape(TITLE)}</h1>\n{body}\n"
            f"</article></main></body></html>"
        ).encode()

    def start(self) -> HostileSite:
        self.http.start()
        self.silent.start()
        if self.tls:
            self.tls.start()
        return self

    def stop(self) -> None:
        self.http.stop()
        self.silent.stop()
        if self.tls:
            self.tls.stop()

    def __enter__(self) -> HostileSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- a forward proxy that redirects invented hosts inward ---------------------------------------


class RedirectingProxy:
    """An HTTP forward proxy on 127.0.0.1: ``http://<any host>/to/<target>`` answers 302 to a private address.

    ``targets`` maps a path to the Location it answers; every request line received is
    logged in ``requests`` (a request for a private target reaching us would be a failure).
    Anything else gets a small page, so a public-looking first hop is a normal page.
    """

    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = dict(targets)
        self.requests: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                path = "/" + self.path.split("/", 3)[3] if self.path.startswith("http://") and self.path.count("/") >= 3 else self.path
                location = proxy.targets.get(path)
                if location is not None:
                    ws.send(self, 302, b"", {"Location": location})
                else:
                    ws.send(self, 200, ws.page("Public page", "<p>A page on an invented public host, served by the test proxy.</p>"))

            do_HEAD = do_GET

            def do_CONNECT(self) -> None:
                proxy.requests.append(f"CONNECT {self.path}")
                ws.send(self, 501, b"no CONNECT here")
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_port
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RedirectingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- the tripwire ------------------------------------------------------------------------------


class Tripwire:
    """Refuses connect() to anything but 127.0.0.1 and name lookups other than localhost; records each attempt.

    A last line of defence for the tests, not part of archiver: with it installed, a hole
    in archiver's own guard becomes a recorded violation rather than traffic to the
    metadata address, a private network or the DNS server.
    """

    ALLOWED_NAMES = {"localhost"}

    def __init__(self, report=None) -> None:
        self.violations: list[str] = []
        self._report = report
        self._saved: list[tuple[object, str, object]] = []

    def _violation(self, what: str) -> None:
        self.violations.append(what)
        if self._report:
            self._report(what)

    @staticmethod
    def _numeric(host) -> bool:
        if host is None:
            return True
        host = host.decode() if isinstance(host, bytes) else str(host)
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                socket.inet_pton(family, host.split("%")[0])
                return True
            except OSError:
                pass
        try:
            socket.inet_aton(host)  # 2130706433, 0x7f.1, 127.1: numeric to the resolver too
            return True
        except OSError:
            return False

    def install(self) -> Tripwire:
        wire = self
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo
        real_gethostbyname = socket.gethostbyname

        def allowed(sock, address) -> bool:
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                return True
            return sock.family == socket.AF_INET and address[0] == "127.0.0.1"

        def connect(sock, address):
            if not allowed(sock, address):
                wire._violation(f"connect to {address!r}")
                raise ConnectionRefusedError(111, f"tripwire: connect to {address!r} refused")
            return real_connect(sock, address)

        def connect_ex(sock, address):
            if not allowed(sock, address):
                wire._violation(f"connect to {address!r}")
                return 111
            return real_connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else host
            if not wire._numeric(name) and str(name).lower().rstrip(".") not in wire.ALLOWED_NAMES:
                wire._violation(f"name lookup of {name!r}")
                raise socket.gaierror(socket.EAI_NONAME, f"tripwire: lookup of {name!r} refused")
            return real_getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host):
            if not wire._numeric(host) and host.lower().rstrip(".") not in wire.ALLOWED_NAMES:
                wire._violation(f"name lookup of {host!r}")
                raise socket.gaierror(socket.EAI_NONAME, f"tripwire: lookup of {host!r} refused")
            return real_gethostbyname(host)

        for owner, name, value in (
            (socket.socket, "connect", connect),
            (socket.socket, "connect_ex", connect_ex),
            (socket, "getaddrinfo", getaddrinfo),
            (socket, "gethostbyname", gethostbyname),
        ):
            self._saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, value)
        return self

    def uninstall(self) -> None:
        while self._saved:
            owner, name, value = self._saved.pop()
            setattr(owner, name, value)

    def __enter__(self) -> Tripwire:
        return self.install()

    def __exit__(self, *exc) -> None:
        self.uninstall()


TRIPWIRE_MARK = "TRIPWIRE VIOLATION:"


PEAK_FILE_ENV = "ARCHIVER_TEST_PEAK_FILE"


def _vm_hwm(pid: int | str = "self") -> int:
    """Peak resident set size of a process (VmHWM, bytes); 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_cli(args: list[str], timeout: float = 300.0, env: dict | None = None) -> dict:
    """Run ``python -m tests.hostile cli ARGS`` and return exit code, output, wall time and peak RSS (bytes).

    The peak is the child's own VmHWM, written by the child as it exits. (getrusage's
    ru_maxrss is no good here: Linux carries the forking parent's peak across exec, so a
    child of a big pytest process would "use" what pytest used; and polling /proc from
    outside can catch the copy of the parent before exec.)
    """
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as peak:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile", "cli", *args],
            cwd=root,
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {}), PEAK_FILE_ENV: peak.name},
        )
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            proc.wait()
        finally:
            killer.cancel()
        elapsed = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return {
            "code": proc.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "seconds": elapsed,
            "peak_rss": int(Path(peak.name).read_text() or 0),  # 0: the child died before writing it
            "timed_out": not killer.is_alive() and elapsed >= timeout,
        }


def _main(argv: list[str]) -> int:
    if not argv or argv[0] != "cli":
        print("usage: python -m tests.hostile cli ARCHIVER-ARGS...", file=sys.stderr)
        return 2
    Tripwire(report=lambda what: print(f"{TRIPWIRE_MARK} {what}", file=sys.stderr, flush=True)).install()
    if os.environ.get(PEAK_FILE_ENV):
        import atexit

        atexit.register(lambda: Path(os.environ[PEAK_FILE_ENV]).write_text(str(_vm_hwm())))
    from archiver.cli import main

    return main(argv[1:], prog_name="archiver")


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
