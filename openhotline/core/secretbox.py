"""Authenticated encryption of small secrets (reporter contact details) under the master key.

AES-256-GCM with a key derived from the master key for one purpose (HKDF), so a key used
for contacts is never the key used for evidence. Layout: version byte, 12-byte nonce,
ciphertext with tag.
"""

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_VERSION = b"\x01"


def _key(purpose: str) -> bytes:
    if not settings.MASTER_KEY:
        raise ImproperlyConfigured("OPENHOTLINE_MASTER_KEY is not set")
    master = base64.b64decode(settings.MASTER_KEY)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )


def seal(plaintext: str, *, purpose: str) -> bytes:
    nonce = os.urandom(12)
    box = AESGCM(_key(purpose)).encrypt(nonce, plaintext.encode(), _VERSION + purpose.encode())
    return _VERSION + nonce + box


def open_sealed(sealed: bytes, *, purpose: str) -> str:
    if sealed[:1] != _VERSION:
        raise ValueError("unknown sealed-box version")
    nonce, box = sealed[1:13], sealed[13:]
    return AESGCM(_key(purpose)).decrypt(nonce, box, _VERSION + purpose.encode()).decode()
