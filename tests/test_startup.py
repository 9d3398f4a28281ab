"""Startup: `python -m archiver` is the `archiver` command, and help loads none of the heavy library.

How fast it starts is measured in scripts/bench_startup.py; here we check the cause of a slow
start, which holds whatever the clock: the modules `--help` imports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# What makes a start slow: each costs tens of milliseconds to import, and none is needed to print help.
HEAVY = ("trafilatura", "lxml", "requests", "urllib3", "warcio", "sqlite_utils", "cryptography", "rfc3161_client",
         "dateutil", "playwright", "archiver.archive", "archiver.db", "archiver.net", "archiver.warc", "archiver.analyze.judge",
         "archiver.runs.capture", "archiver.runs.recheck", "archiver.outputs")

_PROBE = """
import json, sys
from archiver.cli import main
for args in json.loads(sys.argv[1]):
    try:
        main(args, prog_name="archiver")
    except SystemExit:
        pass
heavy = json.loads(sys.argv[2])
print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))), file=sys.stderr)
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No config file of the machine's user, no archive of theirs: help must not need either."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    return {**clean, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_help_imports_no_heavy_module(env):
    from archiver.cli import main

    import click

    commands = main.list_commands(click.Context(main, info_name="archiver"))
    assert "capture" in commands and "recheck" in commands
    runs = [["--help"], ["--version"]] + [[name, "--help"] for name in commands]
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(runs), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "Usage: archiver capture" in done.stdout and "Usage: archiver recheck" in done.stdout
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert loaded == [], f"--help imported {sorted({m.split('.')[0] for m in loaded})}: {loaded[:10]}"


def test_help_of_a_command_after_the_lazy_imports_is_whole(env):
    """The defaults that moved to archiver.options for a light start still show in help."""
    done = subprocess.run([sys.executable, "-m", "archiver", "capture", "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    for default in ("http://timestamp.digicert.com", "https://web.archive.org/web/timemap/link/", "https://web.archive.org/save/"):
        assert default in done.stdout


def test_python_dash_m_archiver_is_the_console_script(env):
    script = Path(sys.executable).with_name("archiver")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable} (package not installed in this environment)")
    by_module = subprocess.run([sys.executable, "-m", "archiver", "--help"], capture_output=True, text=True, timeout=60, env=env)
    by_script = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert by_module.returncode == by_script.returncode == 0
    assert by_module.stdout.startswith("Usage: archiver [OPTIONS] COMMAND")
    assert by_module.stdout == by_script.stdout
    # A usage error exits 2 either way, with the same words.
    bad_module = subprocess.run([sys.executable, "-m", "archiver", "no-such-command"], capture_output=True, text=True, timeout=60, env=env)
    bad_script = subprocess.run([str(script), "no-such-command"], capture_output=True, text=True, timeout=60, env=env)
    assert bad_module.returncode == bad_script.returncode == 2
    assert bad_module.stderr == bad_script.stderr
