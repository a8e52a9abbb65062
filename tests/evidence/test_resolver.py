"""The platform's resolver: the configured DNS servers, CNAME chains, failures told apart."""

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from openhotline.evidence.net import resolver
from openhotline.evidence.net.resolver import ErrorKind, resolve
from openhotline.simnet.atlas import default_world
from openhotline.simnet.dns import SimDNSServer
from tests.evidence.netfixtures import FakeDNS


@pytest.fixture
def dns() -> Iterator[FakeDNS]:
    with FakeDNS() as server:
        yield server


def test_a_and_aaaa_in_order(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1", "127.77.1.2", "::ffff:127.77.1.3")
    result = resolve("gallery.test", servers=[dns.endpoint])
    assert result.error is None and result.error_kind is None
    assert result.addresses == ("127.77.1.1", "127.77.1.2", "::ffff:7f4d:103")
    assert dns.count("gallery.test", "A") == 1 and dns.count("gallery.test", "AAAA") == 1


def test_settings_servers_are_used(dns: FakeDNS, settings: Any) -> None:
    settings.DNS_SERVERS = [dns.endpoint]
    dns.add("gallery.test", "127.77.1.1")
    assert resolve("Gallery.Test.").addresses == ("127.77.1.1",)


def test_cname_chain_is_kept(dns: FakeDNS) -> None:
    dns.alias("www.shop.test", "cdn.shop.test")
    dns.alias("cdn.shop.test", "edge.hosting.test")
    dns.add("edge.hosting.test", "127.77.2.2")
    result = resolve("www.shop.test", servers=[dns.endpoint])
    assert result.cnames == ("cdn.shop.test", "edge.hosting.test")
    assert result.addresses == ("127.77.2.2",)


def test_nxdomain_is_a_dns_failure_of_its_own_kind(dns: FakeDNS) -> None:
    result = resolve("gone.test", servers=[dns.endpoint])
    assert result.error_kind is ErrorKind.DNS_NXDOMAIN
    assert result.error == "gone.test does not exist (NXDOMAIN)"
    assert result.addresses == ()


def test_alias_to_a_missing_name_keeps_the_chain(dns: FakeDNS) -> None:
    dns.alias("old.shop.test", "dead.hosting.test")
    result = resolve("old.shop.test", servers=[dns.endpoint])
    assert result.error_kind is ErrorKind.DNS_NXDOMAIN
    assert result.cnames == ("dead.hosting.test",)


def test_name_without_addresses(dns: FakeDNS) -> None:
    dns.add("mail-only.test")
    result = resolve("mail-only.test", servers=[dns.endpoint])
    assert result.error_kind is ErrorKind.DNS_NO_ADDRESS
    assert result.error == "mail-only.test has no address records"


@pytest.mark.parametrize("mode", ["servfail", "refused"])
def test_server_failure(dns: FakeDNS, mode: str) -> None:
    dns.modes["broken.test"] = mode
    result = resolve("broken.test", servers=[dns.endpoint])
    assert result.error_kind is ErrorKind.DNS_FAILURE
    assert "SERVFAIL or REFUSED" in (result.error or "")


def test_silent_server_times_out_quickly(dns: FakeDNS) -> None:
    dns.modes["slow.test"] = "silent"
    started = time.monotonic()
    result = resolve("slow.test", servers=[dns.endpoint], timeout=0.3)
    assert result.error_kind is ErrorKind.DNS_FAILURE
    assert "in time" in (result.error or "")
    assert time.monotonic() - started < 1.5


def test_ipv6_only_name(dns: FakeDNS) -> None:
    dns.add("six.test", "::1")
    assert resolve("six.test", servers=[dns.endpoint]).addresses == ("::1",)


def test_literal_needs_no_lookup(dns: FakeDNS) -> None:
    assert resolve("127.77.1.1", servers=[dns.endpoint]).addresses == ("127.77.1.1",)
    assert resolve("[::1]", servers=[dns.endpoint]).addresses == ("::1",)
    assert dns.queries == []


def test_no_search_list_is_applied(dns: FakeDNS) -> None:
    resolve("intranet", servers=[dns.endpoint])
    assert {name for name, _ in dns.queries} == {"intranet"}


def test_simnet_world_dns() -> None:
    world = default_world()
    host = world.hosts[0]
    server = SimDNSServer(world, address="127.77.0.54")
    server.start()
    try:
        result = resolve(host.name, servers=[(server.address, server.port)])
        assert result.addresses == (host.address,)
        missing = resolve("nothing-here." + world.zone, servers=[(server.address, server.port)])
        assert missing.error_kind is ErrorKind.DNS_NXDOMAIN
        outside = resolve("example.com", servers=[(server.address, server.port)])
        assert outside.error_kind is ErrorKind.DNS_FAILURE
    finally:
        server.stop()


# The system resolver path is exercised with a stand-in getaddrinfo: a real one could send
# DNS queries off the machine.


def _fake_getaddrinfo(answers: dict[str, Any]) -> Any:
    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        answer = answers[host]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return getaddrinfo


def test_system_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    infos = [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "edge.cdn.test", ("::1", 0, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.77.1.1", 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.77.1.1", 0)),
    ]
    monkeypatch.setattr(resolver.socket, "getaddrinfo", _fake_getaddrinfo({"www.a.test": infos}))
    result = resolve("www.a.test", servers=[])
    assert result.addresses == ("127.77.1.1", "::1")
    assert result.cnames == ("edge.cdn.test",)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (socket.EAI_NONAME, ErrorKind.DNS_NXDOMAIN),
        (socket.EAI_AGAIN, ErrorKind.DNS_FAILURE),
        (getattr(socket, "EAI_NODATA", -5), ErrorKind.DNS_NO_ADDRESS),
    ],
)
def test_system_resolver_failures(
    monkeypatch: pytest.MonkeyPatch, code: int, kind: ErrorKind
) -> None:
    error = socket.gaierror(code, "lookup failed")
    monkeypatch.setattr(resolver.socket, "getaddrinfo", _fake_getaddrinfo({"x.test": error}))
    assert resolve("x.test", servers=[]).error_kind is kind
