"""Provenance reports on the sample web: after capture, after rechecks with changes, and on a hostile page."""

from __future__ import annotations

import shutil
from pathlib import Path

import lxml.html
import pytest

from archiver.sample import (
    ARTICLE_URL,
    CORRECTION_URL,
    INTERVIEW_URL,
    MOVED_URL,
    PDF_URL,
    QUOTE_SOURCE,
    TEXT_ARTICLE,
    TEXT_UNLINKED_REFERENCES,
    TRANSCRIPT_2_URL,
)
from archiver.urls import normalise_url
from tests import webserver as ws
from tests.conftest import Cli
from tests.helpers import FAST, build_sample, report_json

@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("captured") / "archive", (1,))


@pytest.fixture(scope="module")
def rechecked(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("rechecked") / "archive", (1, 2, 3))


def by_url(report: dict) -> dict[str, dict]:
    return {entry["url"]: entry for entry in report["citations"]}


TOP_KEYS = {"report_version", "generated_at", "software", "archive", "article", "summary", "citations",
            "unattributed_quotations", "unlinked_references", "verification", "changes_by_seriousness"}
CITATION_KEYS = {"position", "anchor_text", "context", "item_date", "item_title", "list_heading", "href", "url", "status", "status_reason",
                 "first_capture", "latest_check", "captures", "changes", "quotations", "diff", "robust_link", "screenshots",
                 "first_capture_timestamp", "latest_check_timestamp", "mementos", "submissions"}


def test_report_after_capture_all_formats(captured):
    report = report_json(captured)
    assert set(report) == TOP_KEYS and report["report_version"] == 1
    art = report["article"]
    assert art["url"] == ARTICLE_URL and art["title"] == "The bridge that wasn't" and art["author"]
    assert len(art["capture"]["payload_sha256"]) == 64 and art["capture"]["warc_file"].startswith("warcs/")
    summary = report["summary"]
    assert summary["sources"]["cited"] == summary["sources"]["captured"] == summary["sources"]["intact"] > 5
    assert summary["quotations"]["total"] == summary["quotations"]["present"] >= 1
    positions = [e["position"] for e in report["citations"]]
    assert positions == sorted(positions)
    for entry in report["citations"]:
        assert set(entry) == CITATION_KEYS
        assert entry["status"] == "intact" and entry["changes"] == []
        assert entry["first_capture"]["http_status"] == 200
        assert entry["latest_check"]["outcome"] == "first capture"
        assert entry["context"] and entry["anchor_text"]
    quoted = by_url(report)[normalise_url(QUOTE_SOURCE)]
    assert quoted["quotations"] and quoted["quotations"][0]["status"] == "present"

    cli = Cli(captured)
    md = cli("report", ARTICLE_URL).stdout
    assert md.startswith("# Provenance report: The bridge that wasn't")
    assert "## Summary" in md and "## How to verify" in md and "warcio extract --payload" in md
    html_out = cli("report", "1", "--format", "html").stdout
    doc = lxml.html.fromstring(html_out)
    assert doc.findtext(".//h1").startswith("Provenance report")


