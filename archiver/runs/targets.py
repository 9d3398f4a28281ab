"""What a capture is asked to capture: an http(s) URL or a local file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archiver.errors import UsageError
from archiver.urls import InvalidURL, normalise_url, scheme_of


@dataclass
class Target:
    raw: str
    url: str  # normalised URL, or the file's file:// URI
    path: Path | None = None


def parse_target(raw: str) -> Target:
    """An http(s) URL or an existing local file; anything else is a usage error."""
    scheme = scheme_of(raw)
    if scheme in ("http", "https"):
        try:
            return Target(raw, normalise_url(raw))
        except InvalidURL as exc:
            raise UsageError(f"bad URL {raw!r}: {exc}") from None
    if scheme and len(scheme) > 1 and not Path(raw).exists():
        raise UsageError(f"unsupported scheme {scheme}: in {raw!r}: give an http(s) URL or a local file")
    path = Path(raw)
    if not path.exists():
        raise UsageError(f"no such file: {raw} (a target is an http(s) URL or a local HTML, Markdown or text file)")
    if not path.is_file():
        raise UsageError(f"{raw} is not a file (a target is an http(s) URL or a local HTML, Markdown or text file)")
    return Target(raw, path.resolve().as_uri(), path)
