"""Asking a time-stamping authority (RFC 3161 over HTTP, RFC 3161 section 3.4) for a token.

One POST of a DER TimeStampReq; the answer is checked against the request (granted, the
same nonce and imprint) before anyone stores it. Proxies come from the environment
(HTTP_PROXY/HTTPS_PROXY, NO_PROXY) as for every other request archiver makes.
"""

from __future__ import annotations

import hashlib

import requests

from archiver import USER_AGENT
from archiver.proof.rfc3161 import QUERY_TYPE, REPLY_TYPE, TimestampError, TokenInfo, build_query, parse_reply

MAX_REPLY = 1 << 20  # a token is a few kilobytes; more is not a TSA talking


def request_token(url: str, message: bytes, timeout: float = 30.0, proxy: str | None = None) -> tuple[bytes, TokenInfo]:
    """POST a query over ``sha256(message)`` to ``url``; returns (the DER reply, its facts).

    Raises :class:`TimestampError` for a TSA that cannot be reached, answers with an error,
    or answers with a token that is not for this query.
    """
    query, nonce = build_query(message)
    proxies = {"http": proxy, "https": proxy} if proxy else None
    try:
        with requests.post(
            url,
            data=query,
            headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE, "User-Agent": USER_AGENT},
            timeout=(min(timeout, 10.0), timeout),
            proxies=proxies,
            stream=True,
        ) as answer:
            body = answer.raw.read(MAX_REPLY + 1, decode_content=True)
            status = answer.status_code
            content_type = answer.headers.get("Content-Type", "")
    except requests.RequestException as exc:
        raise TimestampError(f"could not reach the TSA at {url}: {exc}") from None
    if status != 200:
        raise TimestampError(f"the TSA at {url} answered HTTP {status}")
    if len(body) > MAX_REPLY:
        raise TimestampError(f"the TSA at {url} sent more than {MAX_REPLY} bytes: not a time-stamp reply")
    if content_type and not content_type.startswith(REPLY_TYPE):
        raise TimestampError(f"the TSA at {url} answered {content_type}, not {REPLY_TYPE}")
    info = parse_reply(body)
    if info.nonce != nonce:
        raise TimestampError(f"the TSA at {url} answered with another nonce: the reply is not for this query")
    if info.imprint != hashlib.sha256(message).digest():
        raise TimestampError(f"the TSA at {url} time-stamped something else than the query's hash")
    return body, info
