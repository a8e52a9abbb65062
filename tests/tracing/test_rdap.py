"""The RDAP client against httpx.MockTransport: nothing leaves the process.

Answers are shaped as RIRs and registries send them (RFC 9083): ARIN nests the abuse
contact under the registrant, RIPE puts it at the top, gTLD registries hang it under the
registrar.
"""

import gzip
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from openhotline.tracing import rdap
from openhotline.tracing.rdap import Outcome, RdapClient
from openhotline.tracing.rdap_bootstrap import Bootstrap, BootstrapRegistry

BOOTSTRAP = "https://bootstrap.test/rdap/"

IPV4 = {
    "version": "1.0",
    "publication": "2025-01-01T00:00:00Z",
    "services": [
        [["127.77.0.0/16"], ["https://rdap.big-rir.test/"]],
        [["127.77.1.0/24"], ["https://rdap.small-rir.test/rdap"]],
        [["127.78.0.0/16"], ["http://rdap.both.test/", "https://rdap.both.test/"]],
        [["not-a-network"], ["https://ignored.test/"]],
    ],
}
IPV6 = {
    "version": "1.0",
    "services": [
        [["2001:db8::/32"], ["https://rdap.v6.test/"]],
        [["2001:db8:77::/48"], ["https://rdap.v6-more.test/"]],
    ],
}
DNS = {
    "version": "1.0",
    "services": [
        [["test"], ["https://rdap.registry.test/"]],
        [["xn--p1ai", "co.test"], ["https://rdap.other-registry.test/"]],
    ],
}

Handler = Callable[[httpx.Request], httpx.Response]


def respond(
    status: int, body: bytes | Iterator[bytes] = b"", headers: dict[str, str] | None = None
) -> httpx.Response:
    """A response streamed as a real transport's is (content= would be read up front)."""
    headers = dict(headers or {})
    if isinstance(body, bytes):
        headers.setdefault("content-length", str(len(body)))
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))
    return httpx.Response(status, headers=headers, stream=_Stream(body))


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks


class FakeInternet:
    """URL → handler; every request is kept. Unknown URLs get a plain 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []
        self.json(BOOTSTRAP + "ipv4.json", IPV4)
        self.json(BOOTSTRAP + "ipv6.json", IPV6)
        self.json(BOOTSTRAP + "dns.json", DNS)

    def json(self, url: str, data: object, status: int = 200, **headers: str) -> None:
        body = json.dumps(data).encode()
        self.routes[url] = lambda _: respond(
            status, body, {"content-type": "application/rdap+json", **headers}
        )

    def redirect(self, url: str, location: str, status: int = 302) -> None:
        self.routes[url] = lambda _: respond(status, headers={"location": location})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(str(request.url))
        if handler is None:
            return respond(404, b"no such page")
        return handler(request)

    def asked(self, url: str) -> int:
        return sum(str(request.url) == url for request in self.requests)

    def client(self, **kwargs: Any) -> RdapClient:
        kwargs.setdefault("bootstrap", Bootstrap(BOOTSTRAP))
        return RdapClient(transport=httpx.MockTransport(self.handle), **kwargs)


@pytest.fixture
def net() -> FakeInternet:
    return FakeInternet()


@pytest.fixture
def client(net: FakeInternet) -> Iterator[RdapClient]:
    with net.client() as rdap_client:
        yield rdap_client


def vcard(*items: list[Any]) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], *items]]


def arin_network() -> dict[str, Any]:
    """ARIN's shape: network → registrant organisation → abuse and technical contacts."""
    return {
        "rdapConformance": ["rdap_level_0", "cidr0"],
        "objectClassName": "ip network",
        "handle": "NET-127-77-0-0-1",
        "name": "SIM-HOSTING",
        "startAddress": "127.77.0.0",
        "endAddress": "127.77.255.255",
        "ipVersion": "v4",
        "type": "DIRECT ALLOCATION",
        "country": "nl",
        "parentHandle": "NET-127-0-0-0-0",
        "cidr0_cidrs": [{"v4prefix": "127.77.0.0", "length": 16}],
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "SIMH",
                "roles": ["registrant"],
                "vcardArray": vcard(["fn", {}, "text", "Sim Hosting B.V."]),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "handle": "ABUSE-SIMH",
                        "roles": ["abuse"],
                        "vcardArray": vcard(
                            ["fn", {}, "text", "Abuse desk"],
                            ["org", {}, "text", "Sim Hosting B.V."],
                            ["email", {}, "text", "abuse@simhosting.test"],
                            ["email", {"type": "work"}, "text", "ABUSE@simhosting.test"],
                            ["tel", {"type": ["work", "voice"]}, "uri", "tel:+31-20-555-0100"],
                        ),
                    },
                    {
                        "objectClassName": "entity",
                        "handle": "NOC-SIMH",
                        "roles": ["technical"],
                        "vcardArray": vcard(["email", {}, "text", "noc@simhosting.test"]),
                    },
                ],
            }
        ],
    }


