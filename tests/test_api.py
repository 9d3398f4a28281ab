"""The public Python API (docs/api.md): one archive built and read through archiver.Archive alone.

The archive is the sample article captured at version 1 and rechecked at version 2
(tests/helpers.py builds it through the API); every reading method is called on it and its
typed result checked, and each typed exception is raised where docs/api.md says it is.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

import pytest

import archiver
from archiver import (
    Archive,
    ArchiveError,
    ArchiveLocked,
    ArchiverError,
    CaptureOptions,
    NotFound,
    QueryError,
    ReadOnlyArchive,
    ReadOnlyQuery,
    UsageError,
)
from archiver.results import CdxjExport, Change, QueryResult, TextDiff, VerifyResult, WaczExport
from archiver.sample import ARTICLE_URL, expected_changes
from tests.conftest import Cli
from tests.helpers import build_sample


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("api") / "archive", (1, 2))


def test_everything_public_is_importable_from_the_package():
    exported = set(archiver.__all__) - {"__version__", "USER_AGENT"}
    assert exported == set(archiver._LAZY)
    for name in exported:
        assert getattr(archiver, name) is not None, name
    assert issubclass(ArchiveLocked, ArchiveError) and issubclass(ArchiveError, ArchiverError)
    assert issubclass(NotFound, LookupError) and issubclass(NotFound, ArchiverError)


def test_changes_are_typed_and_match_the_cli_json(built):
    with Archive(built, readonly=True) as archive:
        changes = archive.changes()
    assert changes and all(isinstance(c, Change) for c in changes)
    wanted = {url: kind for url, kind in expected_changes(1, 2).items() if kind}
    assert {c.url: c.kind for c in changes} == wanted
    gone = [c for c in changes if c.kind == "gone"]
    with Archive(built, readonly=True) as archive:
        assert [c.url for c in archive.changes(kinds=["gone"])] == [c.url for c in gone]
        assert archive.changes(since="2999-01-01") == []
    # The CLI is this call rendered: its --json is the results' to_dict().
    printed = json.loads(Cli(built)("changes", "--json").stdout)
    assert printed == [c.to_dict() for c in changes]


def test_diff_report_and_query(built):
    with Archive(built, readonly=True) as archive:
        changed = next(c for c in archive.changes() if c.kind == "content_changed")
        diff = archive.diff(changed.url)
        assert isinstance(diff, TextDiff) and diff.from_capture_id < diff.to_capture_id
        assert diff.old_text != diff.new_text and {tag for tag, _ in diff.ops} >= {"insert", "delete"}
        markdown = archive.report(ARTICLE_URL)
        assert markdown.startswith("#") and ARTICLE_URL in markdown
        assert "<html" in archive.report(ARTICLE_URL, format="html").lower()
        data = archive.report_data(ARTICLE_URL)
        assert data["article"]["url"] == ARTICLE_URL and data["citations"]
        result = archive.query("SELECT url, state FROM urls WHERE url = :u", {"u": changed.url})
        assert isinstance(result, QueryResult) and result.columns == ["url", "state"]
        assert result.dicts() == [{"url": changed.url, "state": "ok"}]
        assert archive.query("SELECT count(*) FROM runs WHERE command = ?", ("recheck",)).rows == [(1,)]


def test_verify_and_exports(built, tmp_path):
    with Archive(built, readonly=True) as archive:
        outcome = archive.verify()
        assert isinstance(outcome, VerifyResult) and outcome.ok and not outcome.problems
        assert len(outcome.chain_head) == 64 and outcome.captures == outcome.captures_checked > 5
        wacz = archive.export_wacz(tmp_path / "a.wacz", article=ARTICLE_URL)
        assert isinstance(wacz, WaczExport) and wacz.pages >= 1 and wacz.records
        with zipfile.ZipFile(tmp_path / "a.wacz") as package:
            assert "datapackage.json" in package.namelist()
        cdxj = archive.export_cdxj(tmp_path / "index.cdxj")
        assert isinstance(cdxj, CdxjExport) and cdxj.lines == len((tmp_path / "index.cdxj").read_text().splitlines()) > 5
    assert dataclasses.is_dataclass(outcome) and json.dumps(outcome.to_dict())


def test_typed_errors(built, tmp_path):
    with Archive(built, readonly=True) as archive:
        with pytest.raises(NotFound):
            archive.report("http://no-such.example/article")
        with pytest.raises(NotFound):
            archive.diff("http://no-such.example/source")
        with pytest.raises(ReadOnlyQuery):
            archive.query("DELETE FROM captures")
        with pytest.raises(QueryError):
            archive.query("SELECT no_such_column FROM captures")
        with pytest.raises(ReadOnlyArchive):
            archive.capture([ARTICLE_URL])
    with Archive(built) as holder:  # the write lock, held
        with pytest.raises(ArchiveLocked):
            Archive(built)
        with Archive(built, readonly=True) as reader:  # readers need no lock
            assert reader.changes()
        with pytest.raises(UsageError):
            holder.capture(["ftp://example.org/file"], CaptureOptions())
    not_an_archive = tmp_path / "elsewhere"
    not_an_archive.mkdir()
    (not_an_archive / "notes.txt").write_text("mine")
    with pytest.raises(ArchiveError):
        Archive(not_an_archive, create=True)
