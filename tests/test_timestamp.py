"""archiver timestamp: RFC 3161 tokens from a real TSA on 127.0.0.1 (openssl ts), stored, re-read and verified."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests import webserver as ws
from tests.conftest import Cli
from tests.tsa import OPENSSL, TestTSA

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the test TSA needs the openssl command (OpenSSL's ts)")


@pytest.fixture(scope="module")
def tsa():
    with TestTSA("trusted") as server:
        yield server


@pytest.fixture(scope="module")
def other_tsa():
    with TestTSA("stranger") as server:
        yield server


def note(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(f"# {name}\n\n{text}\n", encoding="utf-8")
    return path


@pytest.fixture
def cli(tmp_path) -> Cli:
    cli = Cli(tmp_path / "archive")
    result = cli("capture", str(note(tmp_path, "first.md", "A note that cites nothing.")))
    assert result.exit_code == 0, result.output
    return cli


def db(cli: Cli) -> sqlite3.Connection:
    conn = sqlite3.connect(cli.archive / "archive.db")
    conn.row_factory = sqlite3.Row
    return conn


def head(cli: Cli) -> tuple[int, str]:
    row = db(cli).execute("SELECT id, chain_hash FROM captures ORDER BY id DESC LIMIT 1").fetchone()
    return row["id"], row["chain_hash"]


def stamp(cli: Cli, tsa: TestTSA, roots: TestTSA | None = None):
    return cli("timestamp", "--tsa", tsa.url, "--tsa-roots", str((roots or tsa).root), "--json")


def verify(cli: Cli, *args: str) -> dict:
    return json.loads(cli("verify", "--json", *args).stdout)


def test_good_token_is_stored_in_db_and_warc_and_verifies(cli, tsa, tmp_path):
    capture_id, chain_head = head(cli)
    result = stamp(cli, tsa)
    assert result.exit_code == 0, result.output
    token = json.loads(result.stdout)
    assert token["chain_head"] == chain_head and token["capture_id"] == capture_id
    seal = db(cli).execute("SELECT * FROM seals WHERE id = ?", (token["seal_id"],)).fetchone()
    assert token["message"] == seal["seal_hash"] and seal["chain_head"] == chain_head
    assert token["tsa_name"] and "trusted test TSA" in token["tsa_name"]
    row = db(cli).execute("SELECT * FROM timestamps").fetchone()
    assert row["gen_time"] == token["gen_time"] and row["hash_algorithm"] == "sha256" and row["tsa_roots"].startswith("-----BEGIN")
    assert db(cli).execute("SELECT command, status FROM runs WHERE id = ?", (row["run_id"],)).fetchone()[:] == ("timestamp", "finished")

    # The WARC holds the same token, read back by warcio (not archiver's reader).
    with open(cli.archive / row["warc_file"], "rb") as fh:
        fh.seek(row["warc_offset"])
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_type == "resource"
        assert record.rec_headers.get_header("Content-Type") == "application/timestamp-reply"
        assert record.rec_headers.get_header("WARC-Target-URI") == f"urn:archiver:seal:{seal['seal_hash']}"
        assert record.rec_headers.get_header("Archiver-Chain-Head") == chain_head
        assert record.content_stream().read() == bytes(row["token"])

    doc = verify(cli)
    assert doc["ok"], doc["problems"]
    assert doc["timestamps"] == 1 and any("vouches" in n and row["gen_time"] in n for n in doc["notes"])
    assert verify(cli, "--tsa-roots", str(tsa.root))["ok"]

    # A third party needs only OpenSSL: the token, the seal hash as text, the TSA's root.
    extracted = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "extract", "--payload", str(cli.archive / row["warc_file"]), str(row["warc_offset"])],
        capture_output=True,
    )
    assert extracted.stdout == bytes(row["token"]), extracted.stderr
    (tmp_path / "token.tsr").write_bytes(extracted.stdout)
    (tmp_path / "head.txt").write_text(seal["seal_hash"], encoding="ascii")
    checked = subprocess.run(
        [OPENSSL, "ts", "-verify", "-in", str(tmp_path / "token.tsr"), "-data", str(tmp_path / "head.txt"), "-CAfile", str(tsa.root)],
        capture_output=True, text=True,
    )
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stdout + checked.stderr
    # and the archive still holds what was time-stamped.
    assert cli("verify", "--head", seal["seal_hash"]).exit_code == 0


def test_token_claimed_for_another_head_fails(cli, tsa, tmp_path):
    assert stamp(cli, tsa).exit_code == 0
    assert cli("capture", str(note(tmp_path, "second.md", "Another note."))).exit_code == 0
    new_id, new_head = head(cli)
    assert verify(cli)["ok"]  # the archive grew after the token: the token still covers its rows
    # Claim that the old token covers the newest seal.
    newest = db(cli).execute("SELECT * FROM seals ORDER BY id DESC LIMIT 1").fetchone()
    assert newest["chain_head"] == new_head
    with db(cli) as conn:
        conn.execute("UPDATE timestamps SET seal_id = ?, message = ?, chain_head = ?, capture_id = ?", (newest["id"], newest["seal_hash"], new_head, new_id))
    doc = verify(cli)
    assert not doc["ok"]
    messages = [p["message"] for p in doc["problems"] if p["kind"] == "timestamp"]
    assert any("token is for another message" in m for m in messages), messages


def test_rows_edited_after_the_token_fail(cli, tsa):
    assert stamp(cli, tsa).exit_code == 0
    capture_id, _ = head(cli)
    with db(cli) as conn:
        conn.execute("UPDATE captures SET fetched_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", (capture_id,))
        conn.execute("UPDATE captures SET chain_hash = ? WHERE id = ?", ("e" * 64, capture_id))  # even re-chained
    doc = verify(cli)
    messages = [p["message"] for p in doc["problems"] if p["kind"] == "timestamp"]
    assert any("rows it covered were changed" in m for m in messages), doc["problems"]


def test_token_from_untrusted_tsa(cli, tsa, other_tsa):
    # Asked of a TSA whose certificate does not chain to the given roots: refused, nothing stored.
    result = stamp(cli, other_tsa, roots=tsa)
    assert result.exit_code == 1 and "does not chain to a trusted root" in result.output
    assert db(cli).execute("SELECT COUNT(*) FROM timestamps").fetchone()[0] == 0
    assert db(cli).execute("SELECT status FROM runs WHERE command = 'timestamp'").fetchone()[0] == "failed"

    # A token the stranger signed (with its own roots stored beside it) passes only until the
    # verifier names the roots it trusts.
    assert stamp(cli, other_tsa).exit_code == 0
    assert verify(cli)["ok"]
    doc = verify(cli, "--tsa-roots", str(tsa.root))
    assert not doc["ok"] and any("does not chain to a trusted root" in p["message"] for p in doc["problems"])

    # The stranger's token slipped into the row of a trusted one is caught too.
    assert stamp(cli, tsa).exit_code == 0
    with db(cli) as conn:
        stranger = conn.execute("SELECT token FROM timestamps WHERE id = 1").fetchone()[0]
        conn.execute("UPDATE timestamps SET token = ? WHERE id = 2", (stranger,))
    doc = verify(cli)
    messages = [p["message"] for p in doc["problems"] if p["kind"] == "timestamp" and "row 2" in p["message"]]
    assert any("does not chain to a trusted root" in m for m in messages), doc["problems"]
    assert any("payload sha256" in m for m in messages)  # and the WARC record no longer matches


def test_token_record_edited_in_warc_fails(cli, tsa):
    assert stamp(cli, tsa).exit_code == 0
    row = db(cli).execute("SELECT warc_file FROM timestamps").fetchone()
    path = cli.archive / row["warc_file"]
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF  # inside the token record's gzip member
    path.write_bytes(bytes(data))
    assert not verify(cli)["ok"]


def test_capture_and_recheck_with_timestamp(tsa, tmp_path, server):
    server.static("/page", ws.page("A page", "<p>Words that stay.</p>"))
    cli = Cli(tmp_path / "archive")
    roots = ["--tsa", tsa.url, "--tsa-roots", str(tsa.root)]
    result = cli("capture", server.url("/page"), "--allow-private", "--timestamp", *roots)
    assert result.exit_code == 0, result.output
    assert "timestamp 1:" in result.output and "trusted test TSA" in result.output
    _, chain_head = head(cli)
    assert db(cli).execute("SELECT chain_head FROM timestamps").fetchone()[0] == chain_head

    doc = cli.json("recheck", "--all", "--allow-private", "--timestamp", *roots)
    assert doc["timestamp"]["timestamp_id"] == 2 and doc["timestamp"]["chain_head"] == head(cli)[1]
    assert verify(cli)["ok"]


def test_tsa_failures_are_reported_and_store_nothing(cli, tsa, server):
    import requests

    from archiver.proof.rfc3161 import build_query

    # A genuine token, but for someone else's query: replayed, its nonce gives it away.
    query, _ = build_query(b"someone else's document")
    replayed = requests.post(tsa.url, data=query, headers={"Content-Type": "application/timestamp-query"}, timeout=30).content
    reply = {"Content-Type": "application/timestamp-reply"}
    server.post_routes["/replay"] = lambda h: ws.send(h, 200, replayed, reply)
    server.post_routes["/garbage"] = lambda h: ws.send(h, 200, b"\x30\x03\x02\x01\x00garbage", reply)
    server.post_routes["/html"] = lambda h: ws.send(h, 200, b"<html>hello</html>", {"Content-Type": "text/html"})
    for url, expected in (
        (f"http://127.0.0.1:{ws.closed_port()}/tsr", "could not reach the TSA"),
        (server.url("/html"), "not application/timestamp-reply"),
        (server.url("/missing"), "answered HTTP 405"),
        (server.url("/garbage"), "not an RFC 3161 time-stamp reply"),
        (server.url("/replay"), "another nonce"),
    ):
        result = cli("timestamp", "--tsa", url, "--tsa-roots", str(tsa.root), "--timeout", "5")
        assert result.exit_code == 1 and expected in result.output, result.output
    assert db(cli).execute("SELECT COUNT(*) FROM timestamps").fetchone()[0] == 0


def test_empty_archive_has_nothing_to_timestamp(tmp_path, tsa):
    import archiver

    archiver.Archive(tmp_path / "archive", create=True).close()
    cli = Cli(tmp_path / "archive")
    result = cli("timestamp", "--tsa", tsa.url)
    assert result.exit_code == 2 and "nothing to time-stamp" in result.output


def test_report_names_the_tokens_covering_each_capture(tmp_path, tsa):
    from archiver.sample import ARTICLE_URL, SampleWeb
    from tests.helpers import FAST, build_sample, report_json

    archive = build_sample(tmp_path / "archive", (1,))
    cli = Cli(archive)
    before = report_json(archive)
    assert before["article"]["timestamp"] is None
    assert all(c["first_capture_timestamp"] is None for c in before["citations"])
    assert "not yet time-stamped" in cli("report", ARTICLE_URL).stdout

    token = json.loads(stamp(cli, tsa).stdout)
    with SampleWeb(hang_seconds=0.5) as web:
        web.version = 2
        assert cli("recheck", "--all", "--proxy", web.proxy_url, *FAST).exit_code == 0
    after = report_json(archive)
    assert after["archive"]["seal_head"] == verify(cli)["seal_head"]
    assert after["article"]["timestamp"]["timestamp_id"] == token["timestamp_id"]
    captured = [c for c in after["citations"] if c["first_capture"]]
    assert captured and all(c["first_capture_timestamp"]["gen_time"] == token["gen_time"] for c in captured)
    # The recheck came after the token: its captures are not covered until the next one.
    rechecked = [c for c in captured if c["latest_check"]["id"] > token["capture_id"]]
    assert rechecked and all(c["latest_check_timestamp"] is None for c in rechecked)
    md = cli("report", ARTICLE_URL).stdout
    assert f"vouched for by {token['tsa_name']}" in md and "Latest check time-stamped: not yet time-stamped" in md
    assert "trusted test TSA" in cli("report", ARTICLE_URL, "--format", "html").stdout
