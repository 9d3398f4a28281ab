"""Time as archiver records it: UTC, ISO 8601 with milliseconds and a Z."""

from __future__ import annotations

from datetime import datetime, UTC


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime | None = None) -> str:
    """``2026-11-25T06:00:00.123Z``: the one timestamp format of the database and the WARCs."""
    moment = (moment or utc_now()).astimezone(UTC)
    if moment.year >= 1000:  # isoformat (C, several times faster than strftime) pads years alike from here on
        return moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Read back a timestamp written by :func:`iso_utc` (or any ISO 8601 form)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
