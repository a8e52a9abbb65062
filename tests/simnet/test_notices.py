"""Notice and takedown on the simulated internet, end to end through the real servers.

A notice is an e-mail to an abuse address sent with smtplib to the simnet's SMTP server; what
follows is seen as a browser would see it, through simnet's DNS and web servers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from openhotline.simnet.atlas import CDN_EDGE, HOPPER_TARGET, default_world
from openhotline.simnet.runner import Simnet
from openhotline.simnet.state import NoticeEvent

from .helpers import abuse_emails, browse, fetch, rdap, resolve, send_mail

DELAY = 0.5


@pytest.fixture(scope="module")
def running() -> Iterator[Simnet]:
    with Simnet(default_world(notice_delay=DELAY)) as net:
        yield net


@pytest.fixture
def net(running: Simnet) -> Iterator[Simnet]:
    yield running
    running.reset()


def happened(net: Simnet, host: str, action: str, timeout: float = 5) -> NoticeEvent:
    return net.wait_for_event(lambda e: e.host == host and e.action == action, timeout)


def test_a_host_removes_the_reported_page_and_its_pictures_after_a_delay(net: Simnet) -> None:
    url = net.url("photos-gb.test", "/gallery/beach")
    send_mail(net, ["abuse@uk-hosting.test"], f"Please remove:\n{url}\n")
    sent = time.monotonic()
    assert browse(net, "photos-gb.test", "/gallery/beach").status_code == 200  # not yet
    removed = happened(net, "photos-gb.test", "removed")
    assert time.monotonic() - sent >= DELAY * 0.8
    assert set(removed.paths) == {"/gallery/beach", "/img/beach-1.jpg", "/img/beach-2.png"}
    for path in removed.paths:
        assert browse(net, "photos-gb.test", path).status_code == 404
    # What was not reported stays, and the home page no longer links the removed page.
    assert browse(net, "photos-gb.test", "/gallery/park").status_code == 200
    home = browse(net, "photos-gb.test", "/").text
    assert "/gallery/park" in home and "/gallery/beach" not in home
    assert [m.rcpt_tos for m in net.mail.messages()] == [("abuse@uk-hosting.test",)]


def test_plain_hosts_remove_too_and_a_reported_image_goes_alone(net: Simnet) -> None:
    image = net.url("www.imagehost.test", "/img/x7k2.jpg")  # through an alias
    send_mail(net, ["ABUSE@uk-hosting.test"], f"Remove {image}")
    assert happened(net, "imagehost.test", "removed").paths == ("/img/x7k2.jpg",)
    assert browse(net, "imagehost.test", "/img/x7k2.jpg").status_code == 404
    assert browse(net, "imagehost.test", "/i/x7k2").status_code == 200


def test_a_provider_that_ignores_notices_keeps_serving(net: Simnet) -> None:
    facts = net.facts("stubborn-us.test")
    send_mail(net, [facts.abuse_email], net.url("stubborn-us.test", "/pics/1"))
    assert happened(net, "stubborn-us.test", "ignored").desk == "abuse@unbothered-hosting.test"
    time.sleep(DELAY * 2)
    assert browse(net, "stubborn-us.test", "/pics/1").status_code == 200
    assert browse(net, "stubborn-us.test", "/img/stub-1.jpg").status_code == 200
    assert [e.action for e in net.events() if e.host == "stubborn-us.test"] == ["ignored"]


def test_a_host_moves_to_another_country_and_dns_follows(net: Simnet) -> None:
    before = browse(net, "hopper-nl.test", "/img/hop-1.jpg").content
    assert resolve(net, "hopper-nl.test") == "127.77.2.20"
    send_mail(net, ["abuse@polder-hosting.test"], net.url("hopper-nl.test", "/photos/a"))
    happened(net, "hopper-nl.test", "moved")
    assert resolve(net, "hopper-nl.test") == HOPPER_TARGET
    assert net.address_of("hopper-nl.test") == HOPPER_TARGET
    # Same content at the new address; the old one no longer serves the site.
    assert browse(net, "hopper-nl.test", "/img/hop-1.jpg").content == before
    assert browse(net, "hopper-nl.test", "/photos/a").status_code == 200
    assert fetch(net, "127.77.2.20", "hopper-nl.test", "/photos/a").status_code == 404
    # Tracing it again finds a provider in a country without a hotline.
    network = rdap(net, f"ip/{HOPPER_TARGET}").json()
    assert network["country"] == "SC"
    assert abuse_emails(network) == ["abuse@coral-bay-hosting.test"]
    # The old provider has nothing to do with it any more; the new one ignores notices.
    send_mail(net, ["abuse@polder-hosting.test", "abuse@coral-bay-hosting.test"],
              net.url("hopper-nl.test", "/photos/a"))  # fmt: skip
    happened(net, "hopper-nl.test", "ignored")
    assert happened(net, "hopper-nl.test", "not-ours").desk == "abuse@polder-hosting.test"


def test_a_host_behind_a_cdn_is_taken_off_the_edge_by_the_cdn(net: Simnet) -> None:
    facts = net.facts("shielded-ru.test")
    assert resolve(net, "shielded-ru.test") == CDN_EDGE == facts.address
    edge = browse(net, "shielded-ru.test", "/media/1")
    assert edge.status_code == 200 and edge.headers["via"] == "1.1 simcdn"
    assert abuse_emails(rdap(net, f"ip/{CDN_EDGE}").json()) == ["abuse@simcdn.test"]
    send_mail(net, [facts.abuse_email], net.url("shielded-ru.test", "/media/1"))
    assert "CDN" in happened(net, "shielded-ru.test", "removed").detail
    assert browse(net, "shielded-ru.test", "/media/1").status_code == 404
    assert browse(net, "shielded-ru.test", "/img/shield-1.jpg").status_code == 404
    # The origin still has it: the CDN only stopped serving it.
    origin = fetch(net, facts.origin_address, "shielded-ru.test", "/img/shield-1.jpg")
    assert origin.status_code == 200 and "via" not in origin.headers


def test_the_origins_provider_removes_it_everywhere(net: Simnet) -> None:
    facts = net.facts("shielded-ru.test")
    assert facts.origin_abuse_email == "abuse@taiga-hosting.test"
    send_mail(net, [facts.origin_abuse_email], net.url("shielded-ru.test", "/media/1"))
    happened(net, "shielded-ru.test", "removed")
    assert browse(net, "shielded-ru.test", "/media/1").status_code == 404
    assert fetch(net, facts.origin_address, "shielded-ru.test", "/media/1").status_code == 404


def test_notices_to_the_wrong_desk_or_without_urls_change_nothing(net: Simnet) -> None:
    send_mail(net, ["abuse@uk-hosting.test"], net.url("pics-us.test", "/p/1"))
    assert happened(net, "pics-us.test", "not-ours").desk == "abuse@uk-hosting.test"
    send_mail(net, ["abuse@liberty-web.test"], "Something bad is on your network.")
    happened(net, "-", "no-urls")
    # Mail to anyone else (a reporter, a registrar) is kept but sets off no desk.
    send_mail(net, ["reporter@example.test", "abuse@names-uk.test"], net.url("pics-us.test"))
    time.sleep(DELAY * 2)
    assert browse(net, "pics-us.test", "/p/1").status_code == 200
    assert len(net.mail.messages()) == 3
    assert not [e for e in net.events() if e.action in ("removed", "will-remove")]


def test_defanged_urls_are_understood(net: Simnet) -> None:
    url = net.url("pics-us.test", "/p/2").replace("http://", "hxxp://").replace(".test", "[.]test")
    send_mail(net, ["abuse@liberty-web.test"], f"Reported: {url}")
    assert "/p/2" in happened(net, "pics-us.test", "removed").paths
    assert browse(net, "pics-us.test", "/img/p2-extra.jpg").status_code == 404


def test_reset_cancels_pending_takedowns_and_restores_everything(running: Simnet) -> None:
    net = running
    send_mail(net, ["abuse@polder-hosting.test"], net.url("forum-nl.test", "/thread/101"))
    happened(net, "forum-nl.test", "will-remove")
    net.reset()
    time.sleep(DELAY * 2)
    assert browse(net, "forum-nl.test", "/thread/101").status_code == 200
    assert net.events() == [] and net.mail.messages() == []
    net.move("hopper-nl.test", HOPPER_TARGET)
    net.remove("gallery-one.test")
    assert resolve(net, "hopper-nl.test") == HOPPER_TARGET
    assert browse(net, "gallery-one.test", "/").status_code == 404
    net.reset()
    assert resolve(net, "hopper-nl.test") == "127.77.2.20"
    assert browse(net, "gallery-one.test", "/").status_code == 200
