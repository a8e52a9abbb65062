"""The address policy: every form of a non-public address is refused, with its reason."""

import ipaddress

import pytest

from openhotline.evidence.net.policy import check_address, check_name, parse_address

ALLOW = [ipaddress.ip_network("127.77.0.0/16")]

# (address, expected reason or None when allowed)
TABLE = [
    # Public addresses pass.
    ("93.184.215.14", None),
    ("1.1.1.1", None),
    ("8.8.8.8", None),
    ("2606:4700:4700::1111", None),
    ("2a00:1450:4001:80b::200e", None),
    ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8: how IPv6-only hosts reach IPv4 sites
    ("2002:808:808::1", None),  # 6to4 of 8.8.8.8
    # IPv4 special ranges.
    ("127.0.0.1", "a loopback address"),
    ("127.255.255.254", "a loopback address"),
    ("10.0.0.5", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.255", "a private address"),
    ("192.168.1.1", "a private address"),
    ("100.64.0.1", "a carrier-grade NAT (shared) address"),
    ("100.127.255.254", "a carrier-grade NAT (shared) address"),
    ("169.254.1.1", "a link-local address"),
    ("0.0.0.0", "an unspecified address"),  # noqa: S104 (checked, not bound)
    ("0.1.2.3", "a 'this network' address"),
    ("255.255.255.255", "the broadcast address"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("198.18.0.1", "a benchmarking address"),
    ("198.19.255.255", "a benchmarking address"),
    ("192.0.2.1", "a documentation address"),
    ("198.51.100.7", "a documentation address"),
    ("203.0.113.9", "a documentation address"),
    ("192.0.0.8", "an IETF protocol address"),
    ("192.88.99.1", "a 6to4 relay address"),
    # Cloud metadata.
    ("169.254.169.254", "a cloud metadata address"),
    ("169.254.170.2", "a cloud metadata address"),
    ("100.100.100.200", "a cloud metadata address"),
    ("192.0.0.192", "a cloud metadata address"),
    ("168.63.129.16", "a cloud metadata address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    # IPv6 special ranges.
    ("::1", "a loopback address"),
    ("::", "an unspecified address"),
    ("fe80::1", "a link-local address"),
    ("fe80::1%eth0", "a link-local address"),
    ("fc00::1", "a private (unique local) address"),
    ("fd12:3456:789a::1", "a private (unique local) address"),
    ("fec0::1", "a site-local address"),
    ("ff02::1", "a multicast address"),
    ("2001:db8::1", "a documentation address"),
    ("3fff::1", "a documentation address"),
    ("2001:2::1", "a benchmarking address"),
    ("2001::1", "a Teredo tunnel address"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo tunnel address"),
    ("100::1", "a discard-only address"),
    ("64:ff9b:1::a00:5", "a local-use NAT64 address"),
    ("4000::1", "a reserved address"),
    ("5f00::1", "a reserved address"),
    # IPv4 carried inside IPv6.
    ("::ffff:127.0.0.1", "an IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("::ffff:7f00:1", "an IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("::ffff:10.0.0.5", "an IPv4-mapped form of 10.0.0.5, a private address"),
    ("::ffff:169.254.169.254", "an IPv4-mapped form of 169.254.169.254, a cloud metadata address"),
    ("::ffff:0:10.0.0.5", "an IPv4-mapped form of 10.0.0.5, a private address"),
    ("::127.0.0.1", "an IPv4-compatible form of 127.0.0.1, a loopback address"),
    ("::10.0.0.5", "an IPv4-compatible form of 10.0.0.5, a private address"),
    ("::8.8.8.8", "an IPv4-compatible form of 8.8.8.8, a deprecated form"),
    ("64:ff9b::127.0.0.1", "a NAT64 form of 127.0.0.1, a loopback address"),
    ("64:ff9b::a9fe:a9fe", "a NAT64 form of 169.254.169.254, a cloud metadata address"),
    ("64:ff9b::192.168.0.1", "a NAT64 form of 192.168.0.1, a private address"),
    ("2002:7f00:1::", "a 6to4 form of 127.0.0.1, a loopback address"),
    ("2002:a00:5::1", "a 6to4 form of 10.0.0.5, a private address"),
    ("2002:a9fe:a9fe::", "a 6to4 form of 169.254.169.254, a cloud metadata address"),
    # The allowed test network, and its edges.
    ("127.77.0.1", None),
    ("127.77.255.255", None),
    ("::ffff:127.77.1.1", None),  # the same socket as 127.77.1.1
    ("127.76.255.255", "a loopback address"),
    ("127.78.0.0", "a loopback address"),
    ("64:ff9b::127.77.1.1", "a NAT64 form of 127.77.1.1, a loopback address"),
    ("2002:7f4d:101::", "a 6to4 form of 127.77.1.1, a loopback address"),
    ("::127.77.1.1", "an IPv4-compatible form of 127.77.1.1, a loopback address"),
    # Not addresses at all.
    ("gallery.test", "not an IP address"),
    ("", "not an IP address"),
]


@pytest.mark.parametrize(("address", "expected"), TABLE, ids=[row[0] or "empty" for row in TABLE])
def test_address_table(address: str, expected: str | None) -> None:
    assert check_address(address, ALLOW) == expected


def test_table_is_large() -> None:
    assert len(TABLE) >= 40


def test_accepts_parsed_addresses_and_brackets() -> None:
    assert check_address(ipaddress.ip_address("10.1.2.3")) == "a private address"
    assert check_address("[::1]") == "a loopback address"
    # A zone id, even URL-escaped, never hides the address it is attached to.
    assert parse_address("[fe80::1%25eth0]") == ipaddress.ip_address("fe80::1")
    assert parse_address("[fe80::1%eth0]") == ipaddress.ip_address("fe80::1")
    assert parse_address("gallery.test") is None


def test_allow_nets_exempt_only_the_listed_network() -> None:
    assert check_address("127.77.3.4", []) == "a loopback address"
    assert check_address("127.77.3.4", ALLOW) is None
    assert check_address("127.0.0.1", ALLOW) == "a loopback address"
    private = [ipaddress.ip_network("10.9.0.0/16")]
    assert check_address("10.9.1.1", private) is None
    assert check_address("10.8.1.1", private) == "a private address"
    assert check_address("::ffff:10.9.1.1", private) is None
    v6 = [ipaddress.ip_network("fd00:77::/32")]
    assert check_address("fd00:77::1", v6) is None
    assert check_address("fd00:78::1", v6) == "a private (unique local) address"


def test_metadata_is_refused_even_inside_an_allowed_network() -> None:
    everything = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    assert check_address("169.254.169.254", everything) == "a cloud metadata address"
    assert check_address("fd00:ec2::254", everything) == "a cloud metadata address"
    assert check_address("169.254.1.1", everything) is None


def test_translation_prefixes_get_no_exemption() -> None:
    # A NAT64 or 6to4 gateway decides where the packet goes, not our allow list.
    assert check_address("64:ff9b::7f4d:101", ALLOW) is not None
    assert check_address("2002:7f4d:101::1", ALLOW) is not None


@pytest.mark.parametrize(
    ("host", "via_proxy", "expected"),
    [
        ("localhost", False, "localhost is a loopback name"),
        ("LOCALHOST.", False, "localhost is a loopback name"),
        ("app.localhost", True, "app.localhost is a loopback name"),
        ("gallery.test", False, None),
        (
            "a" * 56 + ".onion",
            False,
            "a" * 56 + ".onion: onion address needs a proxy (such as Tor)",
        ),
        ("a" * 56 + ".onion", True, None),
    ],
)
def test_names(host: str, via_proxy: bool, expected: str | None) -> None:
    assert check_name(host, via_proxy=via_proxy) == expected
