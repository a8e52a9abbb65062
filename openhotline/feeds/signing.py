"""Signed manifests for feed downloads: what a file is (feed, kind, sequence range,
count, format, SHA-256 of the bytes) signed with Ed25519. The key is derived from the
master key for this purpose alone; its public half is published at
/.well-known/openhotline-feed-key.pem, and `openhotline verify-feed` checks a download."""

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openhotline.core.secretbox import derived_key

PURPOSE = "feed-manifest-signing"


def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(derived_key(PURPOSE))


def public_key_pem() -> bytes:
    return (
        _key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def manifest(body: bytes, **fields: Any) -> dict[str, Any]:
    """The signed manifest of `body` (the bytes exactly as served, gzip or not)."""
    return manifest_of(hashlib.sha256(body).hexdigest(), len(body), **fields)


def manifest_of(sha256: str, size: int, **fields: Any) -> dict[str, Any]:
    """The signed manifest of a file already hashed while it was written."""
    signed = {**fields, "sha256": sha256, "bytes": size}
    signature = base64.b64encode(_key().sign(_canonical(signed))).decode()
    return {**signed, "signature": signature, "algorithm": "ed25519"}


class NotVerified(ValueError):
    """The download does not match its manifest, or the manifest is not signed by the key."""


def verify(body: bytes, signed_manifest: dict[str, Any], public_pem: bytes) -> dict[str, Any]:
    return verify_digest(hashlib.sha256(body).hexdigest(), len(body), signed_manifest, public_pem)


def verify_file(path: Any, signed_manifest: dict[str, Any], public_pem: bytes) -> dict[str, Any]:
    """`verify` for a file on disk, read in pieces: a ten-million-entry download is
    checked in constant memory."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return verify_digest(digest.hexdigest(), size, signed_manifest, public_pem)


def verify_digest(
    sha256: str, size: int, signed_manifest: dict[str, Any], public_pem: bytes
) -> dict[str, Any]:
    fields = {k: v for k, v in signed_manifest.items() if k not in ("signature", "algorithm")}
    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise NotVerified("the key is not an Ed25519 public key")
    try:
        key.verify(base64.b64decode(signed_manifest.get("signature", "")), _canonical(fields))
    except (InvalidSignature, ValueError):
        raise NotVerified("the manifest's signature does not verify with this key") from None
    served = (fields.get("sha256"), fields.get("bytes"))
    # A gzipped download may be checked as served or as decoded (HTTP clients that
    # decompress on their own hand over the decoded bytes).
    decoded = (fields.get("content_sha256"), fields.get("content_bytes"))
    if (sha256, size) not in (served, decoded):
        raise NotVerified("the file does not match its manifest (changed or cut short)")
    return fields
