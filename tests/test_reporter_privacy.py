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

    from openhotline.core.throttle import client_digest

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


def _cache_contents() -> tuple[list[str], list[str]]:
    """What a reader of the cache sees (the local-memory cache stands in for Redis)."""
    keys = [str(key) for key in getattr(cache, "_cache", {})]
    values = [cache.get(key.split(":", 2)[2]) for key in keys]  # ":1:name" → "name"
    return keys, [str(value) for value in values]


def test_a_reader_of_the_cache_cannot_test_addresses_against_its_digests(settings) -> None:
    import hashlib
    import hmac

    from openhotline.core.throttle import client_digest

    settings.TRUSTED_PROXIES = []
    client = Client(REMOTE_ADDR=ADDRESS)
    assert client.post("/report/", {"urls": "http://salt.test/a"}).status_code == 302
    keys, values = _cache_contents()
    counted = [key for key in keys if "throttle:report" in key]
    assert len(counted) == 1
    # Try every value the cache holds as the digest's key, as an attacker who knows the
    # code would: none makes the digest of the reporter's address.
    for candidate in values + keys:
        guess = hmac.new(candidate.encode(), ADDRESS.encode(), hashlib.sha256).hexdigest()[:32]
        assert guess not in counted[0]
    # The same code and the same cache, without the platform's secret, makes other digests.
    request = Client().get("/").wsgi_request
    request.META["REMOTE_ADDR"] = ADDRESS
    assert client_digest(request) in counted[0]
    settings.SECRET_KEY = "someone-who-read-the-cache-" + "x" * 30
    assert client_digest(request) not in counted[0]


def test_the_days_random_half_expires_and_takes_its_digests_with_it(settings) -> None:
    import time
    from datetime import UTC, datetime, timedelta
    from unittest import mock

    from openhotline.core import throttle

    settings.TRUSTED_PROXIES = []
    request = Client().get("/").wsgi_request
    request.META["REMOTE_ADDR"] = ADDRESS
    today = throttle.client_digest(request)
    day_key = f"throttle-day:{datetime.now(UTC):%Y-%m-%d}"
    expires_in = cache._expire_info[cache.make_key(day_key)] - time.time()  # type: ignore[attr-defined]
    assert 0 < expires_in <= 2 * 86400
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with mock.patch.object(throttle, "datetime", wraps=datetime) as clock:
        clock.now.return_value = tomorrow
        assert throttle.client_digest(request) != today  # not linkable across days
    cache.delete(day_key)  # what expiry does
    assert throttle.client_digest(request) != today  # and not remade once it is gone
