"""Finding what public web archives hold of a URL: the Memento protocol (RFC 7089).

    TimeMap  GET TIMEMAP + URI-R            -> application/link-format list of mementos with datetimes
    TimeGate GET TIMEGATE + URI-R, Accept-Datetime: D -> redirect to the memento the archive finds closest

The TimeMap is asked first (it lists every memento, so the closest one to the article's date
and the nearest one before it can both be chosen); the TimeGate is the fallback for archives
without TimeMaps, or whose TimeMap failed. Every request goes through archiver's Fetcher
(proxies, deadlines, address guard). Wayback URL forms (``/web/TIMESTAMP/URI-R``) are known:
the memento is fetched in its ``id_`` form, the bytes the archive captured without its banner
and link rewriting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, UTC
from email.utils import format_datetime, parsedate_to_datetime

from archiver.net.fetch import Fetcher

TIMEMAP_LIMIT = 32 << 20  # bytes of a TimeMap read; a page archived daily for decades stays under it

_WAYBACK = re.compile(r"^(?P<prefix>https?://[^?#]*?/)(?P<stamp>\d{4,14})(?P<mods>[a-z]{2}_)?/(?P<target>.+)$")
_LINK = re.compile(r'<(?P<uri>[^>]*)>(?P<params>(?:\s*;\s*[A-Za-z0-9_*-]+\s*=\s*(?:"[^"]*"|[^;,\s]*))*)')
_PARAM = re.compile(r'\s*;\s*(?P<name>[A-Za-z0-9_*-]+)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<plain>[^;,\s]*))')


@dataclass
class Memento:
    """One memento: its URI-M and Memento-Datetime."""

    url: str
    datetime: datetime

    @property
    def raw_url(self) -> str:
        return raw_memento_url(self.url)


@dataclass
class Lookup:
    """What one lookup found: ``chosen`` (closest to the date), ``earlier`` (nearest at or before it)."""

    url: str
    when: datetime
    via: str  # the TimeMap or TimeGate URL asked
    chosen: Memento | None = None
    earlier: Memento | None = None
    count: int | None = None  # mementos in the TimeMap (None: asked a TimeGate)
    error: str | None = None


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def parse_http_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_link_format(text: str) -> list[tuple[str, dict[str, str]]]:
    """``<uri>; rel="memento"; datetime="..."`` entries (RFC 6690 / RFC 8288) as (uri, params)."""
    found = []
    for match in _LINK.finditer(text):
        params = {}
        for param in _PARAM.finditer(match.group("params")):
            value = param.group("quoted") if param.group("quoted") is not None else param.group("plain")
            params[param.group("name").lower()] = value
        found.append((match.group("uri").strip(), params))
    return found


def mementos_in(text: str) -> list[Memento]:
    """The mementos a TimeMap lists (rel contains ``memento``), oldest first."""
    found = []
    for uri, params in parse_link_format(text):
        if "memento" not in params.get("rel", "").split():
            continue
        moment = parse_http_date(params.get("datetime"))
        if moment is not None and uri:
            found.append(Memento(uri, moment))
    return sorted(found, key=lambda m: m.datetime)


def choose(mementos: list[Memento], when: datetime) -> tuple[Memento | None, Memento | None]:
    """(closest to ``when``, an earlier one winning a tie; nearest at or before ``when``)."""
    if not mementos:
        return None, None
    closest = min(mementos, key=lambda m: (abs((m.datetime - when).total_seconds()), m.datetime > when))
    earlier = max((m for m in mementos if m.datetime <= when), key=lambda m: m.datetime, default=None)
    return closest, earlier


def raw_memento_url(url: str) -> str:
    """The Wayback ``id_`` form of a URI-M (the archived bytes as captured); other URI-Ms unchanged."""
    match = _WAYBACK.match(url)
    if not match or len(match.group("stamp")) < 4:
        return url
    return f"{match.group('prefix')}{match.group('stamp')}id_/{match.group('target')}"


def look_up(fetcher: Fetcher, url: str, when: datetime, timemap: str | None, timegate: str | None) -> Lookup:
    """The mementos of ``url`` around ``when``, from the TimeMap, else the TimeGate; never raises."""
    errors = []
    if timemap:
        lookup = _from_timemap(fetcher, url, when, timemap)
        if lookup.error is None:
            return lookup
        errors.append(lookup.error)
    if timegate:
        lookup = _from_timegate(fetcher, url, when, timegate)
        if lookup.error is None:
            return lookup
        errors.append(lookup.error)
    return Lookup(url, when, timemap or timegate or "", error="; ".join(errors) or "no TimeMap or TimeGate configured")


def _from_timemap(fetcher: Fetcher, url: str, when: datetime, timemap: str) -> Lookup:
    asked = timemap + url
    result = fetcher.fetch(asked, headers={"Accept": "application/link-format"})
    try:
        final = result.final
        if result.error is not None or final is None or final.status is None:
            return Lookup(url, when, asked, error=f"TimeMap {asked}: {result.error or 'no answer'}")
        if final.status == 404:
            return Lookup(url, when, asked, count=0)  # the archive holds nothing of it
        if final.status != 200 or final.decoded is None:
            return Lookup(url, when, asked, error=f"TimeMap {asked}: HTTP {final.status}")
        final.decoded.seek(0)
        text = final.decoded.read(TIMEMAP_LIMIT).decode("utf-8", "replace")
    finally:
        result.close()
    mementos = mementos_in(text)
    chosen, earlier = choose(mementos, when)
    return Lookup(url, when, asked, chosen, earlier, count=len(mementos))


def _from_timegate(fetcher: Fetcher, url: str, when: datetime, timegate: str) -> Lookup:
    asked = timegate + url
    result = fetcher.fetch(asked, headers={"Accept-Datetime": http_date(when)})
    try:
        final = result.final
        if result.error is not None or final is None or final.status is None:
            return Lookup(url, when, asked, error=f"TimeGate {asked}: {result.error or 'no answer'}")
        if final.status == 404:
            return Lookup(url, when, asked)
        moment = parse_http_date(final.header("Memento-Datetime"))
        if final.status != 200 or moment is None:
            return Lookup(url, when, asked, error=f"TimeGate {asked}: HTTP {final.status}, no Memento-Datetime")
        location = final.header("Content-Location")
        memento = Memento(_absolute(final.url, location) if location else final.url, moment)
        # The Link header names the neighbours; an earlier one may be closer to before the date.
        earlier = memento if moment <= when else None
        if earlier is None:
            for uri, params in parse_link_format(final.header("Link") or ""):
                rels = params.get("rel", "").split()
                if "prev" in rels and "memento" in rels:
                    prev = parse_http_date(params.get("datetime"))
                    if prev is not None and prev <= when:
                        earlier = Memento(uri, prev)
        return Lookup(url, when, asked, memento, earlier)
    finally:
        result.close()


def _absolute(base: str, location: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, location)
