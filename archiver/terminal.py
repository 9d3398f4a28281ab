"""Terminal conventions: colour only where wanted (NO_COLOR), and --log-file.

https://no-color.org: a non-empty NO_COLOR turns colour off; an explicit --color still wins.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from datetime import datetime, UTC
from pathlib import Path
from typing import IO, TextIO

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def colour_wanted(stream: TextIO) -> bool:
    """Colour by default only on a terminal, and never when NO_COLOR is set or TERM is dumb."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Tee:
    """A text stream that passes everything on and copies whole lines, stamped, to the log."""

    def __init__(self, stream: TextIO, log: RunLog, mark: str) -> None:
        self._stream = stream
        self._log = log
        self._mark = mark
        self._pending = ""

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._log.line(self._mark, line)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def finish(self) -> None:
        if self._pending:
            self._log.line(self._mark, self._pending)
            self._pending = ""

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class RunLog:
    """``--log-file``: the command line, every line it printed (stdout ``|``, stderr ``!``), the
    library's warnings, and the exit status, each stamped with the UTC time; appended, never truncated."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(self.path, "a", encoding="utf-8")
        self._tees: list[tuple[str, _Tee, TextIO]] = []
        self._handler: logging.Handler | None = None

    def line(self, mark: str, text: str) -> None:
        # Progress bars redraw a line with \r and escape codes: keep only what was left on it.
        text = _ANSI.sub("", text.rsplit("\r", 1)[-1])
        if text.strip():
            self._file.write(f"{_stamp()} {mark} {text}\n")
            self._file.flush()

    def start(self, argv: list[str]) -> None:
        self._file.write(f"{_stamp()} = archiver {' '.join(argv)} (pid {os.getpid()})\n")
        self._file.flush()
        for name, mark in (("stdout", "|"), ("stderr", "!")):
            original = getattr(sys, name)
            tee = _Tee(original, self, mark)
            setattr(sys, name, tee)
            self._tees.append((name, tee, original))
        handler = logging.StreamHandler(self._file)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(asctime)s ! %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ"))
        handler.formatter.converter = __import__("time").gmtime  # type: ignore[union-attr]
        logging.getLogger("archiver").addHandler(handler)
        self._handler = handler

    def finish(self, status: int) -> None:
        for name, tee, original in reversed(self._tees):
            tee.finish()
            if getattr(sys, name) is tee:
                setattr(sys, name, original)
        self._tees.clear()
        if self._handler is not None:
            logging.getLogger("archiver").removeHandler(self._handler)
            self._handler = None
        self._file.write(f"{_stamp()} = exit status {status}\n")
        self._file.close()
