"""Plain words for people: dates, spans of time and reasons, in place of codes and ISO strings.

The codes (``http_404``, ``redirect_home``, ``proxy: ...``) stay what the database and
``--json`` hold; these functions only say them for a reader of cron mail or a report.
"""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus

from archiver.clock import parse_iso


def human_date(iso: str | datetime | None, with_time: bool = True) -> str:
    """``2 Dec 2026, 10:20 UTC`` for an ISO 8601 timestamp ('' for None; unreadable text as given)."""
    if iso is None or iso == "":
        return ""
    try:
        moment = iso if isinstance(iso, datetime) else parse_iso(str(iso))
    except ValueError:
        return str(iso)
    day = f"{moment.day} {moment.strftime('%b %Y')}"
    return f"{day}, {moment.strftime('%H:%M')} UTC" if with_time else day


def human_span(seconds: float) -> str:
    """A duration as people say it: "40 minutes", "5 hours", "2 days", "3 weeks"."""
    seconds = abs(seconds)
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size * (2 if unit == "week" else 1):
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def http_status_words(status: int | None) -> str:
    """``404 Not Found``; a status without a standard name as its number."""
    if status is None:
        return ""
    try:
        return f"{status} {HTTPStatus(int(status)).phrase}"
    except ValueError:
        return str(status)


def _proxy_words(message: str) -> str:
    lowered = message.lower()
    if "remotedisconnected" in lowered or "closed" in lowered or "reset" in lowered:
        return "the server stopped answering"
    if "timed out" in lowered or "timeout" in lowered:
        return "the server did not answer in time"
    if "tunnel" in lowered or any(f" {code}" in message for code in ("502", "503", "504")):
        return "the proxy could not reach the server"
    return "the proxy could not fetch the page"


def error_words(error: str | None) -> str:
    """A fetch error ("code: message", as recorded) as a sentence a reader understands."""
    if not error:
        return ""
    code, _, message = error.partition(":")
    code, message = code.strip(), message.strip()
    lowered = message.lower()
    if code.startswith("http_") and code[5:].isdigit():
        return f"the server answered {http_status_words(int(code[5:]))}"
    if code == "dns":
        return "the site's name no longer leads anywhere (the domain does not resolve)"
    if code == "refused":
        return "the server refused the connection"
    if code == "timeout":
        if "body" in lowered:
            return "the server stopped sending in the middle of the page"
        return "the server did not answer in time"
    if code == "connection":
        if "before the body" in lowered:
            return "the server broke off in the middle of the page"
        if "not valid http" in lowered:
            return "the server's answer was not a web page it could read (not valid HTTP)"
        return "the server stopped answering" if "without answering" in lowered else "the connection to the server broke"
    if code == "proxy":
        return _proxy_words(message)
    if code == "tls":
        if "certificate" in lowered:
            return "the site's security certificate was not accepted"
        return "a secure (HTTPS) connection to the site could not be made"
    if code == "blocked_private":
        return "the address is on a private network, which archiver does not fetch (see --allow-private)"
    if code == "too_many_redirects":
        return "the page redirects in a loop" if "loop" in lowered else "the page redirects too many times"
    if code == "bad_redirect":
        return "the page redirects to an address that is not valid"
    if code == "too_large":
        return "the page is larger than --max-bytes allows and was cut there"
    if code == "bad_encoding":
        return "the server's compressed answer could not be decoded"
    if code == "invalid_url":
        return "the address is not a valid web address"
    if code == "blocked":
        return "the site refused to show the page to archiver (a rate limit or a bot check)"
    if code == "error":
        return "archiver could not fetch it (an error of its own, recorded in the database)"
    return error


_SOFT_404 = {
    "redirect_home": "the page now redirects to the site's home page",
    "error_page": "the page now shows a \"not found\" message (with a success status)",
    "like_probe": "the page now looks like the site's answer for an address that does not exist",
    "empty_page": "the page is now empty",
    "redirect_unrelated": "the address now leads to an unrelated page",
}
_MOVED = {
    "same_text_new_address": "the same text is now at a new address",
    "same_payload_new_address": "the same file is now at a new address",
}


def soft_404_words(reason: str | None) -> str:
    return _SOFT_404.get(reason or "", "the page now looks like a \"not found\" page")


def moved_words(reason: str | None) -> str:
    return _MOVED.get(reason or "", "the page is now at a new address")


def restored_words(reason: str | None, content_changed: bool | None = None) -> str:
    if reason == "not_modified":
        return "the page is back, and the server says it has not changed since it was archived"
    if content_changed:
        return "the page is back, with a different text"
    return "the page is back"


def count_words(count: int, noun: str = "word") -> str:
    if count == 0:
        return f"no {noun}s"
    return f"{count} {noun}{'s' if count != 1 else ''}"