# --- IP networks ---------------------------------------------------------------------


def test_abuse_contact_nested_under_the_registrant(net: FakeInternet, client: RdapClient) -> None:
    net.json("https://rdap.big-rir.test/ip/127.77.9.9", arin_network())
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.FOUND and result.found and result.reason == ""
    assert result.kind == "ip" and result.status == 200
    assert result.url == "https://rdap.big-rir.test/ip/127.77.9.9"
    assert result.abuse_emails == ("abuse@simhosting.test",)  # the same address once
    [abuse] = result.abuse
    assert abuse.handle == "ABUSE-SIMH" and abuse.roles == ("abuse",)
    assert abuse.name == "Abuse desk" and abuse.organisation == "Sim Hosting B.V."
    assert abuse.phones == ("+31-20-555-0100",)
    assert result.abuse_scope == "network"
    network = result.network
    assert network is not None
    assert (network.handle, network.name, network.country) == (
        "NET-127-77-0-0-1", "SIM-HOSTING", "NL",
    )  # fmt: skip
    assert (network.start_address, network.end_address) == ("127.77.0.0", "127.77.255.255")
    assert network.cidrs == ("127.77.0.0/16",)
    assert network.parent_handle == "NET-127-0-0-0-0" and network.ip_version == "v4"
    assert json.loads(result.raw)["handle"] == "NET-127-77-0-0-1"
    assert not result.raw_truncated


def test_top_level_abuse_entity_and_cidrs_from_the_range(
    net: FakeInternet, client: RdapClient
) -> None:
    # RIPE's shape: the abuse contact beside the network; no cidr0 extension.
    network = {
        "objectClassName": "ip network",
        "handle": "127.77.9.0 - 127.77.9.255",
        "name": "SIMNET-9",
        "startAddress": "127.77.9.0",
        "endAddress": "127.77.9.255",
        "entities": [
            {"roles": ["registrant"], "handle": "ORG-SIM"},
            {
                "roles": ["ABUSE"],
                "handle": "AR-SIM",
                "vcardArray": vcard(["email", {}, "text", "mailto:abuse@nine.test"]),
            },
        ],
    }
    net.json("https://rdap.big-rir.test/ip/127.77.9.9", network)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.abuse_emails == ("abuse@nine.test",)
    assert result.network is not None and result.network.cidrs == ("127.77.9.0/24",)


def test_no_abuse_contact_is_still_found(net: FakeInternet, client: RdapClient) -> None:
    net.json("https://rdap.big-rir.test/ip/127.77.9.9", {"objectClassName": "ip network"})
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.found and result.abuse == () and result.abuse_emails == ()


