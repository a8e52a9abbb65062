"""Every fetch of an onion capture goes through the onion proxy, and the onion page is never
sent as Referer to another site.

GIVEN an onion page (behind a loopback SOCKS5 proxy that resolves names itself, as Tor
      does) showing one image of its own and two from a clear-web host, one of them
      behind a redirect
WHEN  the case is captured
THEN  the clear-web host sees only requests from the proxy, none carrying the onion
      address; the platform looks up no name itself; the images are stored.
"""

import json
from collections.abc import Iterator

import pytest
from django.test import Client

from openhotline.cases.models import Case
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import CaptureState, ItemState
from openhotline.evidence.net.fetcher import referrer_allowed
from openhotline.simnet.images import make_jpeg
from tests.evidence.netfixtures import (
    ALLOWED_NET,
    FakeDNS,
    ForwardingSocks5Proxy,
    HTTPServer,
    Route,
)

pytestmark = pytest.mark.django_db

ONION = "a" * 56 + ".onion"
PROXY_ADDRESS = "127.77.5.2"
CLEAR_HOST = "cdn-clear.test"


def jpeg(seed: str) -> Route:
    data = make_jpeg(seed, (64, 48))
    return lambda h: h.reply(200, data, {"Content-Type": "image/jpeg"})


@pytest.fixture
def onion_world(
    settings,
) -> Iterator[tuple[HTTPServer, FakeDNS, ForwardingSocks5Proxy, HTTPServer]]:
    with (
        FakeDNS() as dns,
        HTTPServer("127.77.6.2") as clear,
        HTTPServer("127.77.6.1") as hidden,
    ):
        clear.routes.update({
            "/pic.jpg": jpeg("clear-one"),
            "/old.jpg": lambda h: h.redirect("/moved.jpg"),
            "/moved.jpg": jpeg("clear-two"),
        })  # fmt: skip
        clear_base = f"http://{CLEAR_HOST}:{clear.port}"
        html = (
            f'<html><img src="/own.jpg"><img src="{clear_base}/pic.jpg">'
            f'<img src="{clear_base}/old.jpg"><img src="/hop.jpg"></html>'
        ).encode()
        hidden.routes.update({
            "/gallery": lambda h: h.reply(200, html, {"Content-Type": "text/html"}),
            "/own.jpg": jpeg("onion-own"),
            # Its own address, moved to the clear web: the Referer must go at that hop.
            "/hop.jpg": lambda h: h.redirect(f"{clear_base}/pic.jpg"),
        })  # fmt: skip
        # The platform's own resolver knows the clear-web host: a direct fetch would work.
        dns.add(CLEAR_HOST, "127.77.6.2")
        routes = {ONION: ("127.77.6.1", hidden.port), CLEAR_HOST: ("127.77.6.2", clear.port)}
        with ForwardingSocks5Proxy(PROXY_ADDRESS, routes) as proxy:
            settings.DNS_SERVERS = [dns.endpoint]
            settings.FETCH_ALLOW_NETS = [ALLOWED_NET]
            settings.FETCH_TOTAL_TIMEOUT = 5
            settings.ONION_PROXY = proxy.url
            yield clear, dns, proxy, hidden


def report(url: str) -> Case:
    response = Client().post(
        "/api/v1/reports", json.dumps({"urls": [url]}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return Case.objects.get(report_items__report__reference=response.json()["reference"])


def test_an_onion_capture_fetches_clear_web_media_only_through_the_proxy(onion_world) -> None:
    clear, dns, proxy, _hidden = onion_world
    case = report(f"http://{ONION}/gallery")
    outcome = run_capture(case.captures.get().pk)
    capture = case.captures.get()
    assert capture.state == CaptureState.DONE, (outcome, capture.problem)
    items = {item.url.rsplit("/", 1)[-1]: item for item in capture.items.all()}
    assert {name: item.state for name, item in items.items()} == {
        "own.jpg": ItemState.STORED,
        "pic.jpg": ItemState.STORED,
        "old.jpg": ItemState.STORED,
        "hop.jpg": ItemState.STORED,
    }
    # The clear-web host saw four requests (redirect hops included), every one from the
    # proxy and none telling it the onion page.
    paths = sorted(seen.path for seen in clear.requests)
    assert paths == ["/moved.jpg", "/old.jpg", "/pic.jpg", "/pic.jpg"]
    assert {seen.client for seen in clear.requests} == {PROXY_ADDRESS}
    assert not [seen for seen in clear.requests if "referer" in seen.headers]
    assert all(ONION not in json.dumps(seen.headers) for seen in clear.requests)
    # The proxy was asked by name for both hosts; the platform resolved nothing itself.
    assert {name for name, _port in proxy.targets} == {ONION, CLEAR_HOST}
    assert dns.queries == []
    assert all(hop["address"] is None for hop in capture.hops)


def test_an_onion_pages_own_media_still_carries_the_page_as_referrer(onion_world) -> None:
    """Same site: what a Tor Browser visitor sends, so the pathway looks ordinary."""
    hidden = onion_world[3]
    case = report(f"http://{ONION}/gallery")
    run_capture(case.captures.get().pk)
    own = [seen for seen in hidden.requests if seen.path == "/own.jpg"]
    assert [seen.headers.get("referer") for seen in own] == [f"http://{ONION}/gallery"]
    assert {seen.client for seen in hidden.requests} == {PROXY_ADDRESS}
    assert referrer_allowed(f"http://{ONION}/gallery", f"http://{ONION}/own.jpg")
    assert not referrer_allowed(f"http://{ONION}/gallery", f"http://{CLEAR_HOST}/pic.jpg")
    assert not referrer_allowed(f"http://{ONION}/gallery", f"http://{'b' * 56}.onion/x.jpg")
    assert referrer_allowed("http://forum.test/thread", f"http://{ONION}/gallery")


def test_without_a_proxy_an_onion_capture_is_refused_and_nothing_is_fetched(
    onion_world, settings
) -> None:
    clear, dns, proxy, _hidden = onion_world
    settings.ONION_PROXY = ""
    case = report(f"http://{ONION}/gallery")
    run_capture(case.captures.get().pk)
    capture = case.captures.get()
    assert capture.state == CaptureState.REFUSED and "needs a proxy" in capture.problem
    assert (clear.requests, dns.queries, proxy.targets) == ([], [], [])
