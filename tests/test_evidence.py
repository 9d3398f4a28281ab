"""Evidence is never overwritten: every capture of a tracked URL is judged, articles keep their versions.

The scenarios of issue "Evidence that cannot be overwritten", on the bundled sample web:
re-capturing the article at version 2, a second article citing the same sources, an
article's own edits, the management commands, and the report's verify commands pasted in
the archive directory.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from archiver.sample import (
    ARTICLE_URL,
    CITED_SOURCES,
    CORRECTION_URL,
    DYING_URL,
    EARLIER_POST_URL,
    INTERVIEW_URL,
    MARKDOWN_ARTICLE,
    MOVED_URL,
    PDF_URL,
    TRANSCRIPT_1_URL,
    TRANSCRIPT_2_URL,
)
from tests.helpers import events_of, expected_events, fetch_args


def kinds(events) -> dict[str, str]:
    return {e["url"]: e["kind"] for e in events}


def db(archive_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(archive_dir / "archive.db")


def report_of(cli, article: str) -> dict:
    import json

    result = cli("report", article, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_recapture_at_version_2_records_every_change_and_keeps_version_1(cli, sample_web, archive_dir):
    web = sample_web
    first = cli.json("capture", ARTICLE_URL, *fetch_args(web))
    assert first["changes"] == [] and first["articles"][0]["version"] == 1
    web.version = 2
    again = cli.json("capture", ARTICLE_URL, *fetch_args(web))
    # Exactly what a recheck at version 2 reports: the capture judged every tracked source.
    assert events_of(again) == expected_events(1, 2)
    article = again["articles"][0]
    assert (article["version"], article["citations_added"], article["citations_removed"]) == (2, [], [])
    assert kinds(cli.json("changes")) == expected_events(1, 2)
    assert kinds(cli.json("changes", "--article", ARTICLE_URL)) == expected_events(1, 2)

    with db(archive_dir) as conn:
        # Both versions are kept, each with its own citation set.
        versions = conn.execute("SELECT version, capture_id, citations FROM article_versions ORDER BY version").fetchall()
        assert [(v, n) for v, _, n in versions] == [(1, len(CITED_SOURCES)), (2, len(CITED_SOURCES))]
        assert versions[0][1] != versions[1][1]
        for version_id in (1, 2):
            assert conn.execute("SELECT COUNT(DISTINCT url_id) FROM version_citations WHERE version_id = ? AND cited = 1", (version_id,)).fetchone()[0] == len(CITED_SOURCES)
        # The interview's baseline moved to the version-2 capture through a recorded judgement
        # naming the change event; the gone page's baseline did not move.
        interview = conn.execute(
            """SELECT j.baseline_before, j.baseline_after, j.state, ch.kind FROM judgements j JOIN urls u ON u.id = j.url_id
               LEFT JOIN changes ch ON ch.id = j.change_id WHERE u.url = ? ORDER BY j.id""",
            (INTERVIEW_URL,),
        ).fetchall()
        assert interview[0][0] is None and interview[0][2] == "ok"  # the first capture starts tracking
        assert interview[1][0] == interview[0][1] and interview[1][1] != interview[1][0] and interview[1][3] == "content_changed"
        gone = conn.execute(
            "SELECT j.baseline_before, j.baseline_after, j.state FROM judgements j JOIN urls u ON u.id = j.url_id WHERE u.url = ? ORDER BY j.id DESC",
            (EARLIER_POST_URL,),
        ).fetchone()
        assert gone[0] == gone[1] and gone[2] == "gone"
        baseline = conn.execute("SELECT u.baseline_capture_id FROM urls u WHERE u.url = ?", (EARLIER_POST_URL,)).fetchone()[0]
        assert conn.execute("SELECT http_status FROM captures WHERE id = ?", (baseline,)).fetchone()[0] == 200

    # The report no longer calls changed sources intact.
    doc = report_of(cli, ARTICLE_URL)
    status = {c["url"]: c["status"] for c in doc["citations"]}
    for url, kind in expected_events(1, 2).items():
        assert status[url] == {"content_changed": "changed"}.get(kind, kind), url
    assert doc["summary"]["sources"]["intact"] == len(CITED_SOURCES) - len(expected_events(1, 2))
    assert [v["version"] for v in doc["article"]["versions"]] == [1, 2]

    # A recheck afterwards does not report the same changes again.
    later = cli.json("recheck", "--all", *fetch_args(web))
    assert events_of(later) == {DYING_URL: "gone"}


def test_second_article_citing_the_same_sources(cli, sample_web, archive_dir):
    web = sample_web
    cli.json("capture", ARTICLE_URL, *fetch_args(web))
    web.version = 2
    # The Markdown follow-up cites four of the article's sources (and the article itself).
    second = cli.json("capture", str(MARKDOWN_ARTICLE), *fetch_args(web))
    caused = events_of(second)
    assert caused == {INTERVIEW_URL: "content_changed", CORRECTION_URL: "content_changed", MOVED_URL: "moved"}
    recheck = cli.json("recheck", "--all", *fetch_args(web))
    assert set(events_of(recheck)) & set(caused) == set()
    every = cli.json("changes")
    assert kinds(every) == expected_events(1, 2)
    assert sum(1 for e in every if e["kind"] == "content_changed") == 3

    # The first article's history includes the events the second article's capture caused.
    assert kinds(cli.json("changes", "--article", ARTICLE_URL)) == expected_events(1, 2)
    first = {c["url"]: c for c in report_of(cli, ARTICLE_URL)["citations"]}
    assert first[INTERVIEW_URL]["status"] == "changed"
    assert [c["kind"] for c in first[INTERVIEW_URL]["changes"]] == ["content_changed"]
    assert first[MOVED_URL]["status"] == "moved"
    # The second article cited version 2: what happened before it cited them is not its history.
    follow_up = report_of(cli, second["articles"][0]["url"])
    assert cli.json("changes", "--article", follow_up["article"]["url"]) == []
    mine = {c["url"]: c for c in follow_up["citations"]}
    assert mine[INTERVIEW_URL]["status"] == "intact" and mine[INTERVIEW_URL]["changes"] == []
    assert mine[INTERVIEW_URL]["first_capture"]["id"] > first[INTERVIEW_URL]["first_capture"]["id"]


def test_article_edits_are_new_versions_and_change_events(cli, sample_web, archive_dir, tmp_path):
    web = sample_web
    article = tmp_path / "bridge-one-month-on.md"
    text = MARKDOWN_ARTICLE.read_text(encoding="utf-8")
    article.write_text(text, encoding="utf-8")
    first = cli.json("capture", str(article), *fetch_args(web))["articles"][0]
    assert first["version"] == 1
    # The author edits: a citation removed, the quotation changed, a correction appended with a new link.
    edited = text.replace(
        "[official transcript of 12 February](http://assembly.test/sessions/2026-02-12/transcript.html#speaker-14)",
        "official transcript of 12 February",
    ).replace("We promised a plan, and the plan is still on the table", "We promised a plan, and the plan is on the table")
    edited += "\nCorrection: the minister repeated it at the [Assembly session of 4 June](http://assembly.test/sessions/2026-06-04/transcript.html).\n"
    assert edited != text
    article.write_text(edited, encoding="utf-8")
    second = cli.json("capture", str(article), *fetch_args(web))
    mine = second["articles"][0]
    assert mine["version"] == 2
    assert mine["citations_added"] == [TRANSCRIPT_2_URL] and mine["citations_removed"] == [TRANSCRIPT_1_URL]
    own = {e["kind"]: e for e in second["changes"] if e["url"] == mine["url"]}
    assert set(own) == {"content_changed", "citations_changed"}
    assert own["citations_changed"]["detail"]["added"] == [TRANSCRIPT_2_URL]
    assert own["citations_changed"]["detail"]["removed"] == [TRANSCRIPT_1_URL]
    assert {e["kind"] for e in cli.json("changes", "--article", mine["url"])} >= {"content_changed", "citations_changed"}

    with db(archive_dir) as conn:
        article_id = conn.execute("SELECT id FROM articles").fetchone()[0]
        versions = conn.execute("SELECT id, version, added, removed FROM article_versions WHERE article_id = ? ORDER BY version", (article_id,)).fetchall()
        assert [v[1] for v in versions] == [1, 2]
        v1 = {r[0] for r in conn.execute(
            "SELECT u.url FROM version_citations vc JOIN urls u ON u.id = vc.url_id WHERE vc.version_id = ? AND vc.cited = 1", (versions[0][0],))}
        assert TRANSCRIPT_1_URL in v1 and TRANSCRIPT_2_URL not in v1
        # The earlier version's quotation and its check are kept (retired), not deleted.
        quotes = conn.execute("SELECT version_id, retired_at IS NOT NULL FROM quotes WHERE article_id = ? ORDER BY id", (article_id,)).fetchall()
        assert (versions[0][0], 1) in quotes and (versions[1][0], 0) in quotes
        assert conn.execute("SELECT COUNT(*) FROM quote_checks").fetchone()[0] >= 2
    doc = report_of(cli, mine["url"])
    assert [v["version"] for v in doc["article"]["versions"]] == [1, 2]
    assert {c["kind"] for c in doc["article"]["changes"]} == {"content_changed", "citations_changed"}
    md = cli("report", mine["url"])
    assert "The article's own history" in md.stdout and TRANSCRIPT_1_URL in md.stdout


def test_management_commands(cli, sample_web, archive_dir, tmp_path):
    web = sample_web
    cli.json("capture", ARTICLE_URL, *fetch_args(web))
    listed = cli.json("articles")
    assert [(a["url"], a["tracking"], a["versions"], a["sources"]) for a in listed] == [(ARTICLE_URL, "tracked", 1, len(CITED_SOURCES))]
    web.version = 2
    cli.json("recheck", "--all", *fetch_args(web))
    assert cli.json("articles")[0]["changes"] == len(cli.json("changes", "--article", ARTICLE_URL)) == len(expected_events(1, 2))
    listing = cli("articles").stdout
    assert ARTICLE_URL in listing and "tracked" in listing and "1 gone" in listing
    gone = cli.json("sources", "--article", ARTICLE_URL, "--status", "gone")
    assert [s["url"] for s in gone] == [EARLIER_POST_URL]
    assert gone[0]["articles"] == [ARTICLE_URL] and gone[0]["rechecked"]
    assert {s["url"] for s in cli.json("sources")} == set(CITED_SOURCES)
    assert "gone      " + EARLIER_POST_URL in cli("sources", "--status", "gone").stdout

    def checked(outcome_args=()) -> set[str]:
        before = _capture_counts(archive_dir)
        cli.json("recheck", "--all", *fetch_args(web))
        after = _capture_counts(archive_dir)
        return {url for url, n in after.items() if n > before.get(url, 0)}

    # Pausing a source leaves it out of rechecks; pausing the article leaves out everything.
    result = cli("pause", "--source", PDF_URL)
    assert result.exit_code == 0 and "paused" in result.stdout
    assert [s["url"] for s in cli.json("sources", "--status", "paused")] == [PDF_URL]
    seen = checked()
    assert PDF_URL not in seen and INTERVIEW_URL in seen and ARTICLE_URL in seen
    assert cli("resume", "--source", PDF_URL).exit_code == 0
    assert cli("pause", "--article", ARTICLE_URL).exit_code == 0
    assert [a["tracking"] for a in cli.json("articles")] == ["paused"]
    assert checked() == set()
    assert cli("resume", "--article", ARTICLE_URL).exit_code == 0
    assert PDF_URL in checked()
    assert cli("pause").exit_code == 2

    # Untracking stops rechecks and deletes nothing.
    with db(archive_dir) as conn:
        counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("captures", "changes", "article_versions", "citations")]
    result = cli("untrack", ARTICLE_URL)
    assert result.exit_code == 0 and "Nothing was deleted" in result.stdout
    assert [a["tracking"] for a in cli.json("articles")] == ["untracked"]
    with db(archive_dir) as conn:
        assert [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("captures", "changes", "article_versions", "citations")] == counts
    assert checked() == set()
    assert cli("verify").exit_code == 0
    # Capturing it again tracks it again, as a new version.
    again = cli.json("capture", ARTICLE_URL, *fetch_args(web))
    assert again["articles"][0]["version"] == 2
    assert [a["tracking"] for a in cli.json("articles")] == ["tracked"]

    # Import: one article per URL line; comments and blanks ignored; a bad line reported, the rest captured.
    urls = tmp_path / "articles.txt"
    urls.write_text(f"# to archive\n\n{CORRECTION_URL}\nnot a url\n{TRANSCRIPT_1_URL}\n{CORRECTION_URL}#again\n", encoding="utf-8")
    result = cli("import", str(urls), *fetch_args(web), "--json")
    assert result.exit_code == 1  # a line was skipped
    import json

    doc = json.loads(result.stdout)
    assert [s["line"] for s in doc["skipped"]] == [4, 6]
    assert "line 2" not in doc["skipped"][1]["reason"] and "on line 3 already" in doc["skipped"][1]["reason"]
    assert [a["url"] for a in doc["capture"]["articles"]] == [CORRECTION_URL, TRANSCRIPT_1_URL]
    assert {a["url"] for a in cli.json("articles")} == {ARTICLE_URL, CORRECTION_URL, TRANSCRIPT_1_URL}


def _capture_counts(archive_dir: Path) -> dict[str, int]:
    with db(archive_dir) as conn:
        return dict(conn.execute("SELECT u.url, COUNT(*) FROM captures c JOIN urls u ON u.id = c.url_id GROUP BY u.url").fetchall())


def test_report_verify_commands_work_pasted_in_the_archive_directory(cli, sample_web, archive_dir):
    web = sample_web
    cli.json("capture", ARTICLE_URL, *fetch_args(web))
    web.version = 2
    cli.json("recheck", "--all", *fetch_args(web))
    commands = report_of(cli, ARTICLE_URL)["verification"]["commands"]
    assert commands[-1]["command"].startswith("archiver --archive . verify --article ")
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHIVER_HOME",)}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    for command in commands[1:]:  # the first installs warcio, which the test environment has
        done = subprocess.run(command["command"], shell=True, cwd=archive_dir, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command["command"], done.stdout[-500:], done.stderr[-500:])
        expect = command["expect"]
        if expect and expect not in ("exit status 0", "no 'digest failed' lines"):
            assert expect in done.stdout, (command["command"], done.stdout[-300:])
        if expect == "no 'digest failed' lines":
            assert "digest failed" not in done.stdout
    # Without --archive too: run inside an archive directory, archiver finds it.
    plain = commands[-1]["command"].replace("archiver --archive . verify", "archiver verify")
    done = subprocess.run(plain, shell=True, cwd=archive_dir, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]


def test_migration_gives_existing_articles_their_first_version(tmp_path):
    """An archive made before article versions: each article gets version 1 from its citations."""
    from archiver import Archive
    from archiver.db.schema import MIGRATIONS
    from archiver.db.store import _statements

    root = tmp_path / "old"
    root.mkdir()
    conn = sqlite3.connect(root / "archive.db")
    for migration in MIGRATIONS[:4]:  # the schema before this feature
        for statement in _statements(migration):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    conn.execute("INSERT INTO runs (id, command, args, software, started_at, status) VALUES (1, 'capture', '{}', 'archiver/old', '2026-11-14T06:00:00.000Z', 'finished')")
    for url_id, url in ((1, ARTICLE_URL), (2, INTERVIEW_URL), (3, PDF_URL), (4, "http://blog.example/about/")):
        conn.execute("INSERT INTO urls (id, url, host, first_seen) VALUES (?, ?, 'x', '2026-11-14T06:00:00.000Z')", (url_id, url))
    for capture_id, url_id, when in ((1, 1, "2026-11-14T06:00:00.000Z"), (2, 2, "2026-11-14T06:00:01.000Z"), (3, 1, "2026-11-20T06:00:00.000Z")):
        conn.execute(
            "INSERT INTO captures (id, url_id, run_id, requested_url, fetched_at, http_status, text_sha256) VALUES (?, ?, 1, 'u', ?, 200, 'abc')",
            (capture_id, url_id, when),
        )
    conn.execute("INSERT INTO articles (id, url_id, added_at, capture_id, title) VALUES (1, 1, '2026-11-14T06:00:00.000Z', 3, 'The bridge')")
    for position, (url_id, cited) in enumerate(((2, 1), (3, 1), (2, 1), (4, 0))):
        conn.execute("INSERT INTO citations (article_id, url_id, href, position, cited) VALUES (1, ?, 'h', ?, ?)", (url_id, position, cited))
    conn.execute("INSERT INTO quotes (article_id, text, position) VALUES (1, 'a quotation', 0)")
    conn.commit()
    conn.close()

    with Archive(root) as archive:
        versions = archive.query("SELECT article_id, version, capture_id, created_at, citations, text_sha256 FROM article_versions").rows
        # Dated at the article's first capture: its history keeps everything seen since.
        assert versions == [(1, 1, 3, "2026-11-14T06:00:00.000Z", 2, "abc")]
        assert archive.query("SELECT COUNT(*), SUM(cited) FROM version_citations WHERE version_id = 1").rows == [(4, 3)]
        assert archive.query("SELECT version_id, retired_at FROM quotes").rows == [(1, None)]
        assert [(a.tracking, a.versions, a.sources) for a in archive.articles()] == [("tracked", 1, 2)]


def test_recheck_of_an_edited_web_article_records_a_new_version(cli, server):
    """Cron sees the article edited: a citation removed, one added, a correction appended."""
    from tests.webserver import page, send

    words = "The council met on Tuesday to discuss the harbour wall, the ferry timetable and the budget for the year. "
    state = {"version": 1}

    def article(handler):
        a, b, c = server.url("/source-a"), server.url("/source-b"), server.url("/source-c")
        body = f"<p>{words * 3}</p><p>As <a href='{a}'>the minutes</a> record, the mayor said the wall would be repaired.</p>"
        if state["version"] == 1:
            body += f"<p>The <a href='{b}'>budget paper</a> puts the cost at four million.</p>"
        else:
            body += "<p>The budget paper puts the cost at four million.</p>"
            body += f"<p>Correction: the <a href='{c}'>revised paper</a> puts it at five million.</p>"
        send(handler, 200, page("Harbour wall", body))

    server.route("/article", article)
    for name in ("a", "b", "c"):
        server.route(f"/source-{name}", lambda h, name=name: send(h, 200, page(f"Source {name}", f"<p>{words * 4} Source {name}.</p>")))
    url = server.url("/article")
    args = ("--allow-private", "--retries", "0", "--deadline", "10")
    first = cli.json("capture", url, *args)["articles"][0]
    assert first["version"] == 1
    state["version"] = 2
    outcome = cli.json("recheck", "--all", *args)
    own = {c["kind"]: c for c in outcome["changes"] if c["url"] == url}
    assert set(own) == {"content_changed", "citations_changed"}
    assert own["citations_changed"]["detail"]["added"] == [server.url("/source-c")]
    assert own["citations_changed"]["detail"]["removed"] == [server.url("/source-b")]
    doc = report_of(cli, url)
    assert [(v["version"], v["added"], v["removed"]) for v in doc["article"]["versions"]] == [
        (1, [], []), (2, [server.url("/source-c")], [server.url("/source-b")])
    ]
    assert {c["url"] for c in doc["citations"]} == {server.url("/source-a"), server.url("/source-c")}
    # Unchanged since: a later recheck records no new version.
    again = cli.json("recheck", "--all", *args)
    assert [c for c in again["changes"] if c["url"] == url] == []
    assert [a["versions"] for a in cli.json("articles")] == [2]