def test_ipv6(net: FakeInternet, client: RdapClient) -> None:
    answer = {
        "objectClassName": "ip network",
        "handle": "V6-NET",
        "ipVersion": "v6",
        "cidr0_cidrs": [{"v6prefix": "2001:db8:77::", "length": 48}],
        "entities": [
            {"roles": ["abuse"], "vcardArray": vcard(["email", {}, "text", "abuse@v6.test"])}
        ],
    }
    net.json("https://rdap.v6-more.test/ip/2001:db8:77::1", answer)
    result = client.abuse_contacts_for_ip("2001:DB8:77:0::1")
    assert result.found and result.abuse_emails == ("abuse@v6.test",)
    assert result.network is not None and result.network.cidrs == ("2001:db8:77::/48",)
    # Outside the more specific prefix, the /32's server is asked.
    client.abuse_contacts_for_ip("2001:db8:1::1")
    assert net.asked("https://rdap.v6.test/ip/2001:db8:1::1") == 1


def test_bootstrap_longest_prefix_wins(net: FakeInternet, client: RdapClient) -> None:
    client.abuse_contacts_for_ip("127.77.1.5")
    client.abuse_contacts_for_ip("127.77.2.5")
    assert net.asked("https://rdap.small-rir.test/rdap/ip/127.77.1.5") == 1
    assert net.asked("https://rdap.big-rir.test/ip/127.77.2.5") == 1


def test_https_preferred_when_both_listed(net: FakeInternet, client: RdapClient) -> None:
    client.abuse_contacts_for_ip("127.78.0.1")
    assert [str(r.url) for r in net.requests[-1:]] == ["https://rdap.both.test/ip/127.78.0.1"]


def test_ipv4_mapped_address_is_asked_as_ipv4(net: FakeInternet, client: RdapClient) -> None:
    client.abuse_contacts_for_ip("::ffff:127.77.2.5")
    assert net.asked("https://rdap.big-rir.test/ip/127.77.2.5") == 1


def test_no_server_for_the_address(net: FakeInternet, client: RdapClient) -> None:
    result = client.abuse_contacts_for_ip("127.99.0.1")
    assert result.outcome is Outcome.NO_SERVER
    assert result.reason == "the ipv4 bootstrap registry lists no RDAP service for 127.99.0.1"


def test_not_an_address_asks_nobody(net: FakeInternet, client: RdapClient) -> None:
    result = client.abuse_contacts_for_ip("127.77.1.1/../../admin")
    assert result.outcome is Outcome.INVALID_QUERY and "not an IP address" in result.reason
    assert net.requests == []


# --- Domains -------------------------------------------------------------------------


def gtld_domain(name: str) -> dict[str, Any]:
    """A registry's answer: registrant abuse elsewhere, the registrar's own under it."""
    return {
        "objectClassName": "domain",
        "ldhName": name.upper(),
        "entities": [
            {
                "roles": ["registrant", "abuse"],
                "vcardArray": vcard(["email", {}, "text", "owner@shop.test"]),
            },
            {
                "objectClassName": "entity",
                "handle": "9999",
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
                "vcardArray": vcard(["fn", {}, "text", "Sim Registrar Ltd"]),
                "entities": [
                    {
                        "roles": ["abuse"],
                        "vcardArray": vcard(
                            ["fn", {}, "text", "Abuse"],
                            ["email", {}, "text", "abuse@simregistrar.test"],
                            ["tel", {}, "text", "+44.2000000000"],
                        ),
                    }
                ],
            },
        ],
    }


def test_registrar_abuse_contact(net: FakeInternet, client: RdapClient) -> None:
    net.json("https://rdap.registry.test/domain/shop.test", gtld_domain("shop.test"))
    result = client.abuse_contacts_for_domain("WWW.Shop.Test.")
    assert result.found and result.kind == "domain" and result.query == "WWW.Shop.Test."
    assert result.domain == "shop.test"
    assert result.abuse_emails == ("abuse@simregistrar.test",)
    assert result.abuse_scope == "registrar"
    assert result.registrar is not None and result.registrar.name == "Sim Registrar Ltd"
    assert result.registrar.public_ids == (("IANA Registrar ID", "9999"),)
    assert result.abuse[0].phones == ("+44.2000000000",)
    # The registered name is asked first: the host name never needed a request.
    assert [str(r.url) for r in net.requests[-1:]] == [
        "https://rdap.registry.test/domain/shop.test"
    ]


