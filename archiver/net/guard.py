"""Which network addresses archiver refuses to fetch from, and why.

A cron job on a server must not be steered into the internal network by a hostile
article: loopback, private, link-local, cloud-metadata and other non-public addresses
are refused unless the user passes ``--allow-private``.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

# Listed explicitly (beyond ipaddress' own flags) so the policy reads as a table.
BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",        # "this network"
        "10.0.0.0/8",       # private
        "100.64.0.0/10",    # carrier-grade NAT
        "127.0.0.0/8",      # loopback
        "169.254.0.0/16",   # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",    # private
        "192.0.0.0/24",     # IETF protocol assignments
        "192.168.0.0/16",   # private
        "198.18.0.0/15",    # benchmarking
        "224.0.0.0/4",      # multicast
        "240.0.0.0/4",      # reserved, broadcast
        "::/128",           # unspecified
        "::/96",            # IPv4-compatible (deprecated): ::127.0.0.1
        "::1/128",          # loopback
        "fc00::/7",         # unique local, includes fd00:ec2::254 (AWS metadata)
        "fe80::/10",        # link-local
        "ff00::/8",         # multicast
    )
]

LOCAL_HOSTNAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# Names under these suffixes are local or internal by definition (RFC 6761, 6762, 8375, and
# ICANN's private-use .internal, e.g. metadata.google.internal): refused even when a proxy,
# not archiver, resolves them.
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")


class BlockedAddress(Exception):
    """The target resolves to an address archiver does not fetch from."""

    code = "blocked_private"

    def __init__(self, host: str, address: str | None = None):
        self.host = host
        self.address = address
        where = f"{host} ({address})" if address and address != host else host
        super().__init__(
            f"refused to fetch from {where}: a loopback, private, link-local or metadata "
            f"address (use --allow-private to allow it)"
        )


def is_blocked_ip(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
        elif ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 wraps an IPv4 address
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in BLOCKED_NETWORKS if net.version == ip.version):
        return True
    # Beyond the table: anything the IANA special-purpose registries say is not globally
    # reachable (documentation ranges, 2001::/23, ...) is nothing a public page lives on.
    return not ip.is_global


def literal_address(host: str) -> str | None:
    """The IP address a host names literally, in any spelling a resolver accepts.

    Besides dotted quads and IPv6, ``inet_aton`` accepts forms such as ``2130706433``,
    ``0x7f.1`` or ``127.1`` that proxies and resolvers turn into 127.0.0.1.
    """
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_host_name(host: str) -> None:
    """Refuse a host that is, by its name alone, local or a blocked literal address.

    This is the check that still applies when a proxy resolves names for us.
    """
    name = host.lower().rstrip(".")
    if name in LOCAL_HOSTNAMES or name.endswith(LOCAL_SUFFIXES) or name in {s[1:] for s in LOCAL_SUFFIXES}:
        raise BlockedAddress(host)
    address = literal_address(name)
    if address and is_blocked_ip(address):
        raise BlockedAddress(host, address)


# Name lookups run here so that they, too, have a deadline: getaddrinfo itself has none,
# and a resolver that never answers must not hold a fetch (the watchdog cannot cut it).
_resolvers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="resolve")


def resolve(host: str, port: int, timeout: float | None, lookup=None) -> list[tuple]:
    """``lookup(host, port)`` (default getaddrinfo) given at most ``timeout`` seconds; gaierror past it."""
    future = _resolvers.submit(lookup or socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        return future.result(timeout)
    except FutureTimeout:
        raise socket.gaierror(socket.EAI_AGAIN, f"no answer from the resolver within {timeout:g} s") from None


def resolve_checked(host: str, port: int, timeout: float | None = None, lookup=None) -> list[tuple]:
    """Resolve ``host`` (with a deadline), refusing it when any address it resolves to is blocked."""
    infos = resolve(host, port, timeout, lookup)
    for info in infos:
        address = info[4][0]
        if is_blocked_ip(address):
            raise BlockedAddress(host, address)
    return infos