def test_report_after_recheck_statuses_and_timeline(rechecked):
    report = report_json(rechecked)
    entries = by_url(report)
    interview = entries[normalise_url(INTERVIEW_URL)]
    assert interview["status"] == "changed"
    assert [c["kind"] for c in interview["changes"]] == ["content_changed"]
    assert interview["diff"]["added"] > 0 and "_ops" not in interview["diff"]
    assert [q["status"] for q in interview["quotations"]] == ["missing"]
    assert [h["status"] for h in interview["quotations"][0]["history"]][:2] == ["present", "missing"]
    assert entries[normalise_url(MOVED_URL)]["status"] == "moved"
    assert entries[normalise_url(TRANSCRIPT_2_URL)]["status"] == "soft_404"
    assert entries[normalise_url(CORRECTION_URL)]["status"] == "changed"
    assert entries[normalise_url(PDF_URL)]["status"] == "changed"
    statuses = {e["status"] for e in report["citations"]}
    assert {"gone", "restored"} <= statuses
    gone = next(e for e in report["citations"] if e["status"] == "gone")
    # In plain words, the codes (proxy: ..., RemoteDisconnected) left to latest_check.error.
    assert gone["latest_check"]["outcome"].startswith("the server stopped answering on 2 checks")
    assert "proxy:" in gone["latest_check"]["error"] and "RemoteDisconnected" not in gone["latest_check"]["outcome"]
    summary = report["summary"]
    assert summary["quotations"]["missing"] == 1
    assert summary["sources"]["changed"] >= 3 and summary["sources"]["gone"] == 1
    assert sum(summary["sources"][s] for s in ("intact", "changed", "gone", "soft_404", "blocked", "moved", "restored", "never_captured")) == summary["sources"]["cited"]
    assert report["verification"]["commands"][-1]["command"].startswith("archiver --archive . verify --article")
    # Content changes carry a severity and a plain-language summary; the report lists all events
    # most serious first.
    change = interview["changes"][0]
    assert change["severity"] in ("rewrite", "substantive", "minor") and change["summary"]
    ranked = report["changes_by_seriousness"]
    assert len(ranked) == summary["change_events"]
    assert ranked[0]["kind"] == "gone" and ranked[-1]["kind"] in ("restored", "moved")
    markdown = Cli(rechecked)("report", ARTICLE_URL).stdout
    assert "## Changes, most serious first" in markdown

    # HTML: word diff of changed sources, Robust Links to the replay base, self-contained.
    out = rechecked.parent / "report.html"
    result = Cli(rechecked)("report", ARTICLE_URL, "--format", "html", "-o", str(out), "--replay-base", "http://replay.test/coll")
    assert result.exit_code == 0 and result.stdout == ""
    doc = lxml.html.fromstring(out.read_text())
    assert doc.xpath("//div[@class='diff']//ins") and doc.xpath("//div[@class='diff']//del")
    robust = doc.xpath("//a[@data-versionurl]")
    assert len(robust) == len(report["citations"])
    for a in robust:
        assert a.get("data-versionurl").startswith("http://replay.test/coll/2")
        assert a.get("data-versionurl").endswith(a.get("data-originalurl"))
        assert len(a.get("data-versiondate")) == 10
    assert not doc.xpath("//script | //link | //img | //iframe | //*[@src]")
    assert "default-src 'none'" in doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]

    # The archived copy is a link a reader can follow, one per captured source and one for the article.
    replay = doc.xpath("//a[@class='replay']/@href")
    assert len(replay) == 1 + sum(1 for c in report["citations"] if c["robust_link"])
    assert set(replay) >= {a.get("data-versionurl") for a in robust}

    md = Cli(rechecked)("report", ARTICLE_URL, "--format", "md").stdout
    assert "soft 404" in md and "Timeline:" in md and "Quotation (missing" in md
    assert "Archived copy" not in md  # only with --replay-base
    md = Cli(rechecked)("report", ARTICLE_URL, "--format", "md", "--replay-base", "http://replay.test/coll/").stdout
    assert md.count("- Archived copy: <http://replay.test/coll/2") == len(replay)


def test_report_lists_unlinked_references(rechecked):
    report = report_json(rechecked, TEXT_ARTICLE.resolve().as_uri())
    texts = [r["text"] for r in report["unlinked_references"]]
    assert texts and all(any(t == ref[0] for ref in TEXT_UNLINKED_REFERENCES) for t in texts)
    assert report["summary"]["unlinked_references"] == len(texts)
    assert report["article"]["capture"]["record_type"] == "resource"
    md = Cli(rechecked)("report", str(report["article"]["id"])).stdout
    assert "## Unlinked references" in md and texts[0] in md


def test_report_unknown_article_is_a_usage_error(captured):
    result = Cli(captured)("report", "http://nowhere.example/")
    assert result.exit_code == 2 and "no article" in result.stderr


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_html_report_escapes_hostile_page(server, tmp_path):
    title = f"Evil {HOSTILE}"
    body = f"""<!doctype html><html><head><title>{title}</title></head><body><main><article>
<h1>{title}</h1>
<p>As the hostile source says, &ldquo;&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt; is quite safe&rdquo;, see
<a href="/src/evil?q=%22%3E%3Cscript%3E">the &lt;script&gt;alert(3)&lt;/script&gt; page</a> and
<a href="/src/other">an &lt;iframe src=x&gt; second source</a> for details on the matter at hand.</p>
</article></main></body></html>"""
    server.static("/article", body.encode())
    server.static("/src/evil", ws.page(f"T {HOSTILE}", "<p>&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt; is quite safe, it says.</p>"))
    server.static("/src/other", ws.page("Other", f"<p>{HOSTILE} the other page.</p>"))
    cli = Cli(tmp_path / "archive")
    result = cli("capture", server.url("/article"), "--allow-private", *FAST)
    assert result.exit_code == 0, result.output
    html_out = cli("report", server.url("/article"), "--format", "html", "--replay-base", "http://r.test/").stdout
    doc = lxml.html.fromstring(html_out)
    assert not doc.xpath("//script | //img | //iframe | //*[@src]")
    for element in doc.iter():
        assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag
    assert all(not h.lower().startswith(("javascript:", "data:")) for h in doc.xpath("//a/@href"))
    text = doc.text_content()
    assert "alert(3)" in text and "<script>" in text  # shown as text, not run
    md = cli("report", server.url("/article")).stdout
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_report_survives_archive_copy(captured, tmp_path):
    # Reports read only the database: a copy elsewhere reports the same.
    copy = tmp_path / "copy"
    shutil.copytree(captured, copy)
    a, b = report_json(captured), report_json(copy)
    a.pop("generated_at"), b.pop("generated_at"), a.pop("archive"), b.pop("archive")
    assert a == b
