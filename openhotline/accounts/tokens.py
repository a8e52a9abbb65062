"""Issuing, checking and revoking API tokens."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from openhotline.accounts.models import ApiToken, User
from openhotline.audit.services import record

PREFIX = "oht_"
_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, *, name: str = "", expires_at: datetime | None = None) -> IssuedToken:
    token_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, token_id=token_id, digest=_digest(secret), name=name, expires_at=expires_at
    )
    record("api_token.issued", actor=None, obj=token, data={"user": user.username, "name": name})
    return IssuedToken(token=token, plaintext=f"{PREFIX}{token_id}_{secret}")


def check_token(plaintext: str) -> ApiToken | None:
    """The usable token that `plaintext` spells, or None. Constant-time on the secret."""
    if not plaintext.startswith(PREFIX):
        return None
    token_id, sep, secret = plaintext.removeprefix(PREFIX).partition("_")
    if not sep or not token_id or not secret:
        return None
    token = ApiToken.objects.select_related("user").filter(token_id=token_id).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    if not token.is_usable():
        return None
    return token


def revoke_token(token_id: str) -> ApiToken:
    token = ApiToken.objects.get(token_id=token_id.removeprefix(PREFIX).partition("_")[0])
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record("api_token.revoked", actor=None, obj=token, data={"user": token.user.username})
    return token
