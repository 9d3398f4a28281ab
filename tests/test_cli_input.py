"""Bad command-line input: a one-line message on stderr, exit status 2, and nothing written anywhere."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import main

COMMANDS = {
    "capture": ["capture", "http://127.0.0.1:9/article"],
    "recheck": ["recheck"],
    "changes": ["changes"],
    "diff": ["diff", "http://127.0.0.1:9/article"],
}


def invoke(archive: Path | None, *args: str):
    prefix = ["--archive", str(archive)] if archive is not None else []
    return CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for directories)."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def assert_usage_error(result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("archiver: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def archive(tmp_path) -> Path:
    """A real archive (one local file captured: no network needed)."""
    article = tmp_path / "article.md"
    article.write_text("# A letter\n\nThe bridge is late, says [the council](http://127.0.0.1:9/minutes).\n")
    path = tmp_path / "archive"
    result = invoke(path, "capture", str(article))
    assert result.exit_code == 0, result.output
    return path


# -- unknown options ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unknown_option_exits_2_and_writes_nothing(tmp_path, command):
    archive = tmp_path / "new-archive"
    before = snapshot(tmp_path)
    result = invoke(archive, *COMMANDS[command], "--no-such-option")
    assert result.exit_code == 2, result.output
    assert "--no-such-option" in result.stderr
    assert not archive.exists()
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unknown_option_message_is_one_line(tmp_path, command):
    assert_usage_error(invoke(tmp_path / "a", *COMMANDS[command], "--no-such-option"), "--no-such-option")


# -- targets --------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["ftp://example.org/file.txt", "gopher://example.org/", "file:///etc/hostname", "javascript:alert(1)"])
def test_unsupported_scheme(tmp_path, target):
    archive = tmp_path / "archive"
    assert_usage_error(invoke(archive, "capture", target), "unsupported scheme")
    assert not archive.exists()


def test_missing_file(tmp_path):
    archive = tmp_path / "archive"
    assert_usage_error(invoke(archive, "capture", str(tmp_path / "no-such-article.html")), "no such file")
    assert not archive.exists()


def test_a_bad_target_among_good_ones_stops_before_anything_is_written(archive, tmp_path):
    before = snapshot(archive)
    good = tmp_path / "article.md"
    assert_usage_error(invoke(archive, "capture", str(good), "ftp://example.org/x"), "unsupported scheme")
    assert snapshot(archive) == before


# -- the archive directory ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_file_given_as_archive(tmp_path, command):
    not_a_dir = tmp_path / "notes.txt"
    not_a_dir.write_text("my notes\n")
    before = snapshot(tmp_path)
    assert_usage_error(invoke(not_a_dir, *COMMANDS[command]), "is a file")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_directory_that_is_not_an_archive(tmp_path, command):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"\xff\xd8\xff")
    before = snapshot(tmp_path)
    result = invoke(other, *COMMANDS[command])
    assert_usage_error(result, str(other))
    assert "not an archive" in result.stderr or "holds no archive" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["recheck", "changes", "diff"])
def test_a_missing_archive_is_not_created_by_commands_that_read(tmp_path, command):
    archive = tmp_path / "nowhere"
    assert_usage_error(invoke(archive, *COMMANDS[command]), "holds no archive")
    assert not archive.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_database_from_a_newer_archiver(archive, command):
    conn = sqlite3.connect(archive / "archive.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = snapshot(archive)
    assert_usage_error(invoke(archive, *COMMANDS[command]), "schema version 99", "upgrade archiver")
    assert snapshot(archive) == before
