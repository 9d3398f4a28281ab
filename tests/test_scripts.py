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
