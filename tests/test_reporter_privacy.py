"""Anonymous reporters stay anonymous: their address is stored nowhere."""

import json

import pytest
from django.apps import apps
from django.core import serializers
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db

ADDRESS = "127.0.0.213"
FORWARDED = "198.51.100.77"


def everything_stored() -> str:
    dumps = [serializers.serialize("json", m._default_manager.all()) for m in apps.get_models()]
    return "\n".join(dumps)


def test_no_reporter_address_is_stored_in_the_database_or_cache(settings) -> None:
    settings.TRUSTED_PROXIES = []
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_X_FORWARDED_FOR=FORWARDED)
    assert client.post("/report/", {"urls": "http://privacy.test/a"}).status_code == 302
    api = client.post(
        "/api/v1/reports",
        json.dumps({"urls": ["http://privacy.test/b"], "contact": "me@example.org"}),
        content_type="application/json",
    )
    assert api.status_code == 201
    stored = everything_stored()
    assert "privacy.test" in stored  # the dump does see the reports
    assert ADDRESS not in stored and FORWARDED not in stored
    assert "me@example.org" not in stored  # sealed
    cached = repr(getattr(cache, "_cache", {}))
    assert "throttle:report" in cached  # the throttle did count…
    assert ADDRESS not in cached and FORWARDED not in cached  # …by digest only


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(settings) -> None:
    import ipaddress

    from openhotline.intake.throttle import client_digest

    def digest(remote: str, forwarded: str) -> str:
        request = Client().get("/").wsgi_request
        request.META.update(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
        return client_digest(request)

    settings.TRUSTED_PROXIES = []
    assert digest("127.0.0.1", "198.51.100.1") == digest("127.0.0.1", "198.51.100.2")
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.0/8")]
    assert digest("127.0.0.1", "198.51.100.1") != digest("127.0.0.1", "198.51.100.2")
    # A client cannot spoof its way out by prepending addresses: the rightmost untrusted
    # hop is the one that counts.
    assert digest("127.0.0.1", "203.0.113.9, 198.51.100.1") == digest("127.0.0.1", "198.51.100.1")
