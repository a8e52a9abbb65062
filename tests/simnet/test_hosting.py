"""Hosting facts in the world: providers, networks, registrars, notice behaviours; and the
rule that everything the simnet opens listens on loopback only.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from pathlib import Path

import pytest

from openhotline.simnet.atlas import default_world
from openhotline.simnet.runner import Simnet
from openhotline.simnet.world import (
    IGNORES,
    Provider,
    Registrar,
    SimHost,
    SimPage,
    World,
    WorldError,
    moves,
    pages,
)

HOTLINE_COUNTRIES = {"GB", "NL", "US", "RU"}


def test_the_default_world_has_hosts_and_networks_in_each_country() -> None:
    world = default_world()
    countries = {world.facts(host.name).origin_country for host in world.hosts}
    assert countries >= HOTLINE_COUNTRIES | {"SC"}
    simnet = ipaddress.IPv4Network("127.77.0.0/16")
    networks = [ipaddress.IPv4Network(p.network) for p in world.providers]
    assert all(n.prefixlen == 24 and n.subnet_of(simnet) for n in networks)
    assert len({p.abuse_email for p in world.providers}) == len(world.providers)
    for provider in world.providers:
        assert provider.abuse_email.endswith(".test")
    for host in world.hosts:
        facts = world.facts(host.name)
        assert facts.origin_country == host.country, host.name
        assert facts.abuse_email.startswith("abuse@") and facts.registrar_abuse_email


def test_the_default_world_has_one_host_of_each_notice_behaviour() -> None:
    world = default_world(notice_delay=90)
    policies = {}
    for host in world.hosts:
        provider = world.provider_at(host.address)
        assert provider is not None
        policies[host.name] = (host.on_notice or provider.on_notice).action
    assert policies["photos-gb.test"] == "removes"
    assert policies["stubborn-us.test"] == "ignores"
    assert policies["hopper-nl.test"] == "moves"
    assert policies["offshore-sc.test"] == "ignores"
    assert policies["gallery-one.test"] == "removes"
    cdn = world.provider_at(world.facts("shielded-ru.test").address)
    assert cdn is not None and cdn.kind == "cdn" and cdn.on_notice.after == 90
    hopper = world.facts("hopper-nl.test")
    assert (hopper.country, hopper.provider) == ("NL", "Polder Hosting B.V.")


def test_a_world_without_providers_still_works() -> None:
    world = World(hosts=(SimHost("a.test", "127.77.9.9", "GB", "x"),))
    assert world.provider_at("127.77.9.9") is None and world.domains() == {}
    with pytest.raises(KeyError):
        world.facts("a.test")


HOLDS_DNS = Provider("x", "X", "127.77.0.0/20", "GB", 1, "X", "abuse@x.test")
OVERLAPPING = (
    Provider("x", "X", "127.77.1.0/24", "GB", 1, "X", "abuse@x.test"),
    Provider("y", "Y", "127.77.1.128/25", "GB", 2, "Y", "abuse@y.test"),
)


def _world(*hosts: SimHost, providers: tuple[Provider, ...] = (), **extra: object) -> World:
    base = (
        Provider("one", "One", "127.77.1.0/24", "GB", 64501, "ONE", "abuse@one.test"),
        Provider("two", "Two", "127.77.2.0/24", "NL", 64502, "TWO", "abuse@two.test"),
        Provider("cdn", "Cdn", "127.77.3.0/24", "US", 64503, "CDN", "abuse@cdn.test", "cdn"),
    )
    registrars = (Registrar("reg", "Reg", 1, "abuse@reg.test"),)
    return World(hosts=hosts, providers=providers or base, registrars=registrars, **extra)  # type: ignore[arg-type]


def _host(name: str = "a.test", address: str = "127.77.1.10", **fields: object) -> SimHost:
    host = SimHost(name, address, "GB", "x", pages(SimPage("/p", "P", images=("a.png",))))
    return dataclasses.replace(host, **fields)  # type: ignore[arg-type]


def test_it_accepts_a_well_formed_hosting_world() -> None:
    world = _world(
        _host(registrar="reg", on_notice=moves("127.77.2.20", after=1)),
        _host("b.test", "127.77.1.11", cdn="127.77.3.10"),
        _host("www.b.test", "127.77.1.11", registrar="reg"),
    )
    assert world.domains() == {"a.test": world.registrars[0], "b.test": world.registrars[0]}
    assert set(world.addresses()) == {"127.77.1.10", "127.77.2.20", "127.77.1.11", "127.77.3.10"}


@pytest.mark.parametrize(
    "build",
    [
        lambda: _world(_host(on_notice=moves("127.77.1.99"))),  # same provider
        lambda: _world(_host(on_notice=moves("127.77.3.9"))),  # into a CDN
        lambda: _world(_host(on_notice=moves("127.77.9.9"))),  # nobody's network
        lambda: _world(_host(on_notice=IGNORES.__class__("moves"))),  # moves where?
        lambda: _world(_host(cdn="127.77.2.10")),  # not a CDN
        lambda: _world(_host(address="127.77.3.10")),  # an origin inside a CDN
        lambda: _world(_host(registrar="nobody")),
        lambda: _world(  # two registrars for a.test
            _host(registrar="reg"), _host("www.a.test", "127.77.1.10", registrar="other")
        ),
        lambda: _world(_host(cdn="10.0.0.1")),  # off loopback
        lambda: _world(_host(address="127.77.0.25")),  # the SMTP server's address
        lambda: _world(_host(), rdap_address="127.77.0.53"),  # shares DNS's address
        lambda: _world(_host(), providers=(HOLDS_DNS,)),
        lambda: _world(_host(), providers=OVERLAPPING),
    ],
)
def test_it_rejects_inconsistent_hosting(build: object) -> None:
    with pytest.raises(WorldError):
        build()  # type: ignore[operator]


def _listening() -> list[tuple[str, int]]:
    """(address, port) of this process's TCP listeners and UDP sockets, from /proc."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if inode not in inodes or (table.startswith("tcp") and state != "0A"):
                continue  # not ours, or a TCP socket that is not listening
            address, port = local.split(":")
            found.append((_proc_address(address), int(port, 16)))
    return found


def _proc_address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_nothing_it_opens_listens_beyond_loopback() -> None:
    before = set(_listening())
    with Simnet() as net:
        opened = [socket for socket in _listening() if socket not in before]
        addresses = {address for address, _ in opened}
        assert {net.dns_address, net.smtp_host, net.world.rdap_address} <= addresses
        assert set(net.world.addresses()) <= addresses
        assert (net.smtp_host, net.smtp_port) in opened
        assert all(ipaddress.ip_address(address).is_loopback for address in addresses), opened
        assert all(address.startswith("127.77.") for address in addresses), opened
