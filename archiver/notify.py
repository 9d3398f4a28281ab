"""Webhook notifications (``--notify URL``): the outcome of a run POSTed as JSON.

The body (docs/notifications.md) carries a ``text`` field with what cron mail would say, so a
Slack, Mattermost or Rocket.Chat incoming webhook shows it as it is, and the run's whole JSON
result under ``result`` for programs. A notification is sent after the run has finished and
its evidence is committed; it is retried on network errors, 429 and 5xx within a total
deadline, and a webhook that never answers costs at most that deadline: it never fails the run.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import requests

from archiver import USER_AGENT, __version__
from archiver.clock import iso_utc

NOTIFY_VERSION = 1
ATTEMPTS = 3
TIMEOUT = 10.0  # seconds to connect, and of silence while waiting for the answer
DEADLINE = 30.0  # seconds for all attempts together
RETRY_AFTER_CAP = 10.0


def build_body(command: str, result: dict[str, Any], text: str, archive: str, summary: str | None = None) -> dict[str, Any]:
    """The JSON document a webhook receives (its fields: docs/notifications.md)."""
    return {
        "notify_version": NOTIFY_VERSION,
        "delivery_id": str(uuid.uuid4()),  # the same on every retry of one notification
        "event": f"archiver.{command}",
        "summary": summary or headline(command, result),
        "text": text,
        "archive": archive,
        "host": socket.gethostname(),
        "software": f"archiver/{__version__}",
        "sent_at": iso_utc(),
        "result": result,
    }


def headline(command: str, result: dict[str, Any]) -> str:
    """One line for a chat message's first line or an email subject."""
    if command == "recheck":
        changes, quotes = len(result.get("changes") or []), len(result.get("quotes") or [])
        if not changes and not quotes:
            return f"archiver recheck: nothing changed ({result.get('checked', 0)} URLs checked)"
        parts = []
        if quotes:
            parts.append(f"{quotes} quotation{'s' if quotes != 1 else ''} changed")
        if changes:
            parts.append(f"{changes} source{'s' if changes != 1 else ''} changed")
        return "archiver recheck: " + ", ".join(parts)
    if command == "verify":
        problems = len(result.get("problems") or [])
        return "archiver verify: no problems" if result.get("ok") else f"archiver verify: {problems} problem{'s' if problems != 1 else ''}"
    return f"archiver {command}"


def notify(
    url: str,
    command: str,
    result: dict[str, Any],
    text: str,
    archive: str,
    proxy: str | None = None,
    user_agent: str | None = None,
    attempts: int = ATTEMPTS,
    timeout: float = TIMEOUT,
    deadline: float = DEADLINE,
) -> str | None:
    """POST the notification; None when the webhook accepted it (2xx), else why not, in words."""
    body = json.dumps(build_body(command, result, text, archive), ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": user_agent or USER_AGENT,
        "X-Archiver-Event": f"archiver.{command}",
    }
    proxies = {"http": proxy, "https": proxy} if proxy else None
    give_up_at = time.monotonic() + deadline
    problem = "not sent"
    with requests.Session() as session:
        for attempt in range(1, max(1, attempts) + 1):
            left = give_up_at - time.monotonic()
            if left <= 0:
                return f"{problem} (gave up after {deadline:.0f} s)"
            wait = min(2.0 ** (attempt - 1), 8.0)
            try:
                answer = session.post(url, data=body, headers=headers, proxies=proxies, timeout=(min(timeout, left), min(timeout, left)),
                                      allow_redirects=False)
            except requests.RequestException as exc:
                problem = f"no answer ({type(exc).__name__})"
            else:
                answer.close()
                if 200 <= answer.status_code < 300:
                    return None
                problem = f"the webhook answered HTTP {answer.status_code}"
                if answer.status_code != 429 and answer.status_code < 500:
                    return problem  # refused: sending the same again will not help
                retry_after = answer.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    wait = min(float(retry_after), RETRY_AFTER_CAP)
            if attempt < attempts:
                time.sleep(max(0.0, min(wait, give_up_at - time.monotonic())))
    return f"{problem}, {attempts} attempts"
