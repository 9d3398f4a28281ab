"""HTTP fetching: one requests Session, politeness, deadlines, proxies and the address guard.

Only this module talks to the network. A fetch follows redirects itself so that every
hop is recorded and checked against the address guard; each hop is an
:class:`Exchange` holding the request as sent, the response head as received and the
body streamed to a spooled temporary file (content-encoding intact, chunking removed).
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import http.client
import os
import random
import socket
import ssl
import tempfile
import threading
import time
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, UTC
from email.utils import parsedate_to_datetime
from typing import IO, Iterable, Iterator
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError

from archiver.options import FetchOptions
from archiver.net.encoding import ContentDecoder
from archiver.net.guard import BlockedAddress, check_host_name, resolve, resolve_checked
from archiver.urls import MAX_URL_LENGTH, InvalidURL, host_of, normalise_url, scheme_of

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 503)
SPOOL_IN_MEMORY = 1 << 20  # bodies past 1 MiB go to disk
READ_CHUNK = 1 << 16
MAX_REQUEST_RECORD = 1 << 20
# A response head longer than this is not recorded: WARC readers have limits (FastWARC
# stops at 32 KiB of HTTP headers and cannot read the rest of the file), and no real page
# needs one; http.client alone would let a hostile server send 100 lines of 64 KiB.
MAX_RESPONSE_HEAD = 30 * 1024


class FetchError(Exception):
    """A fetch that ended without a whole response: ``code`` is short and stable, the message says why."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


@dataclass
class Exchange:
    """One HTTP request and its response, as they crossed the wire."""

    url: str
    started_at: datetime
    request_bytes: bytes = b""
    status: int | None = None
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    response_head: bytes | None = None
    body: IO[bytes] | None = None
    body_length: int = 0
    body_sha256: str | None = None
    block_sha256: str | None = None
    decoded: IO[bytes] | None = None
    decoded_length: int = 0
    decoded_sha256: str | None = None
    ip_address: str | None = None
    via_proxy: bool = False
    truncated: str | None = None  # WARC-Truncated reason: length, time, disconnect
    error: FetchError | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECT_STATUSES and bool(self.header("Location"))

    @property
    def content_type(self) -> str | None:
        return self.header("Content-Type")

    def close(self) -> None:
        for handle in {id(self.body): self.body, id(self.decoded): self.decoded}.values():
            if handle is not None:
                handle.close()


