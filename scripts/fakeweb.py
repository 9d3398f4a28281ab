"""A latency-bound offline fake web for the benchmarks: many invented hosts behind one HTTP proxy.

Articles live on ``paper-N.example``, the pages they cite on ``site-N.example``. Every host
answers after its own fixed latency (spread between ``--min-latency`` and ``--max-latency``),
as a remote server would; bodies are generated from a seed, so the benchmark knows each
URL's bytes (and their SHA-256) without storing them. A client reaches the hosts by using
``proxy_url`` as its HTTP proxy, the way the tests use the sample web.

Pages whose path starts with ``/noisy/`` carry a timestamp and a rotating advert that change
on every request (noise, not change). ``/big/<bytes>`` streams that many bytes of text from
a generator (a freak body, never held in memory). ``/slow-gone/`` answers 404.
With ``validators``, the other pages send an ETag and a Last-Modified date and answer a
conditional request (If-None-Match, If-Modified-Since) with 304 Not Modified, as a static
file server does; noisy pages, like the dynamic pages they stand for, send neither.
With ``noise="tokens"`` the noisy pages change instead only where no reader looks: a CSRF
token and a script nonce in the head.

    python scripts/fakeweb.py --articles 1 --citations 80 --hosts 12   # serves until ^C
"""

from __future__ import annotations

import argparse
import hashlib
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LAST_MODIFIED = "Thu, 12 Mar 2026 09:00:00 GMT"  # of every static page, when the web serves validators
WORDS = (
    "bridge council repair budget minister transcript report river ferry toll engineer inspection "
    "harbour contract tender cable span closure detour committee hearing evidence witness survey "
    "deadline overrun estimate audit finding statement spokesperson resident petition vote motion "
    "crossing pier concrete steel corrosion weight limit lorry traffic commuter timetable delay"
).split()


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes  # empty for generated bodies (see FakeWeb.big)
    status: int = 200


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randint(3, 7)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
            sentences.append(" ".join(words).capitalize() + ".")
        out.append(" ".join(sentences))
    return out


def _html(title: str, paragraphs: list[str], links: list[str], noise: str = "") -> bytes:
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(12))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    cites = ""
    if links:
        cites = "<h2>Sources</h2><ol>" + "".join(
            f'<li><a href="{u}">Source document {i + 1}</a>, published by the office concerned.</li>' for i, u in enumerate(links)
        ) + "</ol>"
    script = "<script>" + "window.analytics={queue:[]};" * 40 + "</script>"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title}</title><style>body{{font-family:serif}} nav li{{display:inline}}</style>{script}</head>"
        f"<body><header><nav><ul>{nav}</ul></nav></header>{noise}"
        f"<main><article><h1>{title}</h1><p class=byline>By the Fake Web desk, 12 March 2026</p>{body}{cites}</article></main>"
        "<footer><p>Copyright the Fake Web. All rights reserved.</p></footer></body></html>"
    ).encode()


