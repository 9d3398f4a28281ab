"""archiver verify: a clean archive passes; damaged WARCs and edited, inserted or deleted rows fail with the right message."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers import build_sample
from datetime import UTC


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("verify") / "archive", (1, 2))


@pytest.fixture
def archive(pristine, tmp_path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(pristine, copy)
    return copy


def verify(archive: Path, *args: str):
    return Cli(archive)("verify", *args)


def db(archive: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(archive / "archive.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_clean_archive_passes_and_prints_chain_head(pristine):
    result = verify(pristine)
    assert result.exit_code == 0, result.output
    head = db(pristine).execute("SELECT chain_hash FROM captures ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert f"chain head: {head}" in result.stdout and "no problems" in result.stdout
    doc = json.loads(verify(pristine, "--json").stdout)
    assert doc["ok"] and doc["chain_head"] == head and doc["problems"] == []
    assert doc["records"] > doc["captures"] and all(f["state"] == "closed" for f in doc["files"])
    # A head published earlier stays valid while the archive only grows.
    earlier = db(pristine).execute("SELECT chain_hash FROM captures WHERE id = 5").fetchone()[0]
    assert verify(pristine, "--head", earlier).exit_code == 0
    assert verify(pristine, "--article", "1").exit_code == 0


def test_unknown_published_head_fails(pristine):
    result = verify(pristine, "--head", "ab" * 32)
    assert result.exit_code == 1 and "published head" in result.stdout


def _record(archive: Path, capture_id: int):
    return db(archive).execute("SELECT warc_file, warc_offset, warc_length FROM captures WHERE id = ?", (capture_id,)).fetchone()


def test_flipped_warc_byte_fails(archive):
    row = _record(archive, 3)
    path = archive / row["warc_file"]
    data = bytearray(path.read_bytes())
    data[row["warc_offset"] + row["warc_length"] // 2] ^= 0x10
    path.write_bytes(bytes(data))
    result = verify(archive)
    assert result.exit_code == 1
    assert f"at offset {row['warc_offset']} is corrupt" in result.stdout
    assert "captures row 3" in result.stdout and "sha256" in result.stdout


def test_truncated_warc_fails(archive):
    path = sorted((archive / "warcs").glob("*.warc.gz"))[0]
    path.write_bytes(path.read_bytes()[:-300])
    result = verify(archive)
    assert result.exit_code == 1
    assert "is truncated: the file ends inside" in result.stdout
    assert "past the last whole record" in result.stdout


def test_removed_warc_fails(archive):
    path = sorted((archive / "warcs").glob("*.warc.gz"))[-1]
    path.unlink()
    result = verify(archive)
    assert result.exit_code == 1
    assert f"warcs/{path.name} is missing" in result.stdout


def test_edited_row_fails(archive):
    conn = db(archive)
    conn.execute("UPDATE captures SET fetched_at = '2020-01-01T00:00:00.000Z' WHERE id = 4")
    conn.commit()
    result = verify(archive)
    assert result.exit_code == 1
    assert "captures row 4: chain hash does not match" in result.stdout
    assert "WARC-Date" in result.stdout


def test_edited_row_with_recomputed_hash_still_caught_by_warc(archive):
    # Someone who recomputes this row's chain hash breaks the next row's.
    from archiver.db.chain import chain_hash

    conn = db(archive)
    conn.execute("UPDATE captures SET http_status = 500 WHERE id = 6")
    previous = conn.execute("SELECT chain_hash FROM captures WHERE id = 5").fetchone()[0]
    row = dict(conn.execute("SELECT * FROM captures WHERE id = 6").fetchone())
    conn.execute("UPDATE captures SET chain_hash = ? WHERE id = 6", (chain_hash(previous, row),))
    conn.commit()
    result = verify(archive)
    assert result.exit_code == 1
    assert "captures row 7: chain hash does not match" in result.stdout
    assert "captures row 6" in result.stdout and "HTTP status is 200 in the WARC, 500 in the database" in result.stdout


def test_inserted_row_fails(archive):
    conn = db(archive)
    conn.execute(
        "INSERT INTO captures (url_id, run_id, requested_url, fetched_at, chain_hash) VALUES (1, 1, 'http://forged.example/', '2026-01-01T00:00:00.000Z', ?)",
        ("0" * 64,),
    )
    conn.commit()
    last = conn.execute("SELECT MAX(id) FROM captures").fetchone()[0]
    result = verify(archive)
    assert result.exit_code == 1
    assert f"captures row {last}: chain hash does not match" in result.stdout


def test_deleted_row_fails(archive):
    conn = db(archive)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM captures WHERE id = 7")
    conn.commit()
    result = verify(archive)
    assert result.exit_code == 1
    assert "captures row 8: chain hash does not match" in result.stdout
    assert "no row accounts for it" in result.stdout


def test_deleted_last_row_fails(archive):
    conn = db(archive)
    conn.execute("PRAGMA foreign_keys = OFF")
    last = conn.execute("SELECT * FROM captures WHERE warc_file IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
    conn.execute("DELETE FROM captures WHERE id >= ?", (last["id"],))
    conn.commit()
    result = verify(archive)
    assert result.exit_code == 1
    assert f"{last['warc_record_id']}" in result.stdout and "no row accounts for it" in result.stdout


def test_open_file_is_checked_and_named(archive):
    path = sorted((archive / "warcs").glob("*.warc.gz"))[-1]
    path.rename(str(path) + ".open")
    result = verify(archive)
    assert result.exit_code == 0, result.output
    assert f"warcs/{path.name} is still open" in result.stdout
    doc = json.loads(verify(archive, "--json").stdout)
    assert doc["open_files"] == [f"warcs/{path.name}"]


def test_walker_reads_large_records_exactly(tmp_path):
    # Records larger than the walker's read size, of incompressible data, end where the writer says.
    import base64
    import hashlib
    import io
    import os
    from datetime import datetime

    from archiver.warc.records import write_resource
    from archiver.outputs.verify import walk_warc
    from archiver.warc.writer import WarcFileWriter

    written = []
    with WarcFileWriter(tmp_path) as writer:
        for size in (3_000_000, 10, 2_500_000, 1 << 20):
            data = base64.b64encode(os.urandom(size))
            digest = hashlib.sha256(data).hexdigest()
            written.append((write_resource(writer, f"file:///{size}", io.BytesIO(data), "text/plain", datetime.now(UTC), digest), digest))
        relpath = writer.current_relpath
    result = walk_warc(tmp_path / relpath, relpath, False, 1 << 30)
    assert result.problems == []
    for record, digest in written:
        info = result.records[record.offset]
        assert info.length == record.length and info.decoded_sha256 == digest