@dataclass
class FetchResult:
    """All hops of one fetch; ``error`` is set when no final response was had."""

    requested_url: str
    exchanges: list[Exchange] = field(default_factory=list)
    error: FetchError | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def final(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    @property
    def final_url(self) -> str | None:
        return self.final.url if self.final else None

    def close(self) -> None:
        for exchange in self.exchanges:
            exchange.close()


# -- the per-request tap: what the connection layer tells us ------------------------------


class _Deadline:
    """The total deadline of one fetch (all hops and retries).

    It starts when the fetch's first request gets through the host gate, not when the fetch
    is queued: time spent waiting behind slow sources on the same host is not this source's
    fault, and must not turn it into a "timeout" that was never tried.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at: float | None = None

    def start(self) -> None:
        if self.at is None:
            self.at = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.seconds if self.at is None else self.at - time.monotonic()


class _Tap:
    """Per-thread state shared with the connection classes during one fetch."""

    def __init__(self, allow_private: bool, connect_timeout: float = 10.0):
        self.allow_private = allow_private
        self.connect_timeout = connect_timeout
        self.sent = bytearray()
        self.peer: str | None = None
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def register(self, sock) -> None:
        with self._lock:
            if sock is not None and sock not in self._sockets:
                self._sockets.append(sock)
            if self.expired:
                self._shutdown(sock)

    def expire(self) -> None:
        """Deadline passed: cut every socket this fetch uses, whatever it is waiting for."""
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_local = threading.local()


def _tap() -> _Tap | None:
    return getattr(_local, "tap", None)


class _GuardedConnectionMixin:
    """Checks resolved addresses before connecting, and records what is sent and to whom."""

    _in_connect = False

    def _new_conn(self):
        tap = _tap()
        if tap is None:
            return super()._new_conn()
        # The proxy is the user's choice: only a direct connection's address is checked.
        check = not tap.allow_private and self.proxy is None
        sock = self._connect_resolved(check, tap.connect_timeout)
        tap.register(sock)
        return sock

    def _connect_resolved(self, check: bool, resolve_timeout: float):
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        try:
            infos = resolve_checked(host, port, resolve_timeout) if check else resolve(host, port, resolve_timeout)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[attr-defined,arg-type]
        last_error: OSError | None = None
        # Connect to the very address we checked: resolving again could give another one.
        for family, socktype, proto, _, address in infos:
            sock = socket.socket(family, socktype, proto)
            try:
                for option in self.socket_options or ():  # type: ignore[attr-defined]
                    sock.setsockopt(*option)
                sock.settimeout(self.timeout)  # type: ignore[attr-defined]
                sock.connect(address)
                return sock
            except TimeoutError as exc:
                sock.close()
                last_error = exc
                from urllib3.exceptions import ConnectTimeoutError

                raise ConnectTimeoutError(self, f"Connection to {host} timed out") from exc
            except OSError as exc:
                sock.close()
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")  # type: ignore[arg-type]

    def connect(self):
        self._in_connect = True
        try:
            super().connect()
        finally:
            self._in_connect = False
        tap = _tap()
        if tap:
            tap.register(self.sock)

    def send(self, data):
        if self.sock is None:
            self.connect()
        tap = _tap()
        if tap is not None and not self._in_connect:
            tap.register(self.sock)
            if len(tap.sent) < MAX_REQUEST_RECORD:
                tap.sent.extend(data if isinstance(data, (bytes, bytearray)) else b"")
        return super().send(data)

    def getresponse(self):
        tap = _tap()
        if tap is not None:
            tap.register(self.sock)
            if self.proxy is None:
                try:
                    tap.peer = self.sock.getpeername()[0]
                except OSError:
                    tap.peer = None
        return super().getresponse()


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_POOL_CLASSES = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager


# -- decoding ------------------------------------------------------------------------------


# -- the fetcher ---------------------------------------------------------------------------


class _HostGate:
    """At most ``per_host`` requests in flight per host, at least ``delay`` seconds apart."""

    def __init__(self, per_host: int, delay: float):
        self.per_host = max(1, per_host)
        self.delay = max(0.0, delay)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def __call__(self, host: str) -> Iterator[None]:
        with self._lock:
            slots = self._slots.setdefault(host, threading.Semaphore(self.per_host))
        with slots:
            if self.delay:
                with self._lock:
                    now = time.monotonic()
                    start = max(now, self._next_start.get(host, 0.0))
                    self._next_start[host] = start + self.delay
                if start > now:
                    time.sleep(start - now)
            yield


class _HopByHopSession(requests.Session):
    """A Session that never touches a redirect itself.

    requests reads a redirect's whole body into memory ("to release the socket") even with
    allow_redirects=False; we follow redirects ourselves, hop by hop, streaming each body.
    """

    def resolve_redirects(self, resp, req, **kwargs):
        return iter(())


def _environment_proxies(url: str) -> dict[str, str]:
    return requests.utils.get_environ_proxies(url)


class Fetcher:
    """Fetches URLs with one pooled Session under one policy (:class:`FetchOptions`)."""

    def __init__(self, options: FetchOptions | None = None):
        self.options = options or FetchOptions()
        self.session = _HopByHopSession()
        # Proxies are chosen per URL below (explicit --proxy, else HTTP(S)_PROXY/NO_PROXY),
        # so requests must not add its own environment lookups on top.
        self.session.trust_env = False
        # Cookies live for one fetch (its redirect hops), never across sources: a capture must
        # not depend on which other pages were fetched before it, nor carry one site's cookies on.
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = _GuardedAdapter(
            pool_connections=max(10, self.options.concurrency),
            pool_maxsize=max(10, self.options.concurrency),
            max_retries=0,
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.clear()
        self.session.headers.update(
            {
                "User-Agent": self.options.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": "en;q=0.9, *;q=0.5",
            }
        )
        self._gate = _HostGate(self.options.per_host, self.options.delay)
        self._verify: bool | str = self.options.verify_tls
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if ca_bundle and self._verify is True:
            self._verify = ca_bundle

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def proxy_for(self, url: str) -> str | None:
        """The proxy a URL goes through: --proxy, else the environment, honouring NO_PROXY."""
        no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
        if no_proxy and requests.utils.should_bypass_proxies(url, no_proxy=no_proxy):
            return None
        if self.options.proxy:
            return self.options.proxy
        proxies = _environment_proxies(url)
        scheme = scheme_of(url)
        return proxies.get(scheme) or proxies.get("all")

    # -- one URL, all hops ---------------------------------------------------------------

    def fetch(self, url: str, headers: dict[str, str] | None = None, method: str = "GET", body: bytes | None = None) -> FetchResult:
        """Fetch ``url`` following redirects; never raises for network trouble.

        ``body`` is sent with ``method`` (a browser's POST); redirects handle it as browsers
        do: 301, 302 and 303 go on as GET without it, 307 and 308 repeat it.

        Nor for anything else: an unexpected exception (a bug a hostile page found) becomes
        the result's error, code ``error``, so one URL cannot end a whole run.
        """
        result = FetchResult(requested_url=url)
        try:
            self._follow(result, headers, method, body)
        except Exception as exc:  # noqa: BLE001
            result.error = FetchError("error", f"archiver failed on this URL: {type(exc).__name__}: {_short(exc)}")
        return result

    def _follow(self, result: FetchResult, headers: dict[str, str] | None, method: str, body: bytes | None = None) -> None:
        url = result.requested_url
        deadline = _Deadline(self.options.total_timeout)
        current = url
        if len(url) > MAX_URL_LENGTH:
            result.error = FetchError("invalid_url", f"URL longer than {MAX_URL_LENGTH} characters ({len(url)})")
            return
        seen: set[str] = set()
        extra = dict(headers or {})
        cookies = requests.cookies.RequestsCookieJar()
        while True:
            exchange = self._exchange_with_retries(current, extra, deadline, method, cookies, body)
            result.exchanges.append(exchange)
            if exchange.error is not None and exchange.status is None:
                result.error = exchange.error
                break
            if not exchange.is_redirect:
                if exchange.error is not None:
                    result.error = exchange.error
                break
            seen.add(current)
            location = exchange.header("Location") or ""
            try:
                target = normalise_url(location, base=current)
            except InvalidURL as exc:
                result.error = FetchError("bad_redirect", f"redirect to {location[:200]!r}: {exc}")
                break
            if len(result.exchanges) > self.options.max_redirects:
                loop = " (a redirect loop)" if target in seen else ""
                result.error = FetchError(
                    "too_many_redirects", f"more than {self.options.max_redirects} redirects{loop}, last to {target}"
                )
                break
            current = target
            # Conditional headers belong to the URL we asked for, not to where it sends us.
            extra = {}
            if body is not None and exchange.status in (301, 302, 303) and method != "HEAD":
                method, body = "GET", None
            if method == "HEAD":
                continue

    def _exchange_with_retries(self, url: str, headers: dict, deadline: _Deadline, method: str, cookies, body: bytes | None = None) -> Exchange:
        attempt = 0
        # A request with a body may have reached the server before the connection broke: only
        # a refused connection (nothing sent) is safe to repeat.
        retry_codes = ("refused",) if body is not None else ("refused", "connection")
        while True:
            exchange = self._exchange(url, headers, deadline, method, cookies, body)
            retryable_error = exchange.error is not None and exchange.status is None and exchange.error.code in retry_codes
            retryable_status = exchange.status in RETRY_STATUSES
            if attempt >= self.options.retries or not (retryable_error or retryable_status):
                return exchange
            wait = self.options.backoff * (2**attempt) * (1 + random.random() / 4)
            if retryable_status:
                wait = max(wait, self._retry_after(exchange.header("Retry-After")) or 0.0)
                wait = min(wait, self.options.retry_after_cap)
            if wait >= deadline.remaining():
                return exchange
            exchange.close()
            time.sleep(wait)
            attempt += 1

    @staticmethod
    def _retry_after(value: str | None) -> float | None:
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())

    def _exchange(self, url: str, headers: dict, deadline: _Deadline, method: str, cookies, body: bytes | None = None) -> Exchange:
        exchange = Exchange(url=url, started_at=datetime.now(UTC))
        proxy = self.proxy_for(url)
        exchange.via_proxy = proxy is not None
        host = host_of(url)
        try:
            if not self.options.allow_private:
                check_host_name(host)
        except BlockedAddress as exc:
            exchange.error = FetchError("blocked_private", str(exc))
            return exchange
        tap = _Tap(self.options.allow_private, self.options.connect_timeout)
        watchdog: threading.Timer | None = None
        _local.tap = tap
        response = None
        try:
            with self._gate(host):
                deadline.start()
                remaining = deadline.remaining()
                if remaining <= 0:
                    exchange.error = FetchError("timeout", "total deadline passed before the request could start")
                    return exchange
                watchdog = threading.Timer(remaining, tap.expire)
                watchdog.daemon = True
                watchdog.start()
                try:
                    response = self.session.request(
                        method,
                        url,
                        headers=headers,
                        stream=True,
                        allow_redirects=False,
                        timeout=(self.options.connect_timeout, self.options.read_timeout),
                        proxies={"http": proxy, "https": proxy} if proxy else {},
                        verify=self._verify,
                        cookies=cookies,
                        data=body,
                    )
                    requests.cookies.extract_cookies_to_jar(cookies, response.request, response.raw)
                except BlockedAddress as exc:
                    exchange.error = FetchError("blocked_private", str(exc))
                    return exchange
                except Exception as exc:  # noqa: BLE001 -- every failure becomes a recorded error
                    exchange.error = self._classify(exc, tap)
                    return exchange
                finally:
                    exchange.request_bytes = _redact(bytes(tap.sent))
                if tap.expired:
                    # The head was cut by the deadline (a server dripping its headers): whatever
                    # http.client made of the fragment is not the server's answer.
                    exchange.error = FetchError("timeout", "total deadline passed while receiving the response head")
                    return exchange
                self._read_response(exchange, response, tap)
                exchange.ip_address = None if exchange.via_proxy else tap.peer
                return exchange
        finally:
            if watchdog is not None:
                watchdog.cancel()
            _local.tap = None
            if response is not None:
                response.close()

    def _read_response(self, exchange: Exchange, response: requests.Response, tap: _Tap) -> None:
        raw = response.raw
        original = getattr(raw, "_original_response", None)
        exchange.status = response.status_code
        exchange.reason = response.reason or ""
        version = getattr(original, "version", 11)
        exchange.http_version = {9: "HTTP/0.9", 10: "HTTP/1.0", 20: "HTTP/2"}.get(version, "HTTP/1.1")
        if original is not None:
            items = list(original.msg.raw_items())
        else:
            items = list(response.headers.items())
        exchange.headers = [(k, v) for k, v in items]
        exchange.response_head = _response_head(exchange, truncated=False)
        if len(exchange.response_head) > MAX_RESPONSE_HEAD:
            exchange.error = FetchError(
                "too_large",
                f"response head (HTTP {exchange.status}) is {len(exchange.response_head)} bytes, over the "
                f"{MAX_RESPONSE_HEAD} archiver records: not recorded",
            )
            exchange.status, exchange.reason, exchange.headers, exchange.response_head = None, "", [], None
            return

        body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        body_hash = hashlib.sha256()
        block_hash = hashlib.sha256(exchange.response_head)
        decoder = ContentDecoder(exchange.header("Content-Encoding"), self.options.max_bytes)
        if not decoder.passthrough:
            decoder.sink = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        limit = self.options.max_bytes
        length = 0
        try:
            while True:
                chunk = raw.read(READ_CHUNK, decode_content=False)
                if not chunk:
                    break
                if length + len(chunk) > limit:
                    chunk = chunk[: limit - length]
                    exchange.truncated = "length"
                body.write(chunk)
                body_hash.update(chunk)
                block_hash.update(chunk)
                if not decoder.passthrough:  # an undecoded body is its own decoded form: hashed once, above
                    decoder.feed(chunk)
                length += len(chunk)
                if exchange.truncated:
                    exchange.error = FetchError("too_large", f"body larger than --max-bytes ({limit} bytes): cut there")
                    break
        except Exception as exc:  # noqa: BLE001
            if tap.expired:
                exchange.truncated = "time"
                exchange.error = FetchError("timeout", "total deadline passed while reading the body: cut there")
            else:
                failure = self._classify(exc, tap)
                exchange.truncated = "time" if failure.code == "timeout" else "disconnect"
                expected = exchange.header("Content-Length")
                of = f" of {expected.strip()}" if expected and expected.strip().isdigit() else ""
                exchange.error = FetchError(failure.code, f"{failure.message} (body cut after {length}{of} bytes)")
        if tap.expired and exchange.truncated is None and exchange.error is None:
            exchange.truncated = "time"
            exchange.error = FetchError("timeout", "total deadline passed while reading the body: cut there")
        decoder.finish()
        exchange.body = body
        exchange.body_length = length
        exchange.body_sha256 = body_hash.hexdigest()
        if exchange.truncated:
            # The head changes for a cut body (see _response_head), so the block is hashed again.
            exchange.response_head = _response_head(exchange, truncated=True)
            block_hash = hashlib.sha256(exchange.response_head)
            body.seek(0)
            while chunk := body.read(READ_CHUNK):
                block_hash.update(chunk)
        exchange.block_sha256 = block_hash.hexdigest()
        if decoder.passthrough:
            exchange.decoded = body
            exchange.decoded_length = length
            exchange.decoded_sha256 = exchange.body_sha256
        else:
            exchange.decoded = decoder.sink
            exchange.decoded_length = decoder.length
            exchange.decoded_sha256 = decoder.sha256.hexdigest()
            if decoder.over_limit and exchange.error is None:
                exchange.error = FetchError(
                    "too_large",
                    f"body inflates past --max-bytes ({self.options.max_bytes} bytes) when decoded: decoding stopped there",
                )
            elif decoder.failed and exchange.error is None and not exchange.truncated:
                exchange.error = FetchError("bad_encoding", decoder.failed)

    def _classify(self, exc: BaseException, tap: _Tap) -> FetchError:
        if tap.expired:
            return FetchError("timeout", "total deadline passed")
        chain = _exception_chain(exc)
        text = str(exc)
        for item in chain:
            if isinstance(item, BlockedAddress):
                return FetchError("blocked_private", str(item))
        for item in chain:
            if isinstance(item, (NameResolutionError, socket.gaierror)):
                return FetchError("dns", f"cannot resolve host {urlsplit(exchange_url(item) or '').hostname or ''}".rstrip() + f" ({_dns_reason(chain)})")
        if isinstance(exc, requests.exceptions.ProxyError):
            # The innermost cause says what happened (e.g. RemoteDisconnected: the proxy, or the
            # server behind it, closed the connection without answering).
            root = chain[-1]
            return FetchError("proxy", f"through the proxy: {type(root).__name__}: {_short(root)}")
        connect_timeout = f"no connection within {self.options.connect_timeout:g} s (connect timeout)"
        read_timeout = f"no data for {self.options.read_timeout:g} s (read timeout)"
        if isinstance(exc, (requests.exceptions.ConnectTimeout,)):
            return FetchError("timeout", connect_timeout)
        if isinstance(exc, (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, socket.timeout, TimeoutError)):
            return FetchError("timeout", read_timeout)
        if isinstance(exc, requests.exceptions.SSLError) or any(isinstance(item, ssl.SSLError) for item in chain):
            for item in chain:
                if isinstance(item, ssl.SSLCertVerificationError):
                    return FetchError("tls", f"certificate rejected: {item.verify_message or _short(item)}")
            for item in chain:
                if isinstance(item, ssl.SSLError):
                    return FetchError("tls", f"TLS handshake failed: {item.reason or _short(item)}")
            return FetchError("tls", f"TLS failed: {_short(exc)}")
        for item in chain:
            if isinstance(item, ConnectionRefusedError) or "Connection refused" in str(item):
                return FetchError("refused", "connection refused")
        for item in chain:
            if isinstance(item, (urllib3.exceptions.ConnectTimeoutError,)):
                return FetchError("timeout", connect_timeout)
            if isinstance(item, urllib3.exceptions.ReadTimeoutError):
                return FetchError("timeout", read_timeout)
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, urllib3.exceptions.LocationParseError)):
            return FetchError("invalid_url", _short(exc))
        for item in chain:
            if isinstance(item, (http.client.IncompleteRead, urllib3.exceptions.IncompleteRead)):
                return FetchError("connection", "the server closed the connection before the body was complete")
            if isinstance(item, http.client.RemoteDisconnected):
                return FetchError("connection", "the server closed the connection without answering")
            if isinstance(item, http.client.HTTPException):
                return FetchError("connection", f"the answer is not valid HTTP: {type(item).__name__}: {_short(item)}")
        if isinstance(exc, (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError)):
            return FetchError("connection", f"connection broken: {_short(exc)}")
        if isinstance(exc, requests.exceptions.ConnectionError):
            return FetchError("connection", f"connection failed: {_short(exc)}")
        return FetchError("error", f"{type(exc).__name__}: {text[:300]}")

    # -- many URLs -------------------------------------------------------------------------

    def fetch_many(self, jobs: Iterable[tuple[str, dict[str, str] | None]]) -> Iterator[tuple[str, FetchResult]]:
        """Fetch (url, headers) jobs concurrently; yields (url, result) as each finishes.

        At most twice ``concurrency`` results are in flight or waiting to be consumed, so a
        slow consumer (text extraction) never lets finished bodies pile up in memory.
        """
        for item in self.fetch_ticking(jobs, None):
            assert item is not None  # no tick, no None
            yield item

    def fetch_ticking(
        self, jobs: Iterable[tuple[str, dict[str, str] | None]], tick: float | None
    ) -> Iterator[tuple[str, FetchResult] | None]:
        """:meth:`fetch_many`, yielding None whenever ``tick`` seconds pass without a result, so
        the consumer can do other work (store what is ready) while slow hosts answer."""
        pending_jobs = iter(jobs)
        window = 2 * max(1, self.options.concurrency)
        with ThreadPoolExecutor(max_workers=max(1, self.options.concurrency), thread_name_prefix="fetch") as pool:
            futures: dict = {}

            def top_up() -> None:
                while len(futures) < window:
                    job = next(pending_jobs, None)
                    if job is None:
                        return
                    url, headers = job
                    futures[pool.submit(self.fetch, url, headers)] = url

            top_up()
            while futures:
                done, _ = wait(futures, timeout=tick, return_when=FIRST_COMPLETED)
                if not done:
                    yield None
                    continue
                for future in done:
                    url = futures.pop(future)
                    yield url, future.result()
                top_up()


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps: requests and urllib3 nest the real cause several deep."""
    chain: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(chain) < 20:
        item = pending.pop(0)
        if any(item is seen for seen in chain):
            continue
        chain.append(item)
        for inner in (item.__cause__, item.__context__, getattr(item, "reason", None), *item.args):
            if isinstance(inner, BaseException):
                pending.append(inner)
    return chain


def _response_head(exchange: Exchange, truncated: bool) -> bytes:
    """Status line and headers as received, with two renames so replay tools read the body right.

    The body is stored without chunk framing, so Transfer-Encoding is renamed; a body cut
    short (WARC-Truncated) no longer matches Content-Length, so that is renamed too. The
    original values stay in the record under ``X-Archiver-Orig-*``.
    """
    renamed = {"transfer-encoding"} | ({"content-length"} if truncated else set())
    lines = [f"{exchange.http_version} {exchange.status} {exchange.reason}".rstrip()]
    for name, value in exchange.headers:
        if name.lower() in renamed:
            name = "X-Archiver-Orig-" + name
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def exchange_url(error: BaseException) -> str | None:
    conn = getattr(error, "conn", None)
    host = getattr(conn, "host", None)
    return f"http://{host}/" if host else None


def _dns_reason(chain: list[BaseException]) -> str:
    for item in chain:
        if isinstance(item, socket.gaierror):
            return item.strerror or str(item)
    return "name resolution failed"


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "..."


def _redact(request: bytes) -> bytes:
    """Credentials for a proxy must not end up in an archive that may be published."""
    if b"proxy-authorization" not in request.lower():
        return request
    lines = request.split(b"\r\n")
    for index, line in enumerate(lines):
        if line.lower().startswith(b"proxy-authorization:"):
            lines[index] = b"Proxy-Authorization: [redacted by archiver]"
    return b"\r\n".join(lines)
