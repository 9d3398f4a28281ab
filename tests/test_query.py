"""archiver query: read-only SQL; every kind of write is refused with one clear line."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers import build_sample


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("query") / "archive", (1,))


def test_select_as_table_json_and_csv(archive):
    cli = Cli(archive)
    table = cli("query", "SELECT id, url FROM urls ORDER BY id LIMIT 3")
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split() == ["id", "url"]
    rows = json.loads(cli("query", "SELECT a.id, u.url FROM articles a JOIN urls u ON u.id = a.url_id ORDER BY a.id", "--json").stdout)
    assert rows[0] == {"id": 1, "url": "http://blog.example/2026/11/the-bridge-that-wasnt.html"}
    parsed = list(csv.reader(io.StringIO(cli("query", "SELECT id, status FROM runs", "--csv").stdout)))
    assert parsed[0] == ["id", "status"] and parsed[1] == ["1", "finished"]
    fts = cli("query", "SELECT capture_id FROM texts_fts JOIN texts ON texts.rowid = texts_fts.rowid WHERE texts_fts MATCH 'piling'", "--json")
    assert fts.exit_code == 0 and json.loads(fts.stdout)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM captures",
        "UPDATE captures SET http_status = 500",
        "INSERT INTO runs (command, args, software, started_at) VALUES ('x', '{}', 'x', 'x')",
        "CREATE TABLE evil (x)",
        "DROP TABLE captures",
        "PRAGMA query_only = OFF",
        "ATTACH DATABASE 'other.db' AS other",
        "VACUUM",
    ],
)
def test_writes_are_refused(archive, sql):
    before = hashlib.sha256((archive / "archive.db").read_bytes()).hexdigest()
    result = Cli(archive)("query", sql)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("archiver: error: query is read-only:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert hashlib.sha256((archive / "archive.db").read_bytes()).hexdigest() == before
    assert Cli(archive)("query", "SELECT COUNT(*) FROM captures", "--json").exit_code == 0


def test_bad_sql_is_a_usage_error(archive):
    result = Cli(archive)("query", "SELEC 1")
    assert result.exit_code == 2 and result.stderr.startswith("archiver: error: SQL error:")


def test_table_never_cuts_a_hash_or_a_url(archive):
    cli = Cli(archive)
    sha, url = json.loads(cli("query", "SELECT payload_sha256, requested_url FROM captures WHERE payload_sha256 IS NOT NULL "
                                        "ORDER BY length(requested_url) DESC LIMIT 1", "--json").stdout)[0].values()
    table = cli("query", "SELECT payload_sha256, requested_url FROM captures WHERE payload_sha256 = ?".replace("?", repr(sha)))
    assert sha in table.stdout and url in table.stdout  # whole, ready to copy
    # Prose is cut for the table, and the table says where the whole text is.
    prose = cli("query", "SELECT text FROM texts ORDER BY length(text) DESC LIMIT 1")
    assert "\u2026" in prose.stdout and "--json or --csv give whole values" in prose.stdout
