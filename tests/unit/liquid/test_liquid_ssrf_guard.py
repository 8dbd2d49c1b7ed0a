"""The Connected Content SSRF guard refuses every private and metadata target (braze-api.md §5.4)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pytest
from engagekit.liquid import (
    FetchFailed,
    FetchRefused,
    StaticResolver,
    UnsafeTestAllowlist,
    UrlGuard,
    refusal_reason,
)

# Public-looking host names resolved by the fake resolver to the address under test.
RESOLVER = StaticResolver(
    {
        "evil-loopback.example": ["127.0.0.1"],
        "evil-private.example": ["10.1.2.3"],
        "evil-metadata.example": ["169.254.169.254"],
        "evil-v6-metadata.example": ["fd00:ec2::254"],
        "evil-mixed.example": ["93.184.216.34", "192.168.1.1"],
        "evil-mapped.example": ["::ffff:127.0.0.1"],
        "public.example": ["93.184.216.34"],
        "public6.example": ["2606:4700::1111"],
    }
)


@dataclass
class Case:
    name: str
    url: str


REFUSED = [
    # addresses written into the URL
    Case("IPv4 loopback", "http://127.0.0.1/"),
    Case("IPv4 loopback, other address", "http://127.1.2.3/"),
    Case("IPv6 loopback", "http://[::1]/"),
    Case("unspecified IPv4", "http://0.0.0.0/"),
    Case("unspecified IPv6", "http://[::]/"),
    Case("RFC 1918 10/8", "http://10.0.0.1/"),
    Case("RFC 1918 172.16/12", "http://172.16.5.4/"),
    Case("RFC 1918 192.168/16", "http://192.168.0.10/"),
    Case("CGNAT 100.64/10", "http://100.64.0.1/"),
    Case("link-local IPv4", "http://169.254.1.1/"),
    Case("AWS metadata", "http://169.254.169.254/latest/meta-data/"),
    Case("AWS metadata on https", "https://169.254.169.254/"),
    Case("ECS task metadata", "http://169.254.170.2/v2/credentials"),
    Case("AWS metadata IPv6", "http://[fd00:ec2::254]/latest/meta-data/"),
    Case("Azure wire server", "http://168.63.129.16/"),
    Case("Alibaba metadata", "http://100.100.100.200/latest/meta-data/"),
    Case("Oracle metadata", "http://192.0.0.192/"),
    Case("multicast IPv4", "http://224.0.0.1/"),
    Case("broadcast", "http://255.255.255.255/"),
    Case("reserved 240/4", "http://240.0.0.1/"),
    Case("benchmarking 198.18/15", "http://198.18.0.1/"),
    Case("documentation TEST-NET-1", "http://192.0.2.1/"),
    Case("6to4 relay anycast", "http://192.88.99.1/"),
    Case("IPv6 unique local", "http://[fc00::1]/"),
    Case("IPv6 link-local", "http://[fe80::1]/"),
    Case("IPv6 site-local", "http://[fec0::1]/"),
    Case("IPv6 multicast", "http://[ff02::1]/"),
    Case("IPv6 documentation", "http://[2001:db8::1]/"),
    Case("Teredo", "http://[2001::1]/"),
    Case("IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/"),
    Case("IPv4-mapped metadata", "http://[::ffff:169.254.169.254]/"),
    Case("IPv4-mapped public (not a real public address form)", "http://[::ffff:8.8.8.8]/"),
    Case("IPv4-compatible loopback", "http://[::127.0.0.1]/"),
    Case("IPv4-translated (SIIT) loopback", "http://[::ffff:0:127.0.0.1]/"),
    Case("6to4 of loopback", "http://[2002:7f00:1::]/"),
    Case("6to4 of a private address", "http://[2002:a00:1::1]/"),
    Case("NAT64 of metadata", "http://[64:ff9b::a9fe:a9fe]/"),
    Case("NAT64 of a private address", "http://[64:ff9b::10.0.0.1]/"),
    Case("local-use NAT64", "http://[64:ff9b:1::1]/"),
    # host names
    Case("localhost", "http://localhost/"),
    Case("a .localhost name", "http://app.localhost/"),
    Case("GCP metadata name", "http://metadata.google.internal/computeMetadata/v1/"),
    Case("name resolving to loopback", "https://evil-loopback.example/"),
    Case("name resolving to a private address", "https://evil-private.example/"),
    Case("name resolving to metadata", "http://evil-metadata.example/latest/meta-data/"),
    Case("name resolving to IPv6 metadata", "http://evil-v6-metadata.example/"),
    Case("name with one bad address among good ones", "https://evil-mixed.example/"),
    Case("name resolving to a mapped loopback", "https://evil-mapped.example/"),
    # scheme, port, credentials
    Case("file scheme", "file:///etc/passwd"),
    Case("gopher scheme", "gopher://public.example/"),
    Case("ftp scheme", "ftp://public.example/"),
    Case("no scheme", "public.example/path"),
    Case("port 8080", "http://public.example:8080/"),
    Case("port 22", "https://public.example:22/"),
    Case("port 0", "http://public.example:0/"),
    Case("invalid port", "http://public.example:99999/"),
    Case("user info", "https://user:pw@public.example/"),
    Case("no host", "https:///path"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_target_is_refused(case: Case) -> None:
    guard = UrlGuard(resolver=RESOLVER)

    with pytest.raises(FetchRefused):
        guard.check(case.url)


@dataclass
class AllowedCase:
    name: str
    url: str
    address: str
    host_header: str
    path: str


ALLOWED = [
    AllowedCase(
        "public name on https", "https://public.example/v1?q=1", "93.184.216.34", "public.example", "/v1?q=1"
    ),
    AllowedCase("public name on http", "http://public.example", "93.184.216.34", "public.example", "/"),
    AllowedCase("explicit port 443", "https://public.example:443/x", "93.184.216.34", "public.example", "/x"),
    AllowedCase(
        "http on port 443", "http://public.example:443/x", "93.184.216.34", "public.example:443", "/x"
    ),
    AllowedCase("public IPv6 name", "https://public6.example/", "2606:4700::1111", "public6.example", "/"),
    AllowedCase("public IPv4 literal", "http://93.184.216.34/", "93.184.216.34", "93.184.216.34", "/"),
    AllowedCase(
        "NAT64 of a public address",
        "http://[64:ff9b::808:808]/",
        "64:ff9b::808:808",
        "[64:ff9b::808:808]",
        "/",
    ),
    AllowedCase(
        "upper-case scheme and host", "HTTPS://PUBLIC.EXAMPLE/", "93.184.216.34", "public.example", "/"
    ),
]


@pytest.mark.parametrize("case", ALLOWED, ids=[c.name for c in ALLOWED])
def test_public_target_is_pinned_to_the_checked_address(case: AllowedCase) -> None:
    guard = UrlGuard(resolver=RESOLVER)

    target = guard.check(case.url)

    assert (str(target.address), target.host_header, target.path) == (
        case.address,
        case.host_header,
        case.path,
    )


def test_unresolvable_name_fails() -> None:
    with pytest.raises(FetchFailed):
        UrlGuard(resolver=RESOLVER).check("https://unknown.example/")


def test_ip_literals_are_not_sent_to_the_resolver() -> None:
    resolver = StaticResolver({})

    with pytest.raises(FetchRefused):
        UrlGuard(resolver=resolver).check("http://10.0.0.1/")

    assert resolver.lookups == []


class TestUnsafeTestAllowlist:
    LOOPBACK = UnsafeTestAllowlist(networks=[ipaddress.ip_network("127.0.0.1/32")], ports=[8123])
    RESOLVER = StaticResolver({"api.example.test": ["127.0.0.1"]})

    def test_is_off_by_default(self) -> None:
        with pytest.raises(FetchRefused):
            UrlGuard(resolver=self.RESOLVER).check("http://api.example.test:8123/")

    def test_allows_only_the_listed_address_and_port(self) -> None:
        guard = UrlGuard(resolver=self.RESOLVER, unsafe_test_allowlist=self.LOOPBACK)

        target = guard.check("http://api.example.test:8123/x")

        assert (str(target.address), target.port, target.host_header) == (
            "127.0.0.1",
            8123,
            "api.example.test:8123",
        )

    @pytest.mark.parametrize(
        "url", ["http://api.example.test:8124/", "http://169.254.169.254/", "http://10.0.0.1/"], ids=str
    )
    def test_still_refuses_everything_else(self, url: str) -> None:
        guard = UrlGuard(resolver=self.RESOLVER, unsafe_test_allowlist=self.LOOPBACK)

        with pytest.raises(FetchRefused):
            guard.check(url)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("169.254.169.254", "169.254.169.254 is a cloud metadata address"),
        ("::ffff:10.0.0.1", "::ffff:a00:1 embeds 10.0.0.1: 10.0.0.1 is a private address"),
        ("100.64.0.1", "100.64.0.1 is in the special-purpose network 100.64.0.0/10"),
        ("8.8.8.8", None),
    ],
    ids=str,
)
def test_refusal_reason_names_the_rule(address: str, expected: str | None) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == expected
