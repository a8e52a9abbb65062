"""Member API keys: issued once in plaintext, stored as digests, checked in constant time;
and the one door every member request goes through (`member_for`), which answers with a
clear JSON problem: 401 for a missing, unknown, revoked or expired key, 403 for a feed
outside the key's scope or the organisation's licence, or a client outside the key's
networks."""

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openhotline.core.client_address import client_address
from openhotline.feeds.models import Licence, MemberKey, Membership

PREFIX = "ohk_"
_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after, self.errors = retry_after, errors


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key: MemberKey
    plaintext: str


def issue_key(
    organisation: Any,
    *,
    feeds: list[str],
    can_match: bool = False,
    name: str = "",
    expires_at: datetime | None = None,
    allowed_networks: list[str] | None = None,
) -> IssuedKey:
    for cidr in allowed_networks or []:
        ipaddress.ip_network(cidr, strict=False)  # raises ValueError with the reason
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    key = MemberKey.objects.create(
        organisation=organisation, key_id=key_id, digest=_digest(secret), name=name,
        feeds=list(feeds), can_match=can_match, expires_at=expires_at,
        allowed_networks=list(allowed_networks or []),
    )  # fmt: skip
    return IssuedKey(key, f"{PREFIX}{key_id}_{secret}")


def member_for(request: HttpRequest, *, feed: str | None = None, match: bool = False) -> MemberKey:
    header = request.headers.get("Authorization", "")
    scheme, _, plaintext = header.partition(" ")
    if scheme.lower() != "bearer" or not plaintext.startswith(PREFIX):
        raise Problem(401, "no_key", "Send your API key as 'Authorization: Bearer ohk_…'.")
    key_id, sep, secret = plaintext.removeprefix(PREFIX).partition("_")
    key = MemberKey.objects.select_related("organisation").filter(key_id=key_id).first()
    if not sep or key is None or not hmac.compare_digest(key.digest, _digest(secret)):
        raise Problem(401, "bad_key", "This API key is not known.")
    now = timezone.now()
    if key.revoked_at is not None:
        raise Problem(401, "revoked", "This API key has been revoked.")
    if key.expires_at is not None and key.expires_at <= now:
        raise Problem(401, "expired", "This API key has expired.")
    if key.allowed_networks and not _allowed(client_address(request), key.allowed_networks):
        raise Problem(403, "network", "This API key may not be used from your address.")
    if feed is not None:
        if feed not in key.feeds:
            raise Problem(403, "scope", f"This API key is not for the {feed} feed.")
        licence = Licence.objects.filter(organisation=key.organisation, feed=feed).first()
        if licence is None or (licence.valid_until and licence.valid_until < now.date()):
            raise Problem(403, "licence", f"Your organisation has no licence for {feed}.")
    if match and not key.can_match:
        raise Problem(403, "scope", "This API key is not for the matching API.")
    if match and not Membership.objects.filter(organisation=key.organisation, can_match=True):
        raise Problem(403, "licence", "Your organisation has not been given the matching API.")
    MemberKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def licence_of(key: MemberKey, feed: str) -> Licence | None:
    """The key's organisation's licence for `feed`, if it holds one still valid."""
    licence = Licence.objects.filter(organisation=key.organisation, feed=feed).first()
    if licence is not None and licence.valid_until and licence.valid_until < timezone.now().date():
        return None
    return licence


def _allowed(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack listener's view of an IPv4 client
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
