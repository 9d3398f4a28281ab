"""When a tracked URL is checked next: a day after capture, then 2, 4, 8... days up to 30 while
it stays unchanged, back to daily after any change or failure."""

from __future__ import annotations

from datetime import datetime, timedelta

from archiver.clock import iso_utc, parse_iso

MIN_INTERVAL = 86_400  # a day, in seconds
MAX_INTERVAL = 30 * 86_400


def first_check(fetched_at: str, usable: bool) -> tuple[int, str]:
    """(interval, next_check_at) for a URL just captured: a day later, or at once if it did not answer well."""
    return MIN_INTERVAL, iso_utc(parse_iso(fetched_at) + timedelta(seconds=MIN_INTERVAL if usable else 0))


def after_check(interval: int | None, eventful: bool, now: datetime) -> tuple[int, str]:
    """(interval, next_check_at) after a check: reset by anything eventful, else doubled up to the cap."""
    interval = MIN_INTERVAL if eventful else min((interval or MIN_INTERVAL) * 2, MAX_INTERVAL)
    return interval, iso_utc(now + timedelta(seconds=interval))
