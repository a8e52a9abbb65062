"""Envelope encryption of evidence: a fresh AES-256-GCM data key per blob, wrapped by a
key-encryption key derived from the master key. Tampering fails authentication loudly."""

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_BLOB_VERSION = b"\x01"


class TamperedEvidence(Exception):
    """The sealed bytes or their wrapped key do not authenticate: altered or wrong key."""


class MasterKey:
    """A key-encryption key derived from a master key; `key_id` tells keys apart."""

    def __init__(self, master_b64: str) -> None:
        master = base64.b64decode(master_b64)
        self._kek = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"evidence-key-wrapping"
        ).derive(master)
        self.key_id = hashlib.sha256(b"key-id" + self._kek).hexdigest()[:16]

    def wrap(self, data_key: bytes, *, blob_name: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self._kek).encrypt(nonce, data_key, blob_name.encode())

    def unwrap(self, wrapped: bytes, *, blob_name: str) -> bytes:
        try:
            return AESGCM(self._kek).decrypt(wrapped[:12], wrapped[12:], blob_name.encode())
        except InvalidTag:
            raise TamperedEvidence(
                f"the key of blob {blob_name[:12]}… does not authenticate"
            ) from None


def current_master() -> MasterKey:
    if not settings.MASTER_KEY:
        raise ImproperlyConfigured("OPENHOTLINE_MASTER_KEY is not set")
    return MasterKey(settings.MASTER_KEY)


def master_for(key_id: str) -> MasterKey:
    for candidate in (settings.MASTER_KEY, settings.PREVIOUS_MASTER_KEY):
        if candidate:
            key = MasterKey(candidate)
            if key.key_id == key_id:
                return key
    raise TamperedEvidence(
        f"no configured master key has id {key_id}; set OPENHOTLINE_PREVIOUS_MASTER_KEY "
        "to the key used before the last rotation"
    )


def blob_name(plaintext: bytes) -> str:
    if not settings.STORAGE_KEY:
        raise ImproperlyConfigured("OPENHOTLINE_STORAGE_KEY is not set")
    return hmac.new(settings.STORAGE_KEY.encode(), plaintext, hashlib.sha256).hexdigest()


def seal(plaintext: bytes, *, name: str) -> tuple[bytes, bytes]:
    """(ciphertext for storage, data key) — the caller wraps and stores the key."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    sealed = _BLOB_VERSION + nonce + AESGCM(data_key).encrypt(nonce, plaintext, name.encode())
    return sealed, data_key


def unseal(sealed: bytes, data_key: bytes, *, name: str) -> bytes:
    if sealed[:1] != _BLOB_VERSION:
        raise TamperedEvidence(f"blob {name[:12]}… has an unknown format")
    try:
        return AESGCM(data_key).decrypt(sealed[1:13], sealed[13:], name.encode())
    except InvalidTag:
        raise TamperedEvidence(f"blob {name[:12]}… does not authenticate: altered") from None
