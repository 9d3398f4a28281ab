"""What an answer is worth: the two tests every stage applies to a fetch's outcome.

* usable: a whole 2xx answer. Its body is content: text is extracted from it, and it can
  become the baseline later checks compare with.
* failed: no answer at all, or an HTTP error (4xx/5xx). A 304 or an unfollowed 3xx is not
  a failure: the server answered.
* readable (of a captures row): a record holds an answer that is not an HTTP error, so its
  bytes show what the page said, perhaps cut short at --max-bytes.

A local file (a ``resource`` capture) has no HTTP status and is usable.
"""

from __future__ import annotations

from typing import Any


def usable_answer(status: int | None, error: str | None) -> bool:
    return error is None and status is not None and 200 <= status < 300


def failed_answer(status: int | None, error: str | None) -> bool:
    return error is not None or (status is not None and status >= 400)


def readable_capture(row: dict[str, Any]) -> bool:
    if not row.get("warc_file"):
        return False
    if row.get("record_type") == "resource":
        return True
    status = row.get("http_status")
    return status is not None and status < 400