def test_domain_without_registrar_abuse_falls_back(net: FakeInternet, client: RdapClient) -> None:
    answer = gtld_domain("shop.test")
    del answer["entities"][1]["entities"]
    net.json("https://rdap.registry.test/domain/shop.test", answer)
    result = client.abuse_contacts_for_domain("shop.test")
    assert result.abuse_emails == ("owner@shop.test",) and result.abuse_scope == "domain"
    assert result.registrar is not None and result.registrar.handle == "9999"


def test_multi_label_suffix_is_found_one_label_at_a_time(
    net: FakeInternet, client: RdapClient
) -> None:
    # "example.test" is not registered; "gallery.example.test" is (a second-level suffix).
    net.json(
        "https://rdap.registry.test/domain/gallery.example.test",
        gtld_domain("gallery.example.test"),
    )
    result = client.abuse_contacts_for_domain("img.gallery.example.test")
    assert result.found and result.domain == "gallery.example.test"
    assert net.asked("https://rdap.registry.test/domain/example.test") == 1


def test_longest_bootstrap_suffix_and_nothing_registered(
    net: FakeInternet, client: RdapClient
) -> None:
    result = client.abuse_contacts_for_domain("a.b.c.shop.co.test")
    assert result.outcome is Outcome.NOT_FOUND
    assert (
        result.reason == "no registration found for shop.co.test, c.shop.co.test, b.c.shop.co.test"
    )
    asked = [str(r.url) for r in net.requests if "domain/" in str(r.url)]
    assert asked == [
        "https://rdap.other-registry.test/domain/shop.co.test",
        "https://rdap.other-registry.test/domain/c.shop.co.test",
        "https://rdap.other-registry.test/domain/b.c.shop.co.test",
    ]


def test_internationalised_name_is_asked_in_a_labels(net: FakeInternet, client: RdapClient) -> None:
    client.abuse_contacts_for_domain("пример.рф")
    assert net.asked("https://rdap.other-registry.test/domain/xn--e1afmkfd.xn--p1ai") == 1


def test_unknown_tld_and_bad_names(net: FakeInternet, client: RdapClient) -> None:
    result = client.abuse_contacts_for_domain("shop.example")
    assert result.outcome is Outcome.NO_SERVER and result.reason.endswith(".example")
    for bad in ("", "sh op.test", "a/b.test", "-x.test", "127.0.0.1", "x" * 64 + ".test"):
        assert client.abuse_contacts_for_domain(bad).outcome is Outcome.INVALID_QUERY, bad


# --- What servers do wrong -----------------------------------------------------------

IP_URL = "https://rdap.big-rir.test/ip/127.77.9.9"


