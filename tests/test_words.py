"""Plain words for people: dates, spans, fetch failures and change events without codes."""

from __future__ import annotations

import pytest

from archiver.analyze.kinds import describe_change
from archiver.words import error_words, human_date, human_span


def test_dates_read_as_people_write_them():
    assert human_date("2026-12-02T10:20:31.123Z") == "2 Dec 2026, 10:20 UTC"
    assert human_date("2026-12-02T11:20:00+01:00") == "2 Dec 2026, 10:20 UTC"  # always said in UTC
    assert human_date("2026-11-14", with_time=False) == "14 Nov 2026"
    assert human_date(None) == "" and human_date("not a date") == "not a date"


@pytest.mark.parametrize("seconds, words", [(20, "less than a minute"), (60, "1 minute"), (5400, "2 hours"), (2 * 86400, "2 days"), (21 * 86400, "3 weeks")])
def test_spans(seconds, words):
    assert human_span(seconds) == words


@pytest.mark.parametrize(
    "error, words",
    [
        ("proxy: through the proxy: RemoteDisconnected: Remote end closed connection without response", "the server stopped answering"),
        ("dns: cannot resolve host gone.example (NXDOMAIN)", "the site's name no longer leads anywhere (the domain does not resolve)"),
        ("refused: connection refused", "the server refused the connection"),
        ("timeout: no answer within 10 s", "the server did not answer in time"),
        ("tls: certificate rejected: self-signed certificate", "the site's security certificate was not accepted"),
        ("too_many_redirects: more than 10 redirects (a redirect loop), last to http://x/", "the page redirects in a loop"),
        ("http_503", "the server answered 503 Service Unavailable"),
    ],
)
def test_fetch_errors_in_words(error, words):
    assert error_words(error) == words


def test_change_events_in_words_without_codes():
    assert describe_change("gone", {"reason": "http_404", "http_status": 404}) == "the page now answers 404 Not Found"
    assert describe_change(
        "gone", {"reason": "proxy", "failure_streak": 2},
        error="proxy: through the proxy: RemoteDisconnected: Remote end closed connection without response",
        failing_since="2026-12-01T10:20:00.000Z", detected_at="2026-12-03T10:20:00.000Z",
    ) == "the server stopped answering on 2 checks, 2 days apart"
    assert describe_change("gone", {"reason": "http_503", "failure_streak": 3, "http_status": 503}) == (
        "the server answered 503 Service Unavailable on 3 checks in a row"
    )
    assert describe_change("soft_404", {"reason": "redirect_home", "redirect_to": "http://a.example/"}) == (
        "the page now redirects to the site's home page: http://a.example/"
    )
    assert describe_change("moved", {"reason": "same_text_new_address", "redirect_to": "http://a.example/new"}) == (
        "the same text is now at a new address: http://a.example/new"
    )
    assert describe_change("restored", {"reason": "not_modified"}) == (
        "the page is back, and the server says it has not changed since it was archived"
    )
    assert describe_change("content_changed", {"diff_summary": {"added": 37, "removed": 0}}, 0.9) == (
        "the text changed: 37 words added, no words removed (90% the same)"
    )
