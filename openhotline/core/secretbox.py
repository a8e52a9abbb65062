"""Authenticated encryption of small secrets (reporter contact details) under the master key.

AES-256-GCM with a key derived from the master key for one purpose (HKDF), so a key used
for contacts is never the key used for evidence. Layout: version byte, 12-byte nonce,
ciphertext with tag.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_VERSION = b"\x01"


def _key(purpose: str, master_b64: str | None = None) -> bytes:
    master_b64 = master_b64 or settings.MASTER_KEY
    if not master_b64:
        raise ImproperlyConfigured("OPENHOTLINE_MASTER_KEY is not set")
    master = base64.b64decode(master_b64)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )


def seal(plaintext: str, *, purpose: str) -> bytes:
    nonce = os.urandom(12)
    box = AESGCM(_key(purpose)).encrypt(nonce, plaintext.encode(), _VERSION + purpose.encode())
    return _VERSION + nonce + box


def open_sealed(sealed: bytes, *, purpose: str) -> str:
    """Open with the current master key, or the previous one during a rotation."""
    if sealed[:1] != _VERSION:
        raise ValueError("unknown sealed-box version")
    nonce, box = sealed[1:13], sealed[13:]
    keys = [settings.MASTER_KEY, settings.PREVIOUS_MASTER_KEY]
    for master in [k for k in keys if k]:
        try:
            return (
                AESGCM(_key(purpose, master))
                .decrypt(nonce, box, _VERSION + purpose.encode())
                .decode()
            )
        except InvalidTag:
            continue
    raise InvalidTag("sealed box does not open with the configured master keys")


def sealed_with_current(sealed: bytes, *, purpose: str) -> bool:
    try:
        AESGCM(_key(purpose)).decrypt(sealed[1:13], sealed[13:], _VERSION + purpose.encode())
    except InvalidTag:
        return False
    return True


def derived_key(purpose: str) -> bytes:
    """32 bytes derived from the current master key for one purpose (e.g. a signing key)."""
    return _key(purpose)
