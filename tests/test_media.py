"""--media: embedded audio found by yt-dlp, fetched through archiver's Fetcher, recorded as WARC resource records."""

from __future__ import annotations

import io
import sqlite3
import wave

import pytest

from tests import webserver as ws
from tests.helpers import FAST
from tests.warccheck import sha256, warcio_records

pytestmark = pytest.mark.slow  # yt-dlp downloads through archiver: left out of ./scripts/test -m 'not slow'

pytest.importorskip("yt_dlp", reason="yt-dlp is needed for --media (pip install 'provenance-archiver[browser]')")



def wav(seconds: float = 1.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(bytes((i * 7) % 256 for i in range(int(8000 * seconds))))
    return buf.getvalue()


@pytest.fixture
def interview(server):
    server.static("/interview", ws.page("Interview", "<p>" + "The minister spoke about the bridge at length. " * 30 + "</p>"
                                        '<audio controls src="/media/interview.wav"></audio>'))
    server.static("/media/interview.wav", wav(), headers={"Content-Type": "audio/wav"})
    return server


def test_media_file_is_recorded_with_its_metadata(cli, interview, archive_dir):
    doc = cli.json("capture", interview.url("/interview"), "--media", "--allow-private", *FAST)
    media = doc["articles"][0]["media"]
    assert media["error"] is None and len(media["files"]) == 1
    assert media["files"][0]["sha256"] == sha256(wav())
    # yt-dlp read the page as archiver captured it: the site saw one request for it.
    assert interview.hits == {"/interview": 1, "/media/interview.wav": 1}
    conn = sqlite3.connect(archive_dir / "archive.db")
    page_record = conn.execute("SELECT warc_record_id FROM captures").fetchone()[0]
    rows = dict(conn.execute("SELECT kind, warc_record_id FROM attachments"))
    [path] = (archive_dir / "warcs").glob("*.warc.gz")
    records = {r["id"]: r for r in warcio_records(path)}
    audio = records[rows["media"]]
    assert audio["type"] == "resource" and audio["uri"] == interview.url("/media/interview.wav")
    assert audio["content"] == wav() and audio["headers"]["WARC-Concurrent-To"] == page_record
    info = records[rows["media_info"]]
    assert info["type"] == "metadata" and info["headers"]["WARC-Refers-To"] == rows["media"]
    assert b"extractor: html5" in info["content"] and b"software: yt-dlp/" in info["content"]
    assert cli.json("verify")["ok"]


def test_media_past_the_size_cap_is_cut_and_marked(cli, interview, archive_dir):
    doc = cli.json("capture", interview.url("/interview"), "--media", "--media-max-bytes", "2K", "--allow-private", *FAST)
    [file] = doc["articles"][0]["media"]["files"]
    assert file["bytes"] == 2048 and file["truncated"] == "length" and file["sha256"] == sha256(wav()[:2048])
    [path] = (archive_dir / "warcs").glob("*.warc.gz")
    [audio] = [r for r in warcio_records(path) if r["type"] == "resource"]
    assert audio["headers"]["WARC-Truncated"] == "length" and audio["content"] == wav()[:2048]
    assert cli.json("verify")["ok"]


def test_media_requests_pass_the_address_guard(cli, server, archive_dir):
    # An invented host behind a proxy whose audio file sits on a private address.
    server.static("/interview", ws.page("Interview", "<p>" + "Words of an interview about the ferry. " * 30 + "</p>"
                                        '<audio controls src="http://10.1.2.3/media/interview.wav"></audio>'))
    doc = cli.json("capture", "http://tv.example/interview", "--media", "--proxy", server.url(""), *FAST)
    media = doc["articles"][0]["media"]
    assert media["files"] == [] and "blocked_private" in media["error"]
    assert set(server.hits) == {"/interview"}
