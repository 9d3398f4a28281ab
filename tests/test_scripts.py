"""The cron wrapper in scripts/: passes the command's output on and appends it to a log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.sample import ARTICLE_URL
from tests.helpers import FAST

pytestmark = pytest.mark.slow  # the cron wrapper as a subprocess: left out of ./scripts/test -m 'not slow'

ROOT = Path(__file__).resolve().parents[1]


def test_cron_wrapper_logs_and_passes_output_on(tmp_path, sample_web):
    archive = tmp_path / "archive"
    log = tmp_path / "logs" / "archiver.log"
    env = {
        **os.environ,
        "ARCHIVER_BIN": str(Path(sys.executable).parent / "archiver"),
        "ARCHIVER_HOME": str(archive),
        "ARCHIVER_LOG": str(log),
    }
    fetch = ["--proxy", sample_web.proxy_url, *FAST]
    wrapper = str(ROOT / "scripts" / "archiver-cron")
    first = subprocess.run([wrapper, "capture", ARTICLE_URL, *fetch], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Captured" in first.stdout
    quiet = subprocess.run([wrapper, "recheck", "--all", *fetch], env=env, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and quiet.stdout == ""  # nothing changed: no cron mail
    sample_web.version = 2
    loud = subprocess.run([wrapper, "recheck", "--all", *fetch], env=env, capture_output=True, text=True, timeout=120)
    assert loud.returncode == 0 and loud.stdout.startswith("QUOTATION")
    text = log.read_text()
    assert text.count("== ") == 3 and "archiver capture" in text and "(exit 0)" in text
    assert "QUOTATION" in text


SYSTEMD = ROOT / "scripts" / "systemd"


def _exec_start(unit: Path) -> str:
    """The unit's shell command, unescaped as systemd does ($$ is $, %% is %)."""
    line = next(text for text in unit.read_text().splitlines() if text.startswith("ExecStart="))
    command = line.split("=", 1)[1]
    assert command.startswith("/bin/sh -c '") and command.endswith("'")
    return command[len("/bin/sh -c '"):-1].replace("$$", "$").replace("%%", "%")


def test_systemd_units_are_valid():
    import shutil

    import pytest

    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    units = sorted(str(p) for p in SYSTEMD.glob("archiver-*.*"))
    assert len(units) == 4
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_systemd_verify_unit_mails_only_problems(tmp_path, sample_web):
    """The unit's own command, with the real archiver and a sendmail that keeps what it is given."""
    archive = tmp_path / "archive"
    archiver = Path(sys.executable).parent / "archiver"
    subprocess.run([str(archiver), "--archive", str(archive), "capture", ARTICLE_URL, "--proxy", sample_web.proxy_url, "--timeout", "1.5",
                    "--retries", "0"], check=True, capture_output=True, timeout=120)
    mailbox = tmp_path / "mail"
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(f'#!/bin/sh\necho "to: $1" >> {mailbox}\ncat >> {mailbox}\n')
    sendmail.chmod(0o755)
    script = _exec_start(SYSTEMD / "archiver-verify.service")
    script = script.replace("/usr/local/bin/archiver", str(archiver)).replace("/usr/sbin/sendmail", str(sendmail))
    env = {**os.environ, "ARCHIVER_HOME": str(archive), "MAILTO": "editor@example.org"}
    ok = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout == "" and not mailbox.exists()
    warc = sorted((archive / "warcs").glob("*.warc.gz"))[0]
    warc.write_bytes(warc.read_bytes()[:-100])
    bad = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "PROBLEM" in bad.stdout
    mail = mailbox.read_text()
    assert mail.startswith("to: editor@example.org\nSubject: archiver: verify found a problem\n\n") and "PROBLEM" in mail
