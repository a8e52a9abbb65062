"""Throttling anonymous reporters without storing who they are.

A client is known only as HMAC(today's key, address), and today's key is made from two
halves kept apart: a random value of the UTC day, which lives only in the cache and
expires within two days, and the platform's SECRET_KEY, which never enters the cache.
So a reader of the cache (Redis is often shared, or run without a password) holds
digests and the day's value but not the key, and cannot test addresses against the
digests; and once the day's value has expired, nobody can, even with every secret.
No address is stored: the cache holds only digests and counters.
"""

import secrets
import time
from datetime import UTC, datetime

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from openhotline.core.client_address import client_address

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'60/hour' → (60, 3600)."""
    count, _, period = rate.partition("/")
    try:
        return int(count), _PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ValueError(f"bad rate {rate!r}; use e.g. 60/hour") from None


def client_digest(request: HttpRequest) -> str:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    # The day's random half, gone from the cache within two days (see the docstring).
    day_value = cache.get_or_set(f"throttle-day:{day}", lambda: secrets.token_hex(32), 2 * 86400)
    # Django's salted_hmac keys the HMAC with SHA-256(key_salt + SECRET_KEY).
    digest = salted_hmac(
        f"openhotline.intake.throttle:{day_value}", client_address(request), algorithm="sha256"
    )
    return digest.hexdigest()[:32]


def seconds_until_allowed(request: HttpRequest, scope: str, rate: str) -> int:
    """0 and the anonymous client's attempt is counted, or how long to wait."""
    return seconds_until_counted(scope, client_digest(request), rate)


def seconds_until_counted(scope: str, identity: str, rate: str) -> int:
    """0 and the attempt of `identity` (a digest, or "user-<id>" for staff) is counted,
    or how long to wait (fixed windows)."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    key = f"throttle:{scope}:{window}:{identity}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=period + 5)
        count = 1
    if count <= limit:
        return 0
    return int((window + 1) * period - time.time()) + 1
