#!/usr/bin/env python3
"""Write docs/cli.md, the command-line reference, from the commands' own --help.

    python scripts/cli_reference.py            # rewrite docs/cli.md
    python scripts/cli_reference.py --check    # exit 1 when docs/cli.md is out of date

The test suite runs --check, so the reference cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archiver.cli import main

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
WIDTH = 100


def reference() -> str:
    root = click.Context(main, info_name="archiver", terminal_width=WIDTH, max_content_width=WIDTH, **main.context_settings)
    parts = [
        "# Command-line reference",
        "",
        "Generated from the commands' own `--help` by `scripts/cli_reference.py`; do not edit by hand.",
        "Every command is one call of the Python API (docs/api.md).",
        "",
        "```text",
        main.get_help(root),
        "```",
    ]
    for name in main.list_commands(root):
        command = main.get_command(root, name)
        ctx = click.Context(command, info_name=name, parent=root, terminal_width=WIDTH, max_content_width=WIDTH)
        parts += ["", f"## archiver {name}", "", "```text", command.get_help(ctx), "```"]
    return "\n".join(parts) + "\n"


def main_script(argv: list[str]) -> int:
    text = reference()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is out of date: run python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main_script(sys.argv[1:]))
