"""The SSRF guard of Connected Content: which URLs and addresses a template may make us call.

Rules (braze-api.md §5.4 "ports 80/443 only"; ARCHITECTURE.md "Security and data rules"):

1. scheme ``http`` or ``https``; a host name; no user info in the URL (use ``:basic_auth``);
   port 80 or 443 (either scheme);
2. the host is resolved (by an injectable :class:`Resolver`) and **every** address must be public:
   loopback, private (RFC 1918, ULA), link-local, multicast, unspecified, reserved, CGNAT
   (100.64/10), benchmarking, documentation, 6to4-relay, Teredo, site-local, local-use NAT64 and the
   cloud metadata addresses (AWS 169.254.169.254 / fd00:ec2::254 / ECS 169.254.170.2, Azure
   168.63.129.16, Alibaba 100.100.100.200, Oracle 192.0.0.192) are refused. IPv6 forms that embed an
   IPv4 address (mapped ``::ffff:a.b.c.d``, compatible ``::a.b.c.d``, SIIT ``::ffff:0:a.b.c.d``,
   6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``) are judged by the embedded address;
3. the caller connects to the returned :class:`Target.address` — the address that was checked —
   and sends the original host name as ``Host``/SNI, so a second DNS answer can not swap in another
   address (DNS rebinding).

:class:`UnsafeTestAllowlist` is the only way around rules 1 (port) and 2, for tests that serve a
"public-looking" host from a loopback server. It is never on by default: a guard built without one
refuses such targets.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from engagekit.liquid.errors import FetchFailed, FetchRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
ALLOWED_PORTS = frozenset({80, 443})

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "168.63.129.16",
        "100.100.100.200",
        "192.0.0.192",
    )
)
"""Cloud instance-metadata and platform endpoints, refused by name in the reason."""

BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "168.63.129.16/32",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
"""Networks refused on top of what :mod:`ipaddress` reports as non-global."""

BLOCKED_HOST_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data"})

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIIT = ipaddress.ip_network("::ffff:0:0:0/96")
_COMPAT = ipaddress.ip_network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries (mapped, compatible, SIIT, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _SIIT or (address in _COMPAT and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why a template may not connect to ``address``, or ``None`` when it is a public address."""
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = refusal_reason(inner)
            if reason is not None:
                return f"{address} embeds {inner}: {reason}"
            if address in _NAT64 or address.sixtofour is not None:
                return None  # a translation prefix in front of a public IPv4 address
            return f"{address} is an IPv4-in-IPv6 form"
        if address.scope_id:
            return f"{address} has a zone index"
    checks = (
        ("loopback", address.is_loopback),
        ("private", address.is_private),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
    )
    for label, hit in checks:
        if hit:
            return f"{address} is a {label} address"
    for network in BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return f"{address} is in the special-purpose network {network}"
    if not address.is_global:
        return f"{address} is not a global address"
    return None


class Resolver(Protocol):
    """Name resolution for the guard; injectable so tests never use DNS."""

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """All addresses of ``host`` (an A/AAAA lookup).

        Raises:
            FetchFailed: the name does not resolve.
        """
        ...


class SystemResolver:
    """The operating system's resolver (``socket.getaddrinfo``)."""

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as err:
            raise FetchFailed(f"could not resolve {host!r}: {err}") from err
        seen: dict[IPAddress, None] = {}
        for info in infos:
            raw = str(info[4][0])
            seen.setdefault(ipaddress.ip_address(raw), None)
        return list(seen)


class StaticResolver:
    """A fake resolver: a fixed map from host name to addresses (unknown names do not resolve)."""

    def __init__(self, table: Mapping[str, Iterable[str]]) -> None:
        self._table = {
            host.lower(): [ipaddress.ip_address(a) for a in addrs] for host, addrs in table.items()
        }
        self.lookups: list[str] = []

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        try:
            return list(self._table[host.lower()])
        except KeyError:
            raise FetchFailed(f"could not resolve {host!r}") from None


@dataclass(frozen=True)
class UnsafeTestAllowlist:
    """TESTS ONLY: addresses and ports the guard accepts although rules 1 and 2 refuse them.

    Pass it explicitly to :class:`UrlGuard`; nothing creates one by default.
    """

    networks: Sequence[IPNetwork] = ()
    ports: Sequence[int] = ()

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: connect to ``address``:``port``, send ``host_header`` and SNI ``host``."""

    scheme: str
    host: str
    port: int
    address: IPAddress
    path: str
    url: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@dataclass
class UrlGuard:
    """Check a Connected Content URL and pin the address to connect to (module docstring rules)."""

    resolver: Resolver = field(default_factory=SystemResolver)
    unsafe_test_allowlist: UnsafeTestAllowlist | None = None

    def check(self, url: str) -> Target:
        """Return the :class:`Target` to connect to for ``url``.

        Raises:
            FetchRefused: the scheme, port, host or any resolved address is not allowed.
            FetchFailed: the host name does not resolve.
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as err:
            raise FetchRefused(f"invalid URL {url!r}: {err}") from err
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise FetchRefused(f"scheme {scheme or '(none)'!r} is not allowed; use http or https")
        if parts.username is not None or parts.password is not None:
            raise FetchRefused("credentials in the URL are not allowed; use :basic_auth")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise FetchRefused(f"URL {url!r} has no host")
        if port is None:
            port = 443 if scheme == "https" else 80
        allow = self.unsafe_test_allowlist
        if port not in ALLOWED_PORTS and not (allow and port in allow.ports):
            raise FetchRefused(f"port {port} is not allowed; only 80 and 443")
        if host in BLOCKED_HOST_NAMES or host.endswith(".localhost"):
            raise FetchRefused(f"host {host!r} is not allowed")
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                ascii_host = host.encode("idna").decode("ascii")
            except UnicodeError as err:
                raise FetchRefused(f"invalid host name {host!r}") from err
            addresses = self.resolver.resolve(ascii_host, port)
            host = ascii_host
        if not addresses:
            raise FetchFailed(f"{host!r} has no addresses")
        for address in addresses:
            reason = refusal_reason(address)
            if reason is not None and not (allow and allow.allows_address(address)):
                raise FetchRefused(f"{host} resolves to a refused address: {reason}")
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        return Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path, url=url)
