"""Which network addresses the fetcher may connect to, and in plain words why not.

A reported URL is hostile by assumption: it may point (directly, through DNS or through a
redirect) at the hotline's own network, the cloud's metadata service or any address that
is not the public internet. Only global unicast addresses pass, plus the networks an
operator lists in FETCH_ALLOW_NETS (the simulated internet in tests and the demo). IPv6
forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the IPv4
address they carry, because that is where a packet to them may end up.
"""

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance metadata and platform services: refused even inside an allowed network,
# since they hand out credentials to whoever asks.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.169.253",  # AWS DNS
        "169.254.169.123",  # AWS time sync
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "168.63.129.16",  # Azure WireServer (a public address)
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::253",  # AWS DNS over IPv6
        "fd00:ec2::123",  # AWS time sync over IPv6
        "fd00:ec2::23",  # AWS DNS (Nitro) over IPv6
    )
)

_METADATA = "a cloud metadata address"
_PRIVATE = "a private address"
_DOCS = "a documentation address"

# First match wins: specific ranges come before the ranges containing them.
_V4_RULES: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), words)
    for net, words in (
        ("0.0.0.0/32", "an unspecified address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("0.0.0.0/8", "a 'this network' address"),
        ("127.0.0.0/8", "a loopback address"),
        ("10.0.0.0/8", _PRIVATE),
        ("172.16.0.0/12", _PRIVATE),
        ("192.168.0.0/16", _PRIVATE),
        ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
        ("169.254.0.0/16", "a link-local address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", _DOCS),
        ("198.51.100.0/24", _DOCS),
        ("203.0.113.0/24", _DOCS),
        ("198.18.0.0/15", "a benchmarking address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

_V6_RULES: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), words)
    for net, words in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo tunnel address"),
        ("2001:2::/48", "a benchmarking address"),
        ("2001:db8::/32", _DOCS),
        ("3fff::/20", _DOCS),
        ("2001::/23", "an IETF protocol address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)

_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def parse_address(text: str) -> IPAddress | None:
    """An IP address from DNS or a URL host (brackets and zone ids allowed), else None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    # The zone ("%eth0") picks an interface; it never makes a bad address good.
    text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def check_address(address: str | IPAddress, allow_nets: Iterable[IPNetwork] = ()) -> str | None:
    """Why the fetcher must not connect to `address` ("a private address"), or None."""
    parsed = parse_address(address) if isinstance(address, str) else address
    if parsed is None:
        return "not an IP address"
    if isinstance(parsed, ipaddress.IPv6Address):
        parsed = ipaddress.IPv6Address(int(parsed))  # drop any zone id
    nets = list(allow_nets)
    if isinstance(parsed, ipaddress.IPv4Address):
        return _check_v4(parsed, nets)
    return _check_v6(parsed, nets)


def _allowed(address: IPAddress, nets: list[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def _check_v4(address: ipaddress.IPv4Address, nets: list[IPNetwork]) -> str | None:
    if address in METADATA_ADDRESSES:
        return _METADATA
    if _allowed(address, nets):
        return None
    for net, words in _V4_RULES:
        if address in net:
            return words
    return None


def _check_v6(address: ipaddress.IPv6Address, nets: list[IPNetwork]) -> str | None:
    if address in METADATA_ADDRESSES:
        return _METADATA
    if _allowed(address, nets):
        return None
    value = int(address)
    if address in _MAPPED or address in _TRANSLATED:
        # A socket to ::ffff:a.b.c.d is a socket to a.b.c.d: same rules, same exemptions.
        inner = ipaddress.IPv4Address(value & 0xFFFFFFFF)
        return _embedded("an IPv4-mapped form", inner, _check_v4(inner, nets))
    if address in _COMPATIBLE and value > 1:
        # Deprecated since 2006; no public site uses it, so refuse it whatever it carries.
        inner = ipaddress.IPv4Address(value & 0xFFFFFFFF)
        reason = _check_v4(inner, [])
        return _embedded("an IPv4-compatible form", inner, reason or "a deprecated form")
    # Translation prefixes reach whatever the gateway reaches: judged with no exemptions.
    if address in _NAT64:
        inner = ipaddress.IPv4Address(value & 0xFFFFFFFF)
        return _embedded("a NAT64 form", inner, _check_v4(inner, []))
    if address in _SIX_TO_FOUR:
        inner = ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF)
        return _embedded("a 6to4 form", inner, _check_v4(inner, []))
    for net, words in _V6_RULES:
        if address in net:
            return words
    if address not in _GLOBAL_UNICAST:
        return "a reserved address"
    return None


def _embedded(form: str, inner: ipaddress.IPv4Address, reason: str | None) -> str | None:
    return None if reason is None else f"{form} of {inner}, {reason}"


def check_name(host: str, *, via_proxy: bool) -> str | None:
    """Why a host name must not be fetched whatever it resolves to, or None."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"{name} is a loopback name"
    if name.endswith(".onion") and not via_proxy:
        return f"{name}: onion address needs a proxy (such as Tor)"
    return None
