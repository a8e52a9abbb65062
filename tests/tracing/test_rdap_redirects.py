"""RDAP over real loopback sockets: a registry's redirect (or a bootstrap entry) that points
outside the allowed networks is refused before any connection, as a capture's would be.

Only 127.77.0.0/16 is allowed (the suite's FETCH_ALLOW_NETS); the forbidden target is a
canary listener on 127.0.0.2, which must count no connection at all.
"""

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from openhotline.tracing.rdap import Outcome, RdapClient
from openhotline.tracing.rdap_bootstrap import Bootstrap
from tests.evidence.netfixtures import Canary, FakeDNS, Handler, HTTPServer

REGISTRY = "127.77.3.1"
QUERY = "127.77.9.9"


@dataclass
class Lab:
    canary: Canary
    registry: HTTPServer
    dns: FakeDNS
    redirect_to: dict[str, str]

    def client(self, bootstrap: str | None = None) -> RdapClient:
        return RdapClient(bootstrap=Bootstrap(bootstrap or self.registry.url("/bootstrap/")))


def _network(h: Handler) -> None:
    body = json.dumps({"objectClassName": "ip network", "handle": "NET-77"}).encode()
    h.reply(200, body, {"Content-Type": "application/rdap+json"})


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    canary = Canary("127.0.0.2")
    dns = FakeDNS()
    dns.add("evil-rdap.test", "127.0.0.2")
    dns.add("mixed-rdap.test", REGISTRY, "127.0.0.2")
    dns.add("rdap.registry.test", REGISTRY)
    lab = Lab(canary, HTTPServer(REGISTRY), dns, {})

    def bootstrap(h: Handler) -> None:
        services = [[["127.77.0.0/16"], [lab.registry.url("/")]]]
        h.reply(200, json.dumps({"version": "1.0", "services": services}).encode())

    def redirect(h: Handler) -> None:
        h.redirect(lab.redirect_to["now"], 302)

    lab.registry.routes.update(
        {
            "/bootstrap/ipv4.json": bootstrap,
            f"/ip/{QUERY}": redirect,
            f"/authoritative/ip/{QUERY}": _network,
        }
    )
    yield lab
    lab.registry.stop()
    dns.stop()
    canary.stop()


@pytest.fixture
def platform(lab: Lab, settings: Any) -> Lab:
    settings.DNS_SERVERS = [lab.dns.endpoint]
    settings.FETCH_ALLOW_NETS = [ipaddress.ip_network("127.77.0.0/16")]
    lab.canary.hits = 0
    return lab


P = "{canary}"  # the canary's port, filled in by the test
REFUSALS = [
    ("literal", f"http://127.0.0.2:{P}/ip/x", "127.0.0.2 is a loopback address"),
    ("name", f"http://evil-rdap.test:{P}/ip/x", "evil-rdap.test resolves to 127.0.0.2"),
    ("mixed", f"http://mixed-rdap.test:{P}/ip/x", "mixed-rdap.test resolves to 127.0.0.2"),
    ("localhost", f"http://localhost:{P}/ip/x", "localhost is a loopback name"),
    ("mapped", f"http://[::ffff:127.0.0.2]:{P}/ip/x", "an IPv4-mapped form of 127.0.0.2"),
    ("metadata", "http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
    ("private", "https://10.1.2.3/ip/x", "10.1.2.3 is a private address"),
]


@pytest.mark.parametrize(
    ("target", "words"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_a_redirect_outside_the_allowed_networks_is_refused(
    platform: Lab, target: str, words: str
) -> None:
    platform.redirect_to["now"] = target.replace(P, str(platform.canary.port))
    with platform.client() as client:
        result = client.abuse_contacts_for_ip(QUERY)
    assert platform.canary.hits == 0
    assert result.outcome is Outcome.REFUSED
    assert result.reason.startswith("refused: ") and words in result.reason
    assert not result.abuse and result.raw == ""


def test_a_redirect_inside_the_allowed_networks_is_followed(platform: Lab) -> None:
    port = platform.registry.port
    platform.redirect_to["now"] = f"http://rdap.registry.test:{port}/authoritative/ip/{QUERY}"
    with platform.client() as client:
        result = client.abuse_contacts_for_ip(QUERY)
    assert result.found, result.reason
    assert result.url == platform.redirect_to["now"]
    assert result.network is not None and result.network.handle == "NET-77"


def test_a_bootstrap_outside_the_allowed_networks_is_refused(platform: Lab) -> None:
    with platform.client(f"http://127.0.0.2:{platform.canary.port}/") as client:
        result = client.abuse_contacts_for_ip(QUERY)
    assert platform.canary.hits == 0
    assert result.outcome is Outcome.BOOTSTRAP_ERROR
    assert "refused: 127.0.0.2 is a loopback address" in result.reason