class FakeWeb:
    """``articles`` articles each citing ``citations`` pages spread over ``hosts`` hosts."""

    def __init__(self, articles: int = 1, citations: int = 80, hosts: int = 12, min_latency: float = 0.005,
                 max_latency: float = 0.150, seed: int = 12, shared: float = 0.1, noisy: float = 0.0,
                 validators: bool = False, noise: str = "visible") -> None:
        rng = random.Random(seed)
        self.validators = validators
        self.noise = noise
        self.latency: dict[str, float] = {}
        self.pages: dict[str, Page] = {}
        self.articles: list[str] = []
        source_hosts = [f"site-{i}.example" for i in range(hosts)]
        for host in source_hosts:
            self.latency[host] = rng.uniform(min_latency, max_latency)
        pool: list[str] = []  # sources already cited, some cited again by later articles
        counter = 0
        for a in range(articles):
            host = f"paper-{a % max(1, hosts // 4)}.example"
            self.latency.setdefault(host, rng.uniform(min_latency, max_latency))
            links: list[str] = []
            while len(links) < citations:
                if pool and rng.random() < shared:
                    url = rng.choice(pool)
                    if url in links:
                        continue
                else:
                    counter += 1
                    kind = "noisy" if rng.random() < noisy else "doc"
                    url = f"http://{rng.choice(source_hosts)}/{kind}/{counter}"
                    pool.append(url)
                links.append(url)
            url = f"http://{host}/2026/03/article-{a}.html"
            self.articles.append(url)
            self.pages[url] = Page(url, _html(f"Article {a}: the bridge", _paragraphs(rng, 12), links))
        for url in pool:
            page_rng = random.Random(url)
            self.pages[url] = Page(url, _html(f"Document {url.rsplit('/', 1)[1]}", _paragraphs(page_rng, page_rng.randint(4, 30)), []))
        self.requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- what the benchmark checks against ------------------------------------------------------

    def urls(self) -> list[str]:
        """Every URL a capture of the articles should record (articles first)."""
        return list(self.articles) + [u for u in self.pages if u not in self.articles]

    def sha256(self, url: str) -> str:
        return hashlib.sha256(self.pages[url].body).hexdigest()

    def body(self, url: str, when: float | None = None) -> bytes:
        page = self.pages[url]
        if "/noisy/" not in url:
            return page.body
        # The same text, with a timestamp and an advert that change on every request.
        when = time.time() if when is None else when
        stamp = datetime.fromtimestamp(when, UTC).strftime("%H:%M:%S.%f")
        if self.noise == "tokens":
            token = hashlib.sha256(f"{when}{random.random()}".encode()).hexdigest()
            head = f'<head><meta name="csrf-token" content="{token}"><script nonce="{token[:16]}">window.t="{token[16:32]}";</script>'
            return page.body.replace(b"<head>", head.encode(), 1)
        ad = random.choice(["Winter tyres fitted while you wait.", "Learn to sail this spring.", "Honey from the hive."])
        noise = f'<aside class=ad><p>{ad}</p><p>Page generated at {stamp}</p></aside>'
        return page.body.replace(b"<main>", noise.encode() + b"<main>", 1)

    # -- serving ---------------------------------------------------------------------------------

    def start(self) -> FakeWeb:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: with Nagle's algorithm on, each answer
            # would wait for the client's delayed ACK (40 ms), a cost no real server imposes.
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                host = (parts.hostname or self.headers.get("Host", "")).split(":")[0]
                url = f"http://{host}{parts.path}"
                with web._lock:
                    web.requests += 1
                time.sleep(web.latency.get(host, 0.05))
                if parts.path.startswith("/big/"):
                    return self._big(int(parts.path.split("/")[2]))
                if url not in web.pages:
                    return self._send(404, b"<html><body><p>Not found.</p></body></html>")
                if web.validators and "/noisy/" not in url:
                    etag = f'"{web.sha256(url)[:16]}"'
                    validators = [("ETag", etag), ("Last-Modified", LAST_MODIFIED)]
                    if self.headers.get("If-None-Match") == etag or (
                        self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == LAST_MODIFIED
                    ):
                        return self._send(304, b"", validators)
                    return self._send(200, web.body(url), validators)
                self._send(200, web.body(url))

            def _send(self, status: int, body: bytes, extra: list[tuple[str, str]] = []) -> None:  # noqa: B006 (read only)
                self.send_response(status)
                for name, value in extra:
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _big(self, size: int) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk = (" ".join(WORDS) + "\n").encode() * 256
                sent = 0
                try:
                    while sent < size:
                        piece = chunk[: size - sent]
                        self.wfile.write(piece)
                        sent += len(piece)
                except OSError:
                    pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def proxy_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeWeb:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def big_body_sha256(size: int) -> str:
    """SHA-256 of what ``/big/<size>`` serves."""
    chunk = (" ".join(WORDS) + "\n").encode() * 256
    digest = hashlib.sha256()
    sent = 0
    while sent < size:
        piece = chunk[: size - sent]
        digest.update(piece)
        sent += len(piece)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1)
    parser.add_argument("--citations", type=int, default=80)
    parser.add_argument("--hosts", type=int, default=12)
    args = parser.parse_args()
    with FakeWeb(args.articles, args.citations, args.hosts) as web:
        print(f"proxy: {web.proxy_url}  ({len(web.urls())} URLs)")
        for url in web.articles[:5]:
            print("article:", url)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
