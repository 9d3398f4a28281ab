"""Options from a config file and ``ARCHIVER_*`` environment variables, for the command line.

Precedence, highest first: the command line, the environment (``ARCHIVER_PROXY``, ...), the
config file, the built-in default. The config file is TOML: top-level keys apply to every
command that has the option, a ``[command]`` table to that command alone::

    archive = "/srv/archiver/archive"
    proxy = "http://127.0.0.1:3128"
    per-host = 1
    delay = 2

    [recheck]
    confirm = 3
    notify = "https://chat.example.org/hooks/abc"

It is read from ``--config FILE``, else ``$ARCHIVER_CONFIG``, else
``$XDG_CONFIG_HOME/archiver/config.toml`` (``~/.config/archiver/config.toml``) when it exists.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import click

ENV_PREFIX = "ARCHIVER_"

# Options of the archive as a whole, valid before or after the command: config key -> environment variable.
GLOBAL_KEYS = {"archive": "ARCHIVER_HOME", "quiet": "ARCHIVER_QUIET", "log-file": "ARCHIVER_LOG_FILE"}

# What a config file or the environment may set: how to fetch and record, not what to do.
# (Choosing targets, output formats or --all from the environment would surprise.)
CONFIGURABLE = {
    "concurrency", "per-host", "delay", "connect-timeout", "timeout", "deadline", "max-bytes", "max-redirects",
    "retries", "proxy", "allow-private", "user-agent", "warc-size", "browser", "browser-host", "browser-path",
    "page-deadline", "media", "media-max-bytes", "requisites", "all-links", "max-sources", "confirm", "wait",
    "replay-base", "notify", "notify-always", "color",
}
# Same name, different meaning in different commands (capture --browser MODE, recheck --browser/--no-browser):
# only a [command] table of the config file can set it.
NO_ENVVAR = {"browser"}


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "archiver" / "config.toml"


def read_config(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    """The config file's table and where it was read from; ({}, None) when there is none.

    ``path`` is the one named by --config or $ARCHIVER_CONFIG (it must exist); without it
    the default location is read if present.
    """
    explicit = path is not None
    path = path or default_config_path()
    if not path.is_file():
        if explicit:
            raise click.UsageError(f"config file {path} does not exist")
        return {}, None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), path
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"config file {path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise click.UsageError(f"config file {path}: cannot read it: {exc.strerror or exc}") from None


def _long_names(command: click.Command) -> dict[str, str]:
    """The command's configurable options: long name without dashes -> parameter name."""
    names = {}
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        for opt in param.opts:
            if opt.startswith("--") and opt[2:] in CONFIGURABLE:
                names[opt[2:]] = param.name
    return names


def default_map(group: click.Group, ctx: click.Context, data: dict[str, Any], source: Path) -> dict[str, dict[str, Any]]:
    """Click's ``default_map`` from a config file's table; an unknown key is a usage error (a typo must not pass)."""
    commands = {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}
    top = {k.replace("_", "-"): v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for name in tables:
        if name not in commands:
            raise click.UsageError(f"config file {source}: [{name}] is not a command")
    for key in top:
        if key in NO_ENVVAR:
            raise click.UsageError(f"config file {source}: {key}: means different things to different commands: set it in a [command] table")
    known = set(GLOBAL_KEYS)
    out: dict[str, dict[str, Any]] = {}
    for name, command in commands.items():
        assert command is not None  # the name came from the group's own list_commands
        names = _long_names(command)
        known |= set(names)
        table = {k.replace("_", "-"): v for k, v in tables.get(name, {}).items()}
        for key in table:
            if key not in names and key not in GLOBAL_KEYS:
                raise click.UsageError(f"config file {source}: [{name}] {key}: not an option of `archiver {name}` that a config file can set")
        values = {names[k]: v for k, v in {**top, **table}.items() if k in names}
        if values:
            out[name] = values
    for key in top:
        if key not in known:
            raise click.UsageError(f"config file {source}: {key}: not an option a config file can set")
    return out


def global_setting(data: dict[str, Any], command: str | None, key: str) -> Any:
    """A global option (archive, quiet, log-file) from the config file: the command's table wins."""
    table = data.get(command, {}) if command else {}
    for source in (table, data):
        for spelling in (key, key.replace("-", "_")):
            if isinstance(source, dict) and spelling in source and not isinstance(source[spelling], dict):
                return source[spelling]
    return None


def add_envvars(group: click.Group) -> None:
    """Give every configurable option its environment variable: --per-host is ARCHIVER_PER_HOST."""
    for command in group.commands.values():
        for param in command.params:
            if not isinstance(param, click.Option) or param.envvar:
                continue
            long = next((o[2:] for o in param.opts if o.startswith("--")), None)
            if long in CONFIGURABLE and long not in NO_ENVVAR:
                param.envvar = ENV_PREFIX + long.upper().replace("-", "_")
                param.show_envvar = True
