"""The hotline's Ed25519 signing keys: feed manifests and intelligence packages.

One secret of their own, `OPENHOTLINE_SIGNING_KEY` (base64 of the raw 32-byte private key,
or a PEM private key), so rotating the master key never changes the public key members and
police have pinned. Rollover with overlap: `OPENHOTLINE_SIGNING_KEY_NEXT` is published
(never used to sign) until members have pinned it, then becomes the signing key, and the
old one may stay published as `OPENHOTLINE_SIGNING_KEY_PREVIOUS` so older downloads and
packages still verify. Each key is named by its key id: the first 16 hex digits of the
SHA-256 of its raw public key.

Without a signing key, deployments made before it existed keep the key each purpose
derived from the master key (a system check warns: a master-key rotation would change it).
"""

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from openhotline.core.secretbox import derived_key

ROLES = (("current", "SIGNING_KEY"), ("next", "SIGNING_KEY_NEXT"),
         ("previous", "SIGNING_KEY_PREVIOUS"))  # fmt: skip


class BadSigningKey(ValueError):
    pass


@lru_cache(maxsize=8)
def parse_private(value: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from base64 of its 32 raw bytes, or from PEM (PKCS#8)."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise BadSigningKey(f"not a readable unencrypted PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise BadSigningKey("the PEM key is not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadSigningKey("neither PEM nor valid base64") from None
    if len(raw) != 32:
        raise BadSigningKey(f"{len(raw)} bytes instead of 32")
    return Ed25519PrivateKey.from_private_bytes(raw)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class PublishedKey:
    role: str  # current, next or previous
    public: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id(self.public)


def current(fallback_purpose: str) -> Ed25519PrivateKey:
    """The key that signs now: the dedicated one, else the one `fallback_purpose` derived
    from the master key (what this purpose signed with before the dedicated key)."""
    value = settings.SIGNING_KEY
    if value:
        return parse_private(value)
    return Ed25519PrivateKey.from_private_bytes(derived_key(fallback_purpose))


def published(fallback_purpose: str) -> list[PublishedKey]:
    """Every key a verifier should accept now, the signing one first."""
    keys = [PublishedKey("current", current(fallback_purpose).public_key())]
    for role, name in ROLES[1:]:
        value = getattr(settings, name)
        if value:
            keys.append(PublishedKey(role, parse_private(value).public_key()))
    unique: dict[str, PublishedKey] = {}
    for key in keys:
        unique.setdefault(key.key_id, key)
    return list(unique.values())


def bundle(fallback_purpose: str) -> bytes:
    """The published keys as one PEM file, each after a line naming its id and role (text
    outside PEM blocks is ignored by PEM readers, and the signing key comes first, so a
    reader that takes one key takes the one that signs)."""
    return b"".join(
        f"Key id: {k.key_id} ({k.role})\n".encode() + public_pem(k.public)
        for k in published(fallback_purpose)
    )


def public_keys_in(pem: bytes) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key in a PEM file (one, or a published bundle)."""
    keys = []
    marker = b"-----END PUBLIC KEY-----"
    for block in pem.split(marker)[:-1]:
        start = block.find(b"-----BEGIN PUBLIC KEY-----")
        if start < 0:
            continue
        key = serialization.load_pem_public_key(block[start:] + marker)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the key is not an Ed25519 public key")
        keys.append(key)
    if not keys:
        raise ValueError("no PEM public key found")
    return keys


@register()
def check_signing_keys(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for _role, name in ROLES:
        value = getattr(settings, name)
        if not value:
            continue
        try:
            parse_private(value)
        except BadSigningKey as exc:
            messages.append(Error(
                f"OPENHOTLINE_{name} is malformed: {exc}.",
                hint="Base64 of a raw 32-byte Ed25519 private key, or a PEM private key; "
                "`openhotline generate-secrets DIR` makes one.", id="openhotline.E020",
            ))  # fmt: skip
    if not settings.SIGNING_KEY:
        messages.append(Warning(
            "OPENHOTLINE_SIGNING_KEY is not set: feeds and intelligence packages are signed "
            "with keys derived from the master key, which change when it is rotated.",
            hint="Give signing its own key: set the new key as OPENHOTLINE_SIGNING_KEY_NEXT, "
            "let members and police pin it, then make it OPENHOTLINE_SIGNING_KEY (see the "
            "README, 'Signing keys').", id="openhotline.W020",
        ))  # fmt: skip
    return messages
