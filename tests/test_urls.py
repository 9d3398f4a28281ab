"""URL normalisation: what counts as "the same URL" (RFC 3986 section 6, IDNA 2008 / UTS 46)."""

from __future__ import annotations

import pytest

from archiver.urls import InvalidURL, normalise_url, remove_dot_segments


@pytest.mark.parametrize(
    "given, expected",
    [
        # IDNA 2008 keeps ß and ς: faß.de and fass.de are two hosts (IDNA 2003 folded them).
        ("http://faß.de/", "http://xn--fa-hia.de/"),
        ("http://FASS.de/", "http://fass.de/"),
        ("http://Bücher.Example/", "http://xn--bcher-kva.example/"),
        # UTS 46 mapping: full-width letters and upper case fold as in a browser's address bar.
        ("http://ＥＸＡＭＰＬＥ.org/", "http://example.org/"),
        ("http://xn--fa-hia.de/", "http://xn--fa-hia.de/"),
        ("http://ελληνικά.example/", "http://xn--hxargifdar.example/"),
        # Hosts IDNA refuses are kept as given, lower-cased.
        ("http://under_score.example/", "http://under_score.example/"),
    ],
)
def test_international_hosts_follow_idna2008_uts46(given, expected):
    assert normalise_url(given) == expected


@pytest.mark.parametrize(
    "given, expected",
    [
        ("http://x.example/a/../b/./c", "http://x.example/b/c"),
        ("http://x.example/a/b/..", "http://x.example/a/"),
        ("http://x.example/a/b/.", "http://x.example/a/b/"),
        ("http://x.example/../../a", "http://x.example/a"),
        ("http://x.example/a/./b/../../c/", "http://x.example/c/"),
        # Dots inside a segment are not dot segments.
        ("http://x.example/a/..b/.c", "http://x.example/a/..b/.c"),
    ],
)
def test_dot_segments_are_removed(given, expected):
    assert normalise_url(given) == expected


def test_remove_dot_segments_matches_rfc3986_examples():
    # RFC 3986 5.2.4's worked examples.
    assert remove_dot_segments("/a/b/c/./../../g") == "/a/g"
    assert remove_dot_segments("mid/content=5/../6") == "/mid/6"


@pytest.mark.parametrize(
    "given, expected",
    [
        ("http://x.example/%7euser/", "http://x.example/~user/"),
        ("http://x.example/%41%62c-%2E_", "http://x.example/Abc-._"),
        ("http://x.example/?q=%7e%31", "http://x.example/?q=~1"),
        # Reserved characters stay escaped (decoding would change the meaning), hex in upper case.
        ("http://x.example/a%2fb?x=%26", "http://x.example/a%2Fb?x=%26"),
        ("http://x.example/%e2%82%ac", "http://x.example/%E2%82%AC"),
        ("http://x.example/€", "http://x.example/%E2%82%AC"),
    ],
)
def test_unreserved_escapes_are_decoded(given, expected):
    assert normalise_url(given) == expected


def test_equivalent_spellings_are_one_url():
    spellings = ["http://X.example:80/%7Ea/./b/../c", "HTTP://x.example/~a/c", "http://x.example/%7ea/c#part"]
    assert {normalise_url(s) for s in spellings} == {"http://x.example/~a/c"}


def test_relative_links_resolve_before_dot_segments():
    assert normalise_url("../c/./d", base="http://x.example/a/b/") == "http://x.example/a/c/d"


def test_not_a_url_is_refused():
    with pytest.raises(InvalidURL):
        normalise_url("ftp://x.example/")