def test_404_is_no_record_with_the_servers_words(net: FakeInternet, client: RdapClient) -> None:
    error = {"errorCode": 404, "title": "Not Found", "description": ["No such network."]}
    net.json(IP_URL, error, status=404)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.NOT_FOUND and not result.found
    assert result.reason == (
        "no RDAP record for this address at rdap.big-rir.test (404: Not Found No such network.)"
    )
    assert result.status == 404 and "errorCode" in result.raw


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "words"),
    [
        (500, {}, Outcome.SERVER_ERROR, "rdap.big-rir.test failed (HTTP 500)"),
        (503, {}, Outcome.SERVER_ERROR, "rdap.big-rir.test failed (HTTP 503)"),
        (
            429,
            {"retry-after": "120"},
            Outcome.RATE_LIMITED,
            "rdap.big-rir.test is rate limiting us (429; retry after 120)",
        ),
        (403, {}, Outcome.HTTP_ERROR, "rdap.big-rir.test answered HTTP 403"),
    ],
)
def test_error_statuses(
    net: FakeInternet,
    client: RdapClient,
    status: int,
    headers: dict[str, str],
    outcome: Outcome,
    words: str,
) -> None:
    net.routes[IP_URL] = lambda _: respond(status, b"<html>busy</html>", headers)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is outcome and result.reason == words and result.status == status


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>maintenance</html>", "the answer is not JSON"),
        (b'{"objectClassName": "ip network", ', "the answer is not JSON"),
        (b"[1, 2, 3]", "the answer is JSON but not an object"),
        (b"[" * 100_000, "the answer is not JSON"),  # deeper than the parser goes
        (b'{"objectClassName": "domain"}', "answered with a 'domain' object, not ip network"),
    ],
)
def test_malformed_answers(net: FakeInternet, client: RdapClient, body: bytes, words: str) -> None:
    net.routes[IP_URL] = lambda _: respond(200, body)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.MALFORMED and words in result.reason


def test_odd_shapes_inside_a_good_answer_are_skipped(net: FakeInternet, client: RdapClient) -> None:
    answer = {
        "objectClassName": "ip network",
        "country": 7,
        "cidr0_cidrs": [{"v4prefix": "nonsense", "length": 8}, "x"],
        "entities": [
            "not an entity",
            {"roles": "abuse"},
            {"roles": ["abuse"], "vcardArray": ["vcard", [["email"], 5, ["email", {}, "text"]]]},
            {"roles": ["abuse"], "vcardArray": vcard(["email", {}, "text", "ok@odd.test"])},
        ],
    }
    net.json(IP_URL, answer)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.found and result.abuse_emails == ("ok@odd.test",)
    assert result.network is not None and result.network.country == ""


def test_oversized_answer_by_content_length(net: FakeInternet, client: RdapClient) -> None:
    net.routes[IP_URL] = lambda _: respond(200, b" " * (rdap.MIB + 1))
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.TOO_LARGE
    assert result.reason == "the answer from rdap.big-rir.test is larger than 1048576 bytes"


def test_oversized_answer_without_length(net: FakeInternet, client: RdapClient) -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b" " * 65536

    net.routes[IP_URL] = lambda _: respond(200, endless())
    assert client.abuse_contacts_for_ip("127.77.9.9").outcome is Outcome.TOO_LARGE


def test_compressed_answers_are_decoded_within_the_limit(
    net: FakeInternet, client: RdapClient
) -> None:
    small = gzip.compress(json.dumps(arin_network()).encode())
    bomb = gzip.compress(b" " * (8 * rdap.MIB))
    assert len(bomb) < 16_000
    headers = {"content-encoding": "gzip"}
    net.routes[IP_URL] = lambda _: respond(200, small, headers)
    assert client.abuse_contacts_for_ip("127.77.9.9").abuse_emails == ("abuse@simhosting.test",)
    net.routes[IP_URL] = lambda _: respond(200, bomb, headers)
    assert client.abuse_contacts_for_ip("127.77.9.9").outcome is Outcome.TOO_LARGE
    net.routes[IP_URL] = lambda _: respond(200, b"junk", headers)
    assert client.abuse_contacts_for_ip("127.77.9.9").outcome is Outcome.MALFORMED
    net.routes[IP_URL] = lambda _: respond(200, b"{}", {"content-encoding": "br"})
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.MALFORMED and "encoding we do not read (br)" in result.reason


def test_raw_is_capped(net: FakeInternet) -> None:
    answer = arin_network()
    answer["remarks"] = [{"description": ["x" * 5000]}]
    net.json(IP_URL, answer)
    with net.client(raw_limit=1000) as small:
        result = small.abuse_contacts_for_ip("127.77.9.9")
    assert result.found and len(result.raw) == 1000 and result.raw_truncated


# --- Redirects -------------------------------------------------------------------------


