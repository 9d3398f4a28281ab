"""A small site whose article exists only once JavaScript has run, for the browser-capture tests.

The article's HTML is an empty shell: a script fetches its text (JSON, by GET) and inserts it
with two citations, posts a small beacon (POST), and an image far below the fold loads only
when scrolled to (``loading="lazy"``). A plain fetch sees a page with no text.
"""

from __future__ import annotations

import json
import struct
import zlib

from tests.webserver import TestServer, page, send

ARTICLE_PATH = "/2026/11/ferry-timetable.html"
LAZY_IMAGE_PATH = "/img/ridership-chart.png"
CITED_PATHS = ["/docs/consultation-report", "/news/committee-chair-interview"]
INSERTED_SENTENCE = "a consultation that ran for twelve weeks and drew more than four hundred responses"

SHELL = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ferry timetable to change in spring</title>
<script src="/static/app.js" defer></script></head>
<body><header><nav><a href="/">Home</a> <a href="/about">About</a></nav></header>
<main id="root"><p class="loading">Loading…</p></main>
<div style="height:4000px"></div>
<figure><img id="chart" loading="lazy" src="{LAZY_IMAGE_PATH}" width="40" height="20" alt="Ridership chart"></figure>
<footer><a href="/privacy">Privacy</a></footer></body></html>""".encode()

APP_JS = b"""
fetch('/api/article.json').then(r => r.json()).then(data => {
  const root = document.getElementById('root');
  root.innerHTML = '<article><h1>' + data.title + '</h1>' + data.paragraphs.map(p => '<p>' + p + '</p>').join('') + '</article>';
  return fetch('/api/beacon', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({read: data.id})});
});
"""


def article_json() -> bytes:
    paragraphs = [
        "The harbour authority said on Monday that the ferry timetable will change in spring, after "
        f"{INSERTED_SENTENCE} from residents of both banks of the river.",
        f'According to the <a href="{CITED_PATHS[0]}">consultation report</a>, most respondents wanted later evening '
        "crossings, and a clear majority asked for the fare increase to be phased over two years rather than at once.",
        "The council's transport committee will discuss the proposal next week; its chair told the "
        f'<a href="{CITED_PATHS[1]}">local paper</a> that no decision would be taken before the budget is agreed in February.',
    ]
    return json.dumps({"id": 7, "title": "Ferry timetable to change in spring", "paragraphs": paragraphs}).encode()


def tiny_png(rgb: tuple[int, int, int] = (0, 120, 200)) -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" + bytes(rgb))) + chunk(b"IEND", b"")


def serve(server: TestServer) -> TestServer:
    """Add the site's routes to ``server``; the beacon's bodies are kept in ``server.beacons``."""
    server.beacons = []
    server.static(ARTICLE_PATH, SHELL)
    server.static("/static/app.js", APP_JS, headers={"Content-Type": "text/javascript"})
    server.static("/api/article.json", article_json(), headers={"Content-Type": "application/json"})
    server.static(LAZY_IMAGE_PATH, tiny_png(), headers={"Content-Type": "image/png"})
    server.static(CITED_PATHS[0], page("Consultation report", "<p>" + "Most respondents asked for later evening crossings. " * 20 + "</p>"))
    server.static(CITED_PATHS[1], page("Committee chair interview", "<p>" + "No decision before the budget, the chair said. " * 20 + "</p>"))

    def beacon(handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        server.beacons.append(handler.rfile.read(length))
        send(handler, 204, b"")

    server.post_routes["/api/beacon"] = beacon
    return server
