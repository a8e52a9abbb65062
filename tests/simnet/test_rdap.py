"""RDAP for the simulated world: who holds an address or a domain, and their abuse desk."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from openhotline.simnet.atlas import default_world
from openhotline.simnet.runner import Simnet

from .helpers import abuse_emails, rdap


@pytest.fixture(scope="module")
def net() -> Iterator[Simnet]:
    with Simnet() as running:
        yield running


def test_an_address_names_its_network_country_and_abuse_desk(net: Simnet) -> None:
    response = rdap(net, "ip/127.77.1.10")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rdap+json"
    answer = response.json()
    assert answer["objectClassName"] == "ip network"
    assert "rdap_level_0" in answer["rdapConformance"]
    assert (answer["startAddress"], answer["endAddress"]) == ("127.77.1.0", "127.77.1.255")
    assert answer["cidr0_cidrs"] == [{"v4prefix": "127.77.1.0", "length": 24}]
    assert answer["country"] == "GB"
    assert abuse_emails(answer) == ["abuse@uk-hosting.test"]
    # RIPE style: the abuse contact is a top-level entity.
    assert any(e["roles"] == ["abuse"] for e in answer["entities"])


def test_some_networks_nest_the_abuse_desk_in_the_registrant(net: Simnet) -> None:
    answer = rdap(net, "ip/127.77.3.10").json()
    assert [e["roles"] for e in answer["entities"]] == [["registrant"]]
    (registrant,) = answer["entities"]
    assert ["abuse"] in [e["roles"] for e in registrant["entities"]]
    assert abuse_emails(answer) == ["abuse@liberty-web.test"]
    assert answer["country"] == "US"


def test_a_prefix_query_and_an_as_query_answer_too(net: Simnet) -> None:
    assert rdap(net, "ip/127.77.12.0/24").json()["country"] == "SC"
    autnum = rdap(net, "autnum/64501").json()
    assert autnum["objectClassName"] == "autnum" and autnum["name"] == "UKHOSTING-AS"
    assert abuse_emails(autnum) == ["abuse@uk-hosting.test"]


def test_a_domain_names_its_registrar_and_the_registrars_abuse_desk(net: Simnet) -> None:
    response = rdap(net, "domain/Gallery-One.test.")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/rdap+json"
    answer = response.json()
    assert answer["objectClassName"] == "domain" and answer["ldhName"] == "gallery-one.test"
    (registrar,) = answer["entities"]
    assert registrar["roles"] == ["registrar"]
    assert registrar["publicIds"] == [{"type": "IANA Registrar ID", "identifier": "99001"}]
    assert abuse_emails(registrar) == ["abuse@names-uk.test"]
    assert [e["roles"] for e in registrar["entities"]] == [["abuse"]]


def test_only_registered_domains_are_known_as_registries_do(net: Simnet) -> None:
    # static.imagehost.test is served, but the registration is imagehost.test's.
    assert rdap(net, "domain/imagehost.test").status_code == 200
    assert rdap(net, "domain/static.imagehost.test").status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("ip/127.77.200.1", 404),  # in the simnet, but no provider's
        ("ip/127.77.0.53", 404),  # the DNS server's own address
        ("ip/10.0.0.1", 404),
        ("ip/2001:db8::1", 404),
        ("ip/not-an-address", 400),
        ("domain/no-such-site.test", 404),
        ("domain/example.com", 404),
        ("autnum/1", 404),
        ("autnum/AS1", 400),
        ("entity/X", 404),
        ("nothing", 404),
    ],
)
def test_unknown_objects_get_rdap_error_objects(net: Simnet, path: str, status: int) -> None:
    response = rdap(net, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/rdap+json"
    answer = response.json()
    assert answer["errorCode"] == status
    assert answer["title"] and isinstance(answer["description"], list)


def test_the_bootstrap_files_are_in_ianas_format(net: Simnet) -> None:
    with httpx.Client(trust_env=False, timeout=5) as client:
        files = {
            kind: client.get(f"{net.rdap_bootstrap_url}{kind}.json")
            for kind in ("ipv4", "ipv6", "dns", "asn")
        }
    for response in files.values():
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["version"] == "1.0"
    assert net.rdap_bootstrap_url == net.rdap_url + "bootstrap/"
    assert files["ipv4"].json()["services"] == [[["127.77.0.0/16"], [net.rdap_url]]]
    assert files["dns"].json()["services"] == [[["test"], [net.rdap_url]]]
    assert files["ipv6"].json()["services"] == []
    assert files["asn"].json()["services"][0][1] == [net.rdap_url]


def test_it_agrees_with_the_hosting_facts_of_every_host(net: Simnet) -> None:
    for host in default_world().hosts:
        facts = net.facts(host.name)
        network = rdap(net, f"ip/{facts.address}").json()
        assert abuse_emails(network) == [facts.abuse_email], host.name
        assert network["country"] == facts.country
        domain = rdap(net, f"domain/{facts.domain}").json()
        assert abuse_emails(domain) == [facts.registrar_abuse_email]
        assert domain["entities"][0]["vcardArray"][1][1][3] == facts.registrar