def test_redirect_to_the_authoritative_server_is_followed(
    net: FakeInternet, client: RdapClient
) -> None:
    net.redirect(IP_URL, "https://rdap.nic.test/registry/ip/127.77.9.9", 301)
    net.redirect("https://rdap.nic.test/registry/ip/127.77.9.9", "/v2/ip/127.77.9.9", 307)
    net.json("https://rdap.nic.test/v2/ip/127.77.9.9", arin_network())
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.found and result.url == "https://rdap.nic.test/v2/ip/127.77.9.9"
    assert result.abuse_emails == ("abuse@simhosting.test",)


def test_redirect_loop(net: FakeInternet, client: RdapClient) -> None:
    net.redirect(IP_URL, "https://rdap.nic.test/ip/127.77.9.9")
    net.redirect("https://rdap.nic.test/ip/127.77.9.9", IP_URL)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.REDIRECT_ERROR
    assert result.reason == f"redirect loop at {IP_URL}"


def test_too_many_redirects(net: FakeInternet, client: RdapClient) -> None:
    for hop in range(5):
        net.redirect(f"https://hop{hop}.test/", f"https://hop{hop + 1}.test/")
    net.redirect(IP_URL, "https://hop0.test/")
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.REDIRECT_ERROR
    assert result.reason == f"more than 3 redirects from {IP_URL}"
    assert len(net.requests) == 1 + 4  # the bootstrap file, then four hops


@pytest.mark.parametrize("location", ["ftp://rdap.nic.test/ip/1", "file:///etc/passwd"])
def test_redirect_only_to_http(net: FakeInternet, client: RdapClient, location: str) -> None:
    net.redirect(IP_URL, location)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.REDIRECT_ERROR
    assert result.reason == f"redirected to {location}: only http and https are followed"


def test_redirect_without_location(net: FakeInternet, client: RdapClient) -> None:
    net.routes[IP_URL] = lambda _: respond(302)
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.HTTP_ERROR and "302 without a Location" in result.reason


# --- Time and connections --------------------------------------------------------------


def test_timeout(net: FakeInternet, client: RdapClient) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    net.routes[IP_URL] = slow
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.TIMEOUT
    assert result.reason == "no answer from rdap.big-rir.test within 10 s"


def test_a_slow_trickle_meets_the_deadline(net: FakeInternet) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(100):
            time.sleep(0.02)
            yield b" "

    net.routes[IP_URL] = lambda _: respond(200, trickle())
    with net.client(timeout=0.3) as quick:
        started = time.monotonic()
        result = quick.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.TIMEOUT and "took longer than 0.3 s" in result.reason
    assert time.monotonic() - started < 1.5


def test_connection_refused(net: FakeInternet, client: RdapClient) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    net.routes[IP_URL] = refused
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.outcome is Outcome.CONNECTION_ERROR
    assert result.reason == "could not reach rdap.big-rir.test: [Errno 111] Connection refused"


def test_next_listed_server_after_a_timeout(net: FakeInternet, client: RdapClient) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    net.json(
        BOOTSTRAP + "ipv4.json",
        {"services": [[["127.77.0.0/16"], ["https://one.test/", "https://two.test/"]]]},
    )
    net.routes["https://one.test/ip/127.77.9.9"] = slow
    net.json("https://two.test/ip/127.77.9.9", arin_network())
    result = client.abuse_contacts_for_ip("127.77.9.9")
    assert result.found and result.url == "https://two.test/ip/127.77.9.9"


# --- The bootstrap files ---------------------------------------------------------------


def test_bootstrap_is_fetched_once_then_again_after_its_ttl(net: FakeInternet) -> None:
    now = [1000.0]
    bootstrap = Bootstrap(BOOTSTRAP.rstrip("/"), ttl=60, clock=lambda: now[0])
    with net.client(bootstrap=bootstrap) as rdap_client:
        rdap_client.abuse_contacts_for_ip("127.77.2.1")
        rdap_client.abuse_contacts_for_ip("127.77.2.2")
        rdap_client.abuse_contacts_for_ip("2001:db8::1")
        assert net.asked(BOOTSTRAP + "ipv4.json") == 1
        assert net.asked(BOOTSTRAP + "ipv6.json") == 1
        now[0] += 61
        rdap_client.abuse_contacts_for_ip("127.77.2.3")
        assert net.asked(BOOTSTRAP + "ipv4.json") == 2


