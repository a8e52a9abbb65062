"""A simulated internet with the takedown's hard cases, beside the shared one: hosts whose
pictures only answer visitors coming from their own pages (hotlink protection) or fail
when a test says so, and hosting providers and registrars whose abuse contacts a mail
server cannot take (two addresses in one string, a non-ASCII local part, a mailbox that
bounces). The shared world's tests require tidy contacts, so these live here."""

import dataclasses
import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest

from openhotline.simnet import behaviours
from openhotline.simnet.atlas import REGISTRARS, default_world
from openhotline.simnet.runner import Simnet
from openhotline.simnet.world import (
    IGNORES,
    Provider,
    Registrar,
    SimHost,
    SimPage,
    pages,
)


def _provider(octet: int, handle: str, abuse: str) -> Provider:
    return Provider(
        handle=handle, name=handle.replace("-", " ").title(), network=f"127.77.{octet}.0/24",
        country="GB", asn=64500 + octet, as_name=handle.upper(), abuse_email=abuse,
        on_notice=IGNORES,
    )  # fmt: skip


def _host(name: str, address: str, registrar: str = "names-uk", behaviour: str = "") -> SimHost:
    prefix = name.split("-")[0][:4]
    return SimHost(
        name=name, address=address, country="GB", description=f"takedown test host {name}",
        pages=pages(SimPage("/album/1", "Album 1", images=(f"{prefix}-1.jpg", f"{prefix}-2.png"))),
        behaviour=behaviour, registrar=registrar, on_notice=IGNORES,
    )  # fmt: skip


def trouble_world() -> Any:
    world = default_world()
    providers = (
        _provider(13, "messy-hosting", "abuse@messy-hosting.test, noc@messy-hosting.test"),
        _provider(14, "umlaut-hosting", "müll@umlaut-hosting.test"),
        _provider(15, "bouncing-hosting", "bounce@bouncing-hosting.test"),
    )
    registrars = (Registrar("bounce-names", "Bounce Names", 99099, "bounce@bounce-names.test"),)
    hosts = (
        # On UK Hosting's network, but keeping their content up after a notice.
        _host("hotlink-gb.test", "127.77.1.30", behaviour="hotlink"),
        _host("fickle-gb.test", "127.77.1.31", behaviour="fickle"),
        _host("messy-gb.test", "127.77.13.10"),
        _host("umlaut-gb.test", "127.77.14.10"),
        _host("bounce-gb.test", "127.77.15.10"),
        _host("nowhere-gb.test", "127.77.15.11", registrar="bounce-names"),
    )
    return dataclasses.replace(
        world,
        hosts=(*world.hosts, *hosts),
        providers=(*world.providers, *providers),
        registrars=(*REGISTRARS, *registrars),
    )


@pytest.fixture(scope="session")
def trouble_net() -> Iterator[Simnet]:
    with Simnet(world=trouble_world()) as net:
        yield net


@pytest.fixture
def on_trouble_net(trouble_net: Simnet, settings: Any) -> Iterator[Simnet]:
    """The platform pointed at the trouble world, as `on_simnet` points it at the shared
    one; faults set on fickle hosts are cleared afterwards."""
    trouble_net.reset()
    settings.DNS_SERVERS = [(trouble_net.dns_address, trouble_net.dns_port)]
    settings.FETCH_ALLOW_NETS = [ipaddress.ip_network("127.77.0.0/16")]
    settings.FETCH_TOTAL_TIMEOUT = 5
    settings.RDAP_BOOTSTRAP = trouble_net.rdap_bootstrap_url
    settings.GEOIP_DB = str(trouble_net.mmdb_path)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": trouble_net.smtp_host,
                "port": trouble_net.smtp_port,
                "timeout": 10,
            },
        }
    }
    yield trouble_net
    behaviours.set_fault("fickle-gb.test", None)
    trouble_net.reset()
