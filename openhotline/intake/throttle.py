"""Throttling anonymous reporters without storing who they are.

A client is known only as HMAC(daily random salt, address): the salt lives only in the
cache and expires, so yesterday's digests cannot be linked to today's or reversed later,
and no address is stored — the cache holds only digests and counters.
"""

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from django.core.cache import cache
from django.http import HttpRequest

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
    # A random salt per day, kept only in the cache and gone within two days: even with
    # every secret of the platform, yesterday's digests cannot be tested against addresses.
    salt = cache.get_or_set(f"throttle-salt:{day}", lambda: secrets.token_hex(32), 2 * 86400)
    return hmac.new(
        str(salt).encode(), client_address(request).encode(), hashlib.sha256
    ).hexdigest()[:32]


def seconds_until_allowed(request: HttpRequest, scope: str, rate: str) -> int:
    """0 and the attempt is counted, or how long to wait (fixed windows)."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    key = f"throttle:{scope}:{window}:{client_digest(request)}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=period + 5)
        count = 1
    if count <= limit:
        return 0
    return int((window + 1) * period - time.time()) + 1
