"""SSRF attempts through the real fetcher: each must be refused with its reason, and nothing
may reach the forbidden destination.

Only 127.77.0.0/16 is allowed. Forbidden loopback targets are canary listeners (127.0.0.1,
127.0.0.2, 127.10.0.1, ::1) that count connections and must stay at zero. Targets outside
loopback (10.x, metadata, ...) cannot have canaries: there the proof is that the policy
refused first, since any connect() there trips the suite's socket guard (ForbiddenConnection)
and every connect() made during a fetch is recorded and checked against the allowed network.
"""

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from openhotline.evidence.net.fetcher import SafeFetcher
from openhotline.evidence.net.limits import FetchLimits
from tests.evidence.netfixtures import (
    Canary,
    FakeDNS,
    Handler,
    HTTPServer,
    outside_allowed,
    recorded_connects,
)

ALLOW = [ipaddress.ip_network("127.77.0.0/16")]
LIMITS = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=5)
ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
GOOD = "127.77.1.1"


@dataclass
class Lab:
    dns: FakeDNS
    canaries: dict[str, Canary]
    web: HTTPServer
    fetcher: SafeFetcher
    ports: dict[str, int]

    def hits(self) -> dict[str, int]:
        return {name: canary.hits for name, canary in self.canaries.items()}


def bounce(h: Handler) -> None:
    h.redirect(h.query["to"], int(h.query.get("code", "302")))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    canaries = {
        "A": Canary("127.0.0.1"),
        "B": Canary("127.0.0.2"),
        "C": Canary("127.10.0.1"),
        "D": Canary("::1"),
    }
    dns = FakeDNS()
    web = HTTPServer(GOOD, {"/go": bounce, "*": lambda h: h.reply(200, b"fine")})
    records = {
        "good.test": [GOOD],
        "evil-a.test": ["127.0.0.1"],
        "evil-b.test": ["127.0.0.2"],
        "evil-c.test": ["127.10.0.1"],
        "mixed.test": [GOOD, "127.10.0.1"],
        "mixed-bad-first.test": ["127.10.0.1", GOOD],
        "mixed6.test": [GOOD, "::1"],
        "six.test": ["::1"],
        "mapped.test": ["::ffff:127.10.0.1"],
        "zero.test": ["0.0.0.0"],  # noqa: S104 (an answer, not a bind)
        "nat64.test": ["64:ff9b::7f0a:1"],
        "meta.test": ["169.254.169.254"],
        "meta6.test": ["fd00:ec2::254"],
        "private.test": ["10.0.0.5"],
        "cgnat.test": ["100.64.0.1"],
        "ula.test": ["fd00::1"],
        "linklocal6.test": ["fe80::1"],
    }
    for name, addresses in records.items():
        dns.add(name, *addresses)
    dns.alias("alias.test", "evil-c.test")
    dns.alias("deep-alias.test", "alias.test")
    fetcher = SafeFetcher(dns_servers=[dns.endpoint], allow_nets=ALLOW, limits=LIMITS)
    ports = {f"P{name}": canary.port for name, canary in canaries.items()}
    ports["W"] = web.port
    yield Lab(dns, canaries, web, fetcher, ports)
    web.stop()
    dns.stop()
    for canary in canaries.values():
        canary.stop()


def via(target: str, code: int = 302) -> str:
    """A URL on the allowed web server that redirects to `target`."""
    return f"http://good.test:{{W}}/go?to={quote(target, safe='{}')}&code={code}"


LOOPBACK = "a loopback address"
MAPPED_A = "an IPv4-mapped form of 127.0.0.1, a loopback address"
METADATA = "a cloud metadata address"
FULLWIDTH = "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11"  # 127.0.0.1 in wide digits
SCHEME = "only http and https are followed"
CREDENTIALS = "The address contains a user name or password."

