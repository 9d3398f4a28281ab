"""archiver export: WACZ packages that py-wacz validates, and a CDXJ index for pywb."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from archiver.outputs.export import validate_wacz
from archiver.sample import ARTICLE_URL, TEXT_ARTICLE
from tests.conftest import Cli
from tests.helpers import build_sample
from tests.warccheck import warcio_records

pytest.importorskip("wacz")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("export") / "archive", (1, 2))


def test_wacz_of_the_whole_archive_validates(archive, tmp_path):
    out = tmp_path / "all.wacz"
    result = Cli(archive)("export", "--wacz", str(out), "--json")
    assert result.exit_code == 0, result.output
    ok, log = validate_wacz(out)
    assert ok, log
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert "datapackage.json" in names and "indexes/index.cdx.gz" in names
        assert len([n for n in names if n.startswith("archive/")]) == len(list((archive / "warcs").glob("*.warc.gz")))
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()[1:]]
    assert pages[0]["url"] == ARTICLE_URL and pages[0]["title"]


def test_wacz_of_one_article_holds_its_records_only(archive, tmp_path):
    out = tmp_path / "article.wacz"
    result = Cli(archive)("export", "--wacz", str(out), "--article", ARTICLE_URL)
    assert result.exit_code == 0, result.output
    ok, log = validate_wacz(out)
    assert ok, log
    with zipfile.ZipFile(out) as z:
        [warc] = [n for n in z.namelist() if n.startswith("archive/")]
        data = z.read(warc)
    path = tmp_path / "copy.warc.gz"
    path.write_bytes(data)
    records = warcio_records(path)
    assert all(not r["digest_problems"] for r in records)
    uris = {r["uri"] for r in records if r["type"] in ("response", "revisit")}
    assert ARTICLE_URL in uris
    assert TEXT_ARTICLE.resolve().as_uri() not in {r["uri"] for r in records}  # the other article stays out
    ids = {r["id"] for r in records}
    for r in records:
        if r["type"] == "request":
            assert r["headers"]["WARC-Concurrent-To"] in ids
        if r["type"] == "revisit" and "WARC-Refers-To" in r["headers"]:
            assert r["headers"]["WARC-Refers-To"] in ids  # replay needs the original


def test_cdxj_index(archive, tmp_path):
    out = tmp_path / "index.cdxj"
    result = Cli(archive)("export", "--cdxj", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines == sorted(lines)
    entries = []
    for line in lines:
        surt, stamp, block = line.split(" ", 2)
        assert len(stamp) == 14 and stamp.isdigit()
        entries.append((surt, json.loads(block)))
    article = [e for s, e in entries if e.get("url") == ARTICLE_URL]
    assert article and article[0]["filename"].endswith(".warc.gz") and "/" not in article[0]["filename"]
    assert {"offset", "length", "digest"} <= set(article[0])


def test_export_needs_a_target(archive):
    result = Cli(archive)("export")
    assert result.exit_code == 2 and "--wacz" in result.stderr
    result = Cli(archive)("export", "--cdxj", "x.cdxj", "--article", "1")
    assert result.exit_code == 2