def test_bootstrap_failures_are_reported_and_not_kept(
    net: FakeInternet, client: RdapClient
) -> None:
    net.routes[BOOTSTRAP + "dns.json"] = lambda _: respond(503)
    result = client.abuse_contacts_for_domain("shop.test")
    assert result.outcome is Outcome.BOOTSTRAP_ERROR
    assert result.reason == f"bootstrap registry {BOOTSTRAP}dns.json: HTTP 503"
    net.json(BOOTSTRAP + "dns.json", {"services": "no"})
    result = client.abuse_contacts_for_domain("shop.test")
    assert result.reason == (
        f'bootstrap registry {BOOTSTRAP}dns.json: expected an object with a "services" list'
    )
    net.routes[BOOTSTRAP + "dns.json"] = lambda _: respond(200, b"<html>")
    result = client.abuse_contacts_for_domain("shop.test")
    assert result.reason == f"bootstrap registry {BOOTSTRAP}dns.json: the answer is not JSON"
    net.json(BOOTSTRAP + "dns.json", DNS)
    net.json("https://rdap.registry.test/domain/shop.test", gtld_domain("shop.test"))
    assert client.abuse_contacts_for_domain("shop.test").found
    assert net.asked(BOOTSTRAP + "dns.json") == 4


def test_bootstrap_registry_parsing() -> None:
    registry = BootstrapRegistry.parse("ipv4", IPV4)
    assert len(registry.networks) == 3  # "not-a-network" skipped
    assert registry.for_address(rdap._parse_address("127.77.1.1")) == (  # type: ignore[arg-type]
        "https://rdap.small-rir.test/rdap/",
    )
    with pytest.raises(rdap.BootstrapError, match="service 1 is not"):
        BootstrapRegistry.parse("ipv4", {"services": [["127.0.0.0/8", "https://x.test/"]]})
    dns = BootstrapRegistry.parse("dns", DNS)
    assert dns.for_domain("a.shop.co.test") == (("https://rdap.other-registry.test/",), "co.test")
    assert dns.for_domain("shop.example") == ((), "")


def test_settings_choose_the_bootstrap_and_timeout(settings: Any, net: FakeInternet) -> None:
    settings.RDAP_BOOTSTRAP = "https://other-bootstrap.test/"
    settings.RDAP_TIMEOUT = 4
    net.json("https://other-bootstrap.test/ipv4.json", IPV4)
    net.json(IP_URL, arin_network())
    with RdapClient(transport=httpx.MockTransport(net.handle)) as configured:
        assert configured.timeout == 4.0
        result = rdap.abuse_contacts_for_ip("127.77.9.9", client=configured)
    assert result.found and net.asked("https://other-bootstrap.test/ipv4.json") == 1
    assert rdap.shared_bootstrap() is rdap.shared_bootstrap("https://other-bootstrap.test/")


def test_a_response_read_before_us_is_used_as_it_is(net: FakeInternet, client: RdapClient) -> None:
    # httpx.Response(content=...) is read when made; other agents' mocks may send those.
    body = json.dumps(arin_network()).encode()
    net.routes[IP_URL] = lambda _: httpx.Response(200, content=body)
    assert client.abuse_contacts_for_ip("127.77.9.9").abuse_emails == ("abuse@simhosting.test",)
    net.routes[IP_URL] = lambda _: httpx.Response(200, content=b" " * (rdap.MIB + 1))
    assert client.abuse_contacts_for_ip("127.77.9.9").outcome is Outcome.TOO_LARGE