# (id, URL template, words the refusal must contain)
CASES = [
    # 127.0.0.1 (canary A) in every spelling a browser accepts.
    ("dotted", "http://127.0.0.1:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("decimal", "http://2130706433:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("hex", "http://0x7f000001:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("hex-upper", "http://0X7F000001:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("octal", "http://0177.0.0.1:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("octal-whole", "http://017700000001:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("hex-short", "http://0x7f.1:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("hex-mixed", "http://0x7F.0.0.0x1:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("short-2", "http://127.1:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("short-3", "http://127.0.1:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("zero-padded", "http://127.000.000.001:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("trailing-dot", "http://127.0.0.1.:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("percent-encoded", "http://%31%32%37.0.0.1:{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("fullwidth", FULLWIDTH + ":{PA}/", f"127.0.0.1 is {LOOPBACK}"),
    ("v6-mapped", "http://[::ffff:127.0.0.1]:{PA}/", MAPPED_A),
    ("v6-mapped-hex", "http://[::ffff:7f00:1]:{PA}/", MAPPED_A),
    ("v6-mapped-long", "http://[0:0:0:0:0:ffff:127.0.0.1]:{PA}/", MAPPED_A),
    ("v6-compatible", "http://[::127.0.0.1]:{PA}/", "an IPv4-compatible form of 127.0.0.1"),
    ("unspecified", "http://0.0.0.0:{PA}/", "0.0.0.0 is an unspecified address"),
    ("unspecified-short", "http://0:{PA}/", "0.0.0.0 is an unspecified address"),
    ("localhost", "http://localhost:{PA}/", "localhost is a loopback name"),
    ("localhost-upper-dot", "http://LOCALHOST.:{PA}/", "localhost is a loopback name"),
    ("sub-localhost", "http://app.localhost:{PA}/", "app.localhost is a loopback name"),
    ("credentials", "http://good.test:{W}@127.0.0.1:{PA}/", CREDENTIALS),
    # ::1 (canary D).
    ("v6-loopback", "http://[::1]:{PD}/", f"::1 is {LOOPBACK}"),
    ("v6-loopback-long", "http://[0:0:0:0:0:0:0:1]:{PD}/", f"::1 is {LOOPBACK}"),
    ("v6-unspecified", "http://[::]:{PD}/", ":: is an unspecified address"),
    ("v6-zone", "http://[fe80::1%25lo]:{PD}/", "is a link-local address"),
    # DNS answers pointing at forbidden addresses.
    ("dns-loopback", "http://evil-a.test:{PA}/", f"evil-a.test resolves to 127.0.0.1, {LOOPBACK}"),
    ("dns-other-loopback", "http://evil-c.test:{PC}/", "evil-c.test resolves to 127.10.0.1"),
    ("dns-cname", "http://alias.test:{PC}/", "alias.test resolves to 127.10.0.1"),
    ("dns-cname-chain", "http://deep-alias.test:{PC}/", "deep-alias.test resolves to 127.10.0.1"),
    ("dns-mixed-good-first", "http://mixed.test:{PC}/", "mixed.test resolves to 127.10.0.1"),
    ("dns-mixed-bad-first", "http://mixed-bad-first.test:{PC}/", "resolves to 127.10.0.1"),
    ("dns-mixed-aaaa", "http://mixed6.test:{PD}/", f"mixed6.test resolves to ::1, {LOOPBACK}"),
    ("dns-aaaa-loopback", "http://six.test:{PD}/", f"six.test resolves to ::1, {LOOPBACK}"),
    ("dns-aaaa-mapped", "http://mapped.test:{PC}/", "an IPv4-mapped form of 127.10.0.1"),
    ("dns-zero", "http://zero.test:{PA}/", "zero.test resolves to 0.0.0.0, an unspecified"),
    ("dns-nat64", "http://nat64.test:{PC}/", "a NAT64 form of 127.10.0.1, a loopback address"),
    # Redirects from an allowed page (127.0.0.2 is canary B).
    ("redirect-302", via("http://127.0.0.2:{PB}/"), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-301", via("http://127.0.0.2:{PB}/", 301), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-303", via("http://127.0.0.2:{PB}/", 303), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-307", via("http://127.0.0.2:{PB}/", 307), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-308", via("http://127.0.0.2:{PB}/", 308), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-decimal", via("http://2130706434:{PB}/"), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-scheme-relative", via("//127.0.0.2:{PB}/x"), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-v6-mapped", via("http://[::ffff:127.0.0.2]:{PB}/"), "IPv4-mapped form of 127.0.0.2"),
    ("redirect-dns", via("http://evil-b.test:{PB}/"), "evil-b.test resolves to 127.0.0.2"),
    ("redirect-localhost", via("http://localhost:{PB}/"), "localhost is a loopback name"),
    ("redirect-chain", via(via("http://127.0.0.2:{PB}/")), f"127.0.0.2 is {LOOPBACK}"),
    ("redirect-gopher", via("gopher://127.0.0.2:{PB}/_GET"), SCHEME),
    ("redirect-file", via("file:///etc/passwd"), SCHEME),
    ("redirect-credentials", via("http://u:p@127.0.0.2:{PB}/"), CREDENTIALS),
    ("redirect-unspecified", via("http://0.0.0.0:{PA}/"), "0.0.0.0 is an unspecified address"),
    ("redirect-v6-loopback", via("http://[::1]:{PD}/"), f"::1 is {LOOPBACK}"),
    # Outside loopback: no canary possible; the socket guard would fail the test on connect.
    ("private-10", "http://10.0.0.5/", "10.0.0.5 is a private address"),
    ("private-172", "http://172.16.0.1/", "172.16.0.1 is a private address"),
    ("private-192", "http://192.168.1.1/", "192.168.1.1 is a private address"),
    ("private-hex", "http://0x0a.0.0.5/", "10.0.0.5 is a private address"),
    ("cgnat", "http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT (shared) address"),
    ("metadata", "http://169.254.169.254/latest/meta-data/", f"169.254.169.254 is {METADATA}"),
    ("metadata-octal", "http://0251.0376.0251.0376/", f"169.254.169.254 is {METADATA}"),
    ("metadata-decimal", "http://2852039166/", f"169.254.169.254 is {METADATA}"),
    ("metadata-hex", "http://0xa9fea9fe/", f"169.254.169.254 is {METADATA}"),
    ("metadata-v6-mapped", "http://[::ffff:169.254.169.254]/", f"169.254.169.254, {METADATA}"),
    ("metadata-nat64", "http://[64:ff9b::a9fe:a9fe]/", f"169.254.169.254, {METADATA}"),
    ("metadata-6to4", "http://[2002:a9fe:a9fe::]/", f"169.254.169.254, {METADATA}"),
    ("metadata-aws-v6", "http://[fd00:ec2::254]/", f"fd00:ec2::254 is {METADATA}"),
    ("metadata-alibaba", "http://100.100.100.200/", METADATA),
    ("metadata-oracle", "http://192.0.0.192/", METADATA),
    ("metadata-azure", "http://168.63.129.16/", METADATA),
    ("multicast", "http://224.0.0.1/", "a multicast address"),
    ("broadcast", "http://255.255.255.255/", "the broadcast address"),
    ("reserved", "http://240.0.0.1/", "a reserved address"),
    ("benchmarking", "http://198.18.0.1/", "a benchmarking address"),
    ("documentation", "http://192.0.2.1/", "a documentation address"),
    ("v6-link-local", "http://[fe80::1]/", "a link-local address"),
    ("v6-unique-local", "http://[fc00::1]/", "a private (unique local) address"),
    ("v6-teredo", "http://[2001::1]/", "a Teredo tunnel address"),
    ("v6-multicast", "http://[ff02::1]/", "a multicast address"),
    ("dns-metadata", "http://meta.test/", f"meta.test resolves to 169.254.169.254, {METADATA}"),
    ("dns-metadata-v6", "http://meta6.test/", f"resolves to fd00:ec2::254, {METADATA}"),
    ("dns-private", "http://private.test/", "private.test resolves to 10.0.0.5, a private address"),
    ("dns-cgnat", "http://cgnat.test/", "cgnat.test resolves to 100.64.0.1"),
    ("dns-ula", "http://ula.test/", "ula.test resolves to fd00::1, a private (unique local)"),
    ("dns-link-local-v6", "http://linklocal6.test/", "resolves to fe80::1, a link-local"),
    ("redirect-metadata", via("http://169.254.169.254/"), METADATA),
    ("redirect-metadata-mapped", via("http://[::ffff:a9fe:a9fe]/"), METADATA),
    ("redirect-dns-metadata", via("http://meta.test/latest/"), METADATA),
    ("redirect-private", via("http://10.0.0.5/admin"), "10.0.0.5 is a private address"),
    ("onion-without-proxy", f"http://{ONION}/", "onion address needs a proxy"),
]


def test_there_are_many_attempts() -> None:
    assert len(CASES) >= 50
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("template", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_attempt_is_refused_and_nothing_is_reached(lab: Lab, template: str, words: str) -> None:
    url = template.format(**lab.ports)
    with recorded_connects() as connects:
        result = lab.fetcher.fetch(url)
    assert result.refused is not None, result
    assert result.refused.startswith("refused: ")
    assert words in result.refused, result.refused
    assert result.error is None and result.body == b""
    assert lab.hits() == {"A": 0, "B": 0, "C": 0, "D": 0}
    # The only connections made at all went to the allowed web server (redirect cases).
    assert outside_allowed(connects) == []
    assert all(target[0] == GOOD for target in connects)
    if "/go?" in template:
        assert result.refused.startswith("refused: redirect to ")
        assert result.hops and result.hops[-1].status in (301, 302, 303, 307, 308)


def test_exact_words(lab: Lab) -> None:
    result = lab.fetcher.fetch("http://private.test/")
    assert result.refused == "refused: private.test resolves to 10.0.0.5, a private address"
    result = lab.fetcher.fetch(f"http://good.test:{lab.web.port}/go?to=http://10.0.0.5/")
    assert result.refused == (
        "refused: redirect to http://10.0.0.5/: 10.0.0.5 is a private address"
    )
    assert result.final_url == "http://10.0.0.5/"
    assert [hop.status for hop in result.hops] == [302]


def test_the_allowed_server_itself_works(lab: Lab) -> None:
    with recorded_connects() as connects:
        result = lab.fetcher.fetch(f"http://good.test:{lab.web.port}/page")
    assert result.ok and result.body == b"fine"
    assert [target[0] for target in connects] == [GOOD]


# --- DNS rebinding ---------------------------------------------------------------------


@pytest.fixture
def names_looked_up(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hosts passed to the system resolver: connecting to a pinned IP needs none by name."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    return seen


def test_dns_rebinding_cannot_switch_the_address(lab: Lab, names_looked_up: list[str]) -> None:
    """First answer allowed, every later one forbidden: the fetch keeps the checked one."""
    port = lab.canaries["A"].port
    lab.dns.rebind("rebind.test", [GOOD], ["127.0.0.1"])
    routes = {
        "/1": lambda h: h.redirect("/2"),
        "/2": lambda h: h.redirect(f"http://rebind.test:{port}/3"),
        "/3": lambda h: h.reply(200, b"pinned"),
    }
    # The allowed server listens on the canary's port, so only the address tells them apart.
    with HTTPServer(GOOD, routes, port=port) as server, recorded_connects() as connects:
        result = lab.fetcher.fetch(f"http://rebind.test:{port}/1")
        assert result.ok and result.body == b"pinned"
        assert [hop.address for hop in result.hops] == [GOOD, GOOD, GOOD]
        assert len(server.requests) == 3
        # Three connections (HTTP/1.0 closes each), one lookup.
        assert [target[0] for target in connects] == [GOOD, GOOD, GOOD]
        assert lab.dns.count("rebind.test", "A") == 1
        assert "rebind.test" not in names_looked_up

        # A new fetch looks up again and now sees the forbidden answer.
        again = lab.fetcher.fetch(f"http://rebind.test:{port}/1")
    assert again.refused == f"refused: rebind.test resolves to 127.0.0.1, {LOOPBACK}"
    assert lab.dns.count("rebind.test", "A") == 2
    assert lab.hits() == {"A": 0, "B": 0, "C": 0, "D": 0}
    assert outside_allowed(connects) == []


def test_rebinding_to_metadata_between_fetches(lab: Lab) -> None:
    lab.dns.rebind("flip.test", [GOOD], ["169.254.169.254"])
    first = lab.fetcher.fetch(f"http://flip.test:{lab.web.port}/")
    second = lab.fetcher.fetch(f"http://flip.test:{lab.web.port}/")
    assert first.ok
    assert second.refused == f"refused: flip.test resolves to 169.254.169.254, {METADATA}"
