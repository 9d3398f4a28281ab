from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import main
from tests.webserver import TestServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def _config_home(tmp_path_factory) -> Path:
    # An empty XDG_CONFIG_HOME outside the project (Chromium writes its own settings there too).
    return tmp_path_factory.mktemp("config-home")


@pytest.fixture(autouse=True)
def _no_ambient_proxy(monkeypatch, _config_home):
    # Tests decide proxies themselves; a developer's shell proxy must not leak in.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy", "ARCHIVER_HOME"):
        monkeypatch.delenv(name, raising=False)
    # Nor may a developer's ARCHIVER_* options, NO_COLOR or ~/.config/archiver/config.toml.
    for name in [n for n in os.environ if n.startswith("ARCHIVER_") and n not in ("ARCHIVER_VENV", "ARCHIVER_BIN")] + ["NO_COLOR"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(_config_home))


@pytest.fixture
def server():
    srv = TestServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def archive_dir(tmp_path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def sample_web():
    from archiver.sample.server import SampleWeb

    # The dying host closes its connections after half a second; no test deadline comes near that.
    web = SampleWeb(hang_seconds=0.5).start()
    yield web
    web.stop()


class Cli:
    """Runs the archiver CLI in-process against one archive directory."""

    def __init__(self, archive: Path):
        self.archive = archive
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict | None = None):
        result = self.runner.invoke(main, ["--archive", str(self.archive), *args], env=env, catch_exceptions=False)
        return result

    def json(self, *args: str, env: dict | None = None, code: int | None = 0):
        result = self(*args, "--json", env=env)
        if code is not None:
            assert result.exit_code == code, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(archive_dir) -> Cli:
    return Cli(archive_dir)


def corpus_or_skip(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus not present at {path} (only in the development checkout)")
    return path


def chromium_or_skip() -> str:
    """The Chromium executable browser tests drive, or a skip saying how to get it."""
    from archiver.net.browser import BrowserMissing, find_browser

    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright; it drives the system Chromium)")
    try:
        return find_browser()
    except BrowserMissing:
        pytest.skip("Chromium is not on PATH (apt-get install chromium; .ci/run installs it in CI)")


@pytest.fixture
def chromium() -> str:
    return chromium_or_skip()
