"""URL normalisation: the one definition of "the same URL" used everywhere in archiver."""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import idna

FETCHABLE_SCHEMES = ("http", "https")
# Longer URLs are refused. 8,000 is the least RFC 9110 asks servers to support; a hostile page
# must not put 100 KB strings into every table, report line and WARC header (where FastWARC,
# for one, stops reading at 32 KiB of headers, and a revisit record carries two URLs).
MAX_URL_LENGTH = 8 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}

# Characters left as they are when re-quoting a path or query: the reserved set plus '%'
# (so existing escapes survive) -- re-quoting only fixes spaces and non-ASCII.
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"


class InvalidURL(ValueError):
    """A string that cannot be read as an absolute URL."""


def scheme_of(url: str) -> str:
    """Lower-cased scheme of a URL, or '' when it has none."""
    match = re.match(r"\s*([A-Za-z][A-Za-z0-9+.\-]*):", url)
    return match.group(1).lower() if match else ""


def _normalise_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidURL("URL has no host")
    if host.startswith("["):
        return host
    if host.isascii() and "xn--" not in host:
        return host
    try:
        # IDNA 2008 with the UTS 46 mapping, as browsers do: "faß.de" is xn--fa-hia.de, a host
        # of its own (Python's "idna" codec is IDNA 2003, which maps it to fass.de).
        return idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        # Hosts IDNA refuses (underscores, overlong labels) are kept lower-cased as given.
        return host


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def normalise_escapes(text: str) -> str:
    """RFC 3986 6.2.2.1-2: escapes of unreserved characters decoded, the others in upper case."""

    def fix(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE.sub(fix, text)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: "/a/b/../c/./d" is "/a/c/d"; a path cannot climb above its root."""
    output: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def normalise_url(url: str, base: str | None = None) -> str:
    """Absolute, canonical form of an http(s) URL.

    Resolves against ``base``, lower-cases scheme and host, encodes an international host
    name by IDNA 2008 / UTS 46 (as browsers do), drops the default port, the fragment and
    user info, gives an empty path "/", removes dot segments ("/a/../b" is "/b"), decodes
    percent-escapes of unreserved characters ("%7E" is "~") and upper-cases the others
    (RFC 3986 6.2.2), and percent-encodes spaces and non-ASCII. Query order is kept: servers may care.
    Raises InvalidURL for anything that is not an absolute http(s) URL.
    """
    raw = url.strip()
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters ({len(raw)})")
    # Browsers strip tabs and newlines inside URLs (WHATWG URL spec); so do we.
    raw = re.sub(r"[\t\r\n]", "", raw)
    if base:
        try:
            raw = urljoin(base, raw)
        except ValueError as exc:  # e.g. "Invalid IPv6 URL"
            raise InvalidURL(f"cannot parse URL: {exc}") from None
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise InvalidURL(f"cannot parse URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in FETCHABLE_SCHEMES:
        raise InvalidURL(f"unsupported scheme {scheme or '(none)'!r}: only http and https URLs can be fetched")
    try:
        hostname = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"bad host or port: {exc}") from None
    host = _normalise_host(hostname)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = normalise_escapes(quote(remove_dot_segments(parts.path or "/"), safe=_SAFE_PATH))
    query = normalise_escapes(quote(parts.query, safe=_SAFE_QUERY))
    normalised = urlunsplit((scheme, netloc, path, query, ""))
    if len(normalised) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters once percent-encoded ({len(normalised)})")
    return normalised


def try_normalise(url: str, base: str | None = None) -> str | None:
    """normalise_url, or None when the URL is not a fetchable one."""
    try:
        return normalise_url(url, base)
    except InvalidURL:
        return None


def host_of(url: str) -> str:
    """Host of a URL (lower case, no port), '' when there is none."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
