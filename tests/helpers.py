"""What many test files share: the options test runs pass, the sample archive, a small article page."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from archiver.options import FetchOptions
from archiver.sample import ARTICLE_URL, expected_changes
from tests import webserver as ws
from tests.conftest import Cli

# No retries, so a failure is recorded at once, and deadlines that no transfer in a test can
# reach on any machine, however loaded: a test never races a deadline against a transfer.
# Sources that must end by a deadline never finish by themselves (a drip, a host that never
# answers), and the tests that use them pass SHORT_DEADLINE or SHORT_READ_TIMEOUT.
FAST = ["--retries", "0", "--timeout", "60", "--deadline", "600"]
# The same for servers on 127.0.0.1, which the address guard refuses without --allow-private.
FAST_LOCAL = [*FAST, "--allow-private"]
# The same, for the Python API.
FAST_FETCH = FetchOptions(retries=0, read_timeout=60, total_timeout=600)
# For sources that never finish: only the whole-fetch deadline can end a fetch (the read
# timeout is out of reach), so a drip ends by the deadline however slow the machine...
SHORT_DEADLINE = ["--retries", "0", "--timeout", "600", "--deadline", "2"]
# ...and here only silence can: a host that never answers ends by the read timeout.
SHORT_READ_TIMEOUT = ["--retries", "0", "--timeout", "2", "--deadline", "600"]
# Browser capture: the page's own deadline is as unreachable as the fetch deadlines.
BROWSER_FAST = [*FAST, "--page-deadline", "600"]

ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]


def article_page(paths: list[str]) -> bytes:
    """An article whose prose cites each of ``paths``."""
    links = ", ".join(f'<a href="{p}">the {ORDINALS[i]} account</a>' for i, p in enumerate(paths))
    return ws.page(
        "Bridges and budgets",
        f"<p>The council first promised the repair in {links}, and each of them told a different story "
        "about when the bridge would open again to traffic.</p>",
    )


def build_sample(directory: Path, versions: tuple[int, ...] = (1, 2, 3)) -> Path:
    """An archive of the sample article and the plain-text letter captured at the first version,
    rechecked at the others (through the Python API, as the CLI is not what is tested)."""
    from archiver import Archive, CaptureOptions, RecheckOptions
    from archiver.sample import TEXT_ARTICLE, SampleWeb

    with SampleWeb(hang_seconds=0.5) as web:
        fetch = replace(FAST_FETCH, proxy=web.proxy_url)
        web.version = versions[0]
        with Archive(directory, create=True) as archive:
            outcome = archive.capture([web.article_url, TEXT_ARTICLE], CaptureOptions(fetch=fetch))
            assert outcome.ok, outcome
            for version in versions[1:]:
                web.version = version
                archive.recheck(RecheckOptions(fetch=fetch, due_only=False))
    return directory


# -- used by several test files: the sample web's fetch arguments and events, pywb, JSON reports --


def fetch_args(web) -> list[str]:
    return ["--proxy", web.proxy_url, *FAST]


def events_of(outcome: dict) -> dict[str, str]:
    return {change["url"]: change["kind"] for change in outcome["changes"]}


def expected_events(a: int, b: int) -> dict[str, str]:
    return {url: kind for url, kind in expected_changes(a, b).items() if kind}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_pywb(root: Path, port: int) -> subprocess.Popen:
    wayback = Path(sys.executable).with_name("wayback")
    log = open(root / "pywb.log", "wb")
    proc = subprocess.Popen([str(wayback), "--port", str(port), "--bind", "127.0.0.1"], cwd=root, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"pywb exited: {(root / 'pywb.log').read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("pywb did not start listening within 60 s")


def report_json(archive: Path, article: str = ARTICLE_URL, *extra: str) -> dict:
    result = Cli(archive)("report", article, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
