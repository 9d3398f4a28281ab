"""Terminal conventions for everyday use: NO_COLOR, progress, -q, --log-file, ARCHIVER_* variables,
a config file, --archive after the command, diff --json.

Progress and colour depend on a terminal: those tests run archiver on a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.sample import ARTICLE_URL, CORRECTION_URL, SampleWeb
from tests.conftest import Cli
from tests.helpers import FAST, build_sample

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rechecked(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("everyday") / "archive", (1, 2))


def on_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run archiver with stdout and stderr on a pseudo-terminal; (exit status, what the terminal got)."""
    master, slave = pty.openpty()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "archiver.cli", *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=full_env)
    os.close(slave)
    received = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return proc.wait(timeout=120), received.decode("utf-8", "replace")


# -- colour ---------------------------------------------------------------------------------------


def test_diff_colour_follows_the_terminal_and_no_color(rechecked):
    args = ("--archive", str(rechecked), "diff", CORRECTION_URL)
    code, coloured = on_terminal(*args)
    assert code == 0 and "\x1b[32m" in coloured
    code, plain = on_terminal(*args, env={"NO_COLOR": "1"})
    assert code == 0 and "\x1b[" not in plain and "{+" in plain
    # An explicit --color wins over NO_COLOR (no-color.org: user-level configuration overrides it).
    code, forced = on_terminal(*args, "--color", env={"NO_COLOR": "1"})
    assert "\x1b[32m" in forced


