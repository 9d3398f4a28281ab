"""The documentation the code generates or promises: the CLI reference, help for every option."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from archiver.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _reference_module():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "scripts" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date():
    reference = _reference_module()
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == reference.reference(), (
        "docs/cli.md is out of date: run python scripts/cli_reference.py"
    )


def test_every_command_has_examples_and_every_option_help():
    ctx = click.Context(main, info_name="archiver")
    missing = []
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        if "Examples:" not in (command.help or ""):
            missing.append(f"{name}: no examples")
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip():
                missing.append(f"{name} {param.opts[0]}: no help text")
    assert not missing, missing


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "archiver", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("archiver, version")
