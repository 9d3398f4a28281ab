"""HTTPS through an HTTP proxy (CONNECT tunnel), as HTTPS_PROXY sets it up: real TLS, real tunnel."""

from __future__ import annotations

import select
import socket
import sqlite3
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests import webserver as ws
from tests.certs import self_signed
from tests.helpers import FAST_LOCAL
from tests.warccheck import warcio_records

crypto = pytest.importorskip("cryptography", reason="the cryptography package makes the test certificate")


class TLSOrigin:
    def __init__(self, cert, key):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                ws.send(self, 200, ws.page("Secure source", "<p>Served over TLS through a tunnel.</p>"))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ConnectProxy:
    """A forward proxy that only tunnels (CONNECT), and only to 127.0.0.1."""

    def __init__(self):
        self.tunnels: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        with client:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            host, _, port = target.rpartition(":")
            if method != "CONNECT" or host != "127.0.0.1":
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            self.tunnels.append(target)
            with socket.create_connection(("127.0.0.1", int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                peers = {client: upstream, upstream: client}
                while True:
                    ready, _, _ = select.select(list(peers), [], [], 5)
                    if not ready:
                        return
                    for sock in ready:
                        try:
                            data = sock.recv(65536)
                            if data:
                                peers[sock].sendall(data)
                        except OSError:  # a side hung up (the client refusing the certificate)
                            data = b""
                        if not data:
                            return

    def stop(self):
        self.running = False
        self.listener.close()


@pytest.fixture
def tls_setup(tmp_path):
    cert, key = self_signed(tmp_path, "origin", "127.0.0.1")
    origin = TLSOrigin(cert, key)
    proxy = ConnectProxy()
    yield origin, proxy, cert
    origin.stop()
    proxy.stop()


def test_https_through_a_connect_proxy(cli, tls_setup, tmp_path, archive_dir):
    origin, proxy, cert = tls_setup
    url = f"https://127.0.0.1:{origin.port}/secure/page"
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}", "REQUESTS_CA_BUNDLE": str(cert)}
    doc = cli.json("capture", url, *FAST_LOCAL, env=env)
    article = doc["articles"][0]
    assert article["error"] is None and article["status"] == 200
    assert proxy.tunnels == [f"127.0.0.1:{origin.port}"]
    records = [r for p in (archive_dir / "warcs").glob("*.warc.gz") for r in warcio_records(p)]
    request = next(r for r in records if r["type"] == "request")
    response = next(r for r in records if r["type"] == "response")
    assert request["uri"] == response["uri"] == url
    # Inside the tunnel the request is origin-form; the CONNECT to the proxy is not part of it.
    line = f"{request['http_headers'].protocol} {request['http_headers'].statusline}"
    assert line.startswith("GET /secure/page HTTP/1.1"), line
    assert "CONNECT" not in line
    assert b"Served over TLS" in response["content"]
    assert "WARC-IP-Address" not in response["headers"]  # it would name the proxy


def test_https_without_the_certificate_is_a_tls_error(cli, tls_setup, archive_dir):
    origin, proxy, _cert = tls_setup
    url = f"https://127.0.0.1:{origin.port}/secure/page"
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}"}
    result = cli("capture", url, *FAST_LOCAL, env=env)
    assert result.exit_code == 1
    db = sqlite3.connect(archive_dir / "archive.db")
    assert db.execute("SELECT error FROM captures").fetchone()[0].startswith("tls")