def test_diff_json(rechecked):
    result = Cli(rechecked)("diff", CORRECTION_URL, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["url"] == CORRECTION_URL and doc["identical"] is False
    assert doc["from_capture_id"] < doc["to_capture_id"]
    inserted = " ".join(op["text"] for op in doc["ops"] if op["op"] == "insert")
    assert "Correction" in inserted and doc["added"] == len(inserted.split()) and doc["removed"] == 0
    # The ops rebuild the new text from the old.
    assert "".join(op["text"] for op in doc["ops"] if op["op"] != "delete").split() == doc["new_text"].split()


# -- progress and quiet ----------------------------------------------------------------------------


def test_verify_and_export_show_progress_on_a_terminal_only(rechecked, tmp_path):
    code, shown = on_terminal("--archive", str(rechecked), "verify")
    assert code == 0 and "\r\x1b[K[" in shown and "warc.gz" in shown
    code, shown = on_terminal("--archive", str(rechecked), "export", "--cdxj", str(tmp_path / "i.cdxj"), "--wacz", str(tmp_path / "a.wacz"))
    assert code == 0 and "\r\x1b[K[" in shown and "packaging" in shown and "sorting the index" in shown
    # Not on a terminal (cron, a pipe): no progress at all.
    result = Cli(rechecked)("verify")
    assert "\r" not in result.output and "\x1b" not in result.output


def test_recheck_shows_progress_without_v_and_q_silences_it(tmp_path):
    archive = build_sample(tmp_path / "archive", (1,))
    with SampleWeb(hang_seconds=0.5) as web:
        base = ("--archive", str(archive), "recheck", "--all", "--proxy", web.proxy_url, *FAST)
        code, shown = on_terminal(*base)
        assert code == 0 and "\r\x1b[K[" in shown and "/12 " in shown
        code, shown = on_terminal(*base, "-q")
        assert code == 0 and "\x1b[K[" not in shown and shown.strip() == ""
        web.version = 2
        quiet = Cli(archive)("recheck", "--all", "--proxy", web.proxy_url, *FAST, "-q")
    lines = quiet.stdout.splitlines()
    assert lines[0].startswith("QUOTATION") and not any(line.startswith("checked ") for line in lines)  # changes, no summary


def test_quiet_prints_only_problems(rechecked, tmp_path):
    cli = Cli(rechecked)
    assert cli("verify", "-q").stdout == ""  # the weekly cron verify mails nothing while all is well
    assert cli("-q", "verify").stdout == ""
    assert cli("verify", env={"ARCHIVER_QUIET": "1"}).stdout == ""
    assert cli("verify").stdout.count("\n") >= 2
    assert cli("export", "--cdxj", str(tmp_path / "i.cdxj"), "-q").stdout == ""
    # A broken archive still speaks under -q, and exits 1.
    broken = tmp_path / "broken"
    import shutil

    shutil.copytree(rechecked, broken)
    warc = sorted((broken / "warcs").glob("*.warc.gz"))[0]
    warc.write_bytes(warc.read_bytes()[:-200])
    result = Cli(broken)("verify", "-q")
    assert result.exit_code == 1 and "PROBLEM" in result.stdout


def test_capture_quiet_lists_only_failures(tmp_path):
    with SampleWeb(hang_seconds=0.5) as web:
        cli = Cli(tmp_path / "archive")
        result = cli("capture", web.article_url, "--proxy", web.proxy_url, *FAST, "-q")
    assert result.exit_code == 0 and "Captured" not in result.stdout
    assert all(line.startswith(("failed ", "FAILED ")) for line in result.stdout.splitlines())


# -- log file -------------------------------------------------------------------------------------


def test_log_file_keeps_command_output_and_status_appended(rechecked, tmp_path):
    log = tmp_path / "logs" / "archiver.log"
    cli = Cli(rechecked)
    assert cli("--log-file", str(log), "verify").exit_code == 0
    assert cli("changes", "--log-file", str(log), "--kind", "gone").exit_code == 0  # after the command too
    assert Cli(tmp_path / "none")("report", "1", "--log-file", str(log)).exit_code == 2
    lines = log.read_text(encoding="utf-8").splitlines()
    starts = [line for line in lines if " = archiver " in line]
    assert len(starts) == 3 and "verify" in starts[0] and "changes" in starts[1]
    assert any(" | chain head: " in line for line in lines)
    assert any(" | " in line and "the page now answers 404 Not Found" in line for line in lines)
    statuses = [line.rsplit(" ", 1)[1] for line in lines if " = exit status " in line]
    assert statuses == ["0", "0", "2"]
    assert any(" ! archiver: error:" in line for line in lines)  # stderr, marked
    assert all(line[:4].isdigit() and line[19] == "Z" for line in lines)  # every line stamped in UTC


# -- environment, config file, --archive after the command ------------------------------------------


def test_archive_after_the_command(rechecked):
    runner = Cli(rechecked).runner
    from archiver.cli import main

    result = runner.invoke(main, ["changes", "--kind", "gone", "--archive", str(rechecked)], catch_exceptions=False)
    assert result.exit_code == 0 and "404 Not Found" in result.stdout
    result = runner.invoke(main, ["query", "SELECT COUNT(*) AS n FROM articles", "--json", "--archive", str(rechecked)], catch_exceptions=False)
    assert json.loads(result.stdout) == [{"n": 2}]


def test_environment_and_config_file_set_options_in_order(rechecked, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from archiver.cli import main

    def version_url(*args: str, env: dict | None = None) -> str:
        result = CliRunner().invoke(main, [*args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["article"]["version_url"] or ""

    config = tmp_path / "config.toml"
    config.write_text(f'archive = "{rechecked}"\n\n[report]\nreplay-base = "http://from-config.example/c/"\n', encoding="utf-8")
    report = ("report", ARTICLE_URL, "--format", "json")
    assert version_url("--config", str(config), *report).startswith("http://from-config.example/c/")
    # The environment beats the config file; the command line beats both.
    env = {"ARCHIVER_CONFIG": str(config), "ARCHIVER_REPLAY_BASE": "http://from-env.example/e/"}
    assert version_url(*report, env=env).startswith("http://from-env.example/e/")
    assert version_url(*report, "--replay-base", "http://from-cli.example/x/", env=env).startswith("http://from-cli.example/x/")
    # The default location, ~/.config/archiver/config.toml.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "xdg" / "archiver").mkdir(parents=True)
    (tmp_path / "xdg" / "archiver" / "config.toml").write_text(config.read_text(), encoding="utf-8")
    assert version_url(*report).startswith("http://from-config.example/c/")


def test_a_config_file_mistake_is_a_usage_error(tmp_path):
    from click.testing import CliRunner

    from archiver.cli import main

    for text, needle in (("concurrncy = 3\n", "concurrncy"), ("[rechek]\nconfirm = 3\n", "[rechek] is not a command"),
                         ("[changes]\nproxy = 'http://x'\n", "[changes] proxy"), ("proxy = \n", "not valid TOML"),
                         ("browser = 'auto'\n", "set it in a [command] table")):
        config = tmp_path / "c.toml"
        config.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(main, ["--config", str(config), "--archive", str(tmp_path / "a"), "changes"], catch_exceptions=False)
        assert result.exit_code == 2 and needle in result.stderr, (text, result.stderr)
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "missing.toml"), "changes"], catch_exceptions=False)
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_fetch_options_from_environment_and_config(tmp_path):
    # The proxy, from ARCHIVER_PROXY alone, reaches the sample web's invented hosts; from the config file too.
    with SampleWeb(hang_seconds=0.5) as web:
        env = {"ARCHIVER_PROXY": web.proxy_url, "ARCHIVER_TIMEOUT": "2", "ARCHIVER_DEADLINE": "3", "ARCHIVER_RETRIES": "0"}
        doc = Cli(tmp_path / "a").json("capture", web.article_url, env=env)
        assert doc["articles"][0]["status"] == 200
        config = tmp_path / "config.toml"
        config.write_text(f'proxy = "{web.proxy_url}"\ntimeout = 2\ndeadline = 3\n[capture]\nretries = 0\nmax-sources = 3\n', encoding="utf-8")
        doc = Cli(tmp_path / "b").json("capture", web.article_url, env={"ARCHIVER_CONFIG": str(config)})
    art = doc["articles"][0]
    assert art["status"] == 200 and len(art["sources"]) == 3  # max-sources from the [capture] table
