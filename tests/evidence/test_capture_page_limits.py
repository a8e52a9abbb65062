"""What a capture keeps of a page built to exhaust it: a page listing thousands of media
addresses costs at most twice the media limit in rows (the rest counted in a note), and a
page the media search could not finish says so on the capture."""

import json
from collections.abc import Iterator

import pytest
from django.test import Client

from openhotline.cases.models import Case
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import CaptureState, ItemState
from tests.evidence.netfixtures import ALLOWED_NET, FakeDNS, HTTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_host(settings) -> Iterator[HTTPServer]:
    with FakeDNS() as dns, HTTPServer("127.77.8.1") as server:
        dns.add("many.test", "127.77.8.1")
        settings.DNS_SERVERS = [dns.endpoint]
        settings.FETCH_ALLOW_NETS = [ALLOWED_NET]
        settings.FETCH_TOTAL_TIMEOUT = 5
        yield server


def captured(server: HTTPServer, html: str) -> Case:
    server.routes["/page"] = lambda h: h.reply(200, html.encode(), {"Content-Type": "text/html"})
    url = f"http://many.test:{server.port}/page"
    response = Client().post(
        "/api/v1/reports", json.dumps({"urls": [url]}), content_type="application/json"
    )
    case = Case.objects.get(report_items__report__reference=response.json()["reference"])
    run_capture(case.captures.get().pk)
    return case


def test_a_page_listing_thousands_of_images_costs_a_bounded_number_of_rows(
    page_host: HTTPServer, settings
) -> None:
    settings.CAPTURE_MAX_MEDIA = 3
    html = "".join(f'<img src="/i/{n}.jpg">' for n in range(5000))
    capture = captured(page_host, html).captures.get()
    assert capture.state == CaptureState.DONE
    assert capture.items.count() == 6
    assert capture.items.filter(state=ItemState.SKIPPED).count() == 3
    assert "4,994 more media addresses on the page were not recorded" in capture.problem


def test_a_page_the_media_search_could_not_finish_says_so(page_host: HTTPServer, settings) -> None:
    settings.EXTRACT_MAX_CHARS = 1000
    html = '<img src="/a.jpg">' + " " * 5000 + '<img src="/b.jpg">'
    capture = captured(page_host, html).captures.get()
    assert capture.state == CaptureState.DONE
    assert [i.url.rsplit("/", 1)[-1] for i in capture.items.all()] == ["a.jpg"]
    assert "only the first 1,000 characters of the page were searched" in capture.problem
