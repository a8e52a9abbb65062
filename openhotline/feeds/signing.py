"""Signed manifests for feed downloads: what a file is (feed, kind, sequence range,
count, format, SHA-256 of the bytes) signed with Ed25519 by the hotline's signing key
(`core.signing_keys`; each manifest names it by `key_id`). The published keys are at
/.well-known/openhotline-feed-key.pem, and `openhotline verify-feed` checks a download.

What is served is signed again when it is served (`served`): the feed's head (its last
change and that change's tag) and the time, so a member's client can tell a replayed old
page from the hotline's word now. A refusal that tells a client to start again (`reset`)
is signed the same way."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from openhotline.core import signing_keys

# Before a dedicated signing key, feeds signed with this key derived from the master key.
PURPOSE = "feed-manifest-signing"
_ENVELOPE = ("signature", "algorithm", "key_id")
_SERVING = ("head_seq", "head_tag", "signed_at", "from_tag")


def public_key_pem() -> bytes:
    """Every published key (the signing one first), each after a line with its key id."""
    return signing_keys.bundle(PURPOSE)


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with the key id, signed (the key id is signed too)."""
    key = signing_keys.current(PURPOSE)
    signed = {**fields, "key_id": signing_keys.key_id(key.public_key())}
    signature = base64.b64encode(key.sign(_canonical(signed))).decode()
    return {**signed, "signature": signature, "algorithm": "ed25519"}


def manifest(body: bytes, **fields: Any) -> dict[str, Any]:
    """The signed manifest of `body` (the bytes exactly as served, gzip or not)."""
    return manifest_of(hashlib.sha256(body).hexdigest(), len(body), **fields)


def manifest_of(sha256: str, size: int, **fields: Any) -> dict[str, Any]:
    """The signed manifest of a file already hashed while it was written."""
    return sign({**fields, "sha256": sha256, "bytes": size})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def served(
    signed_manifest: dict[str, Any], *, head_seq: int, head_tag: str, from_tag: str = ""
) -> dict[str, Any]:
    """A manifest as it is served now: its fields, the feed's head, the tag of the cursor
    it starts from and the time, signed afresh (a stored file's manifest was signed when
    the file was made; replayed later, its time gives it away)."""
    fields = {k: v for k, v in signed_manifest.items() if k not in _ENVELOPE and k not in _SERVING}
    return sign({**fields, "from_tag": from_tag, "head_seq": head_seq, "head_tag": head_tag,
                 "signed_at": now()})  # fmt: skip


def reset(feed: str, cursor: str, tag: str, detail: str, *, head_seq: int, head_tag: str
          ) -> dict[str, Any]:  # fmt: skip
    """The signed word that `cursor` (with `tag`, as the client sent them) is not in this
    feed's history: the only refusal a client rebuilds its copy on."""
    return sign({
        "feed": feed, "kind": "reset", "cursor": cursor, "tag": tag, "detail": detail,
        "head_seq": head_seq, "head_tag": head_tag, "signed_at": now(),
    })  # fmt: skip


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


def verify_signed(signed: dict[str, Any], public_pem: bytes) -> dict[str, Any]:
    """The signed fields, if one of the keys in `public_pem` (one key or a published
    bundle) signed them; the manifest's key id picks the key."""
    fields = {k: v for k, v in signed.items() if k not in ("signature", "algorithm")}
    try:
        keys = signing_keys.public_keys_in(public_pem)
    except ValueError as exc:
        raise NotVerified(f"the key file holds no usable key ({exc})") from None
    named = [k for k in keys if signing_keys.key_id(k) == fields.get("key_id")]
    if not _signed_by(named or keys, signed.get("signature", ""), _canonical(fields)):
        raise NotVerified("the manifest's signature does not verify with this key")
    return fields


def _signed_by(keys: list[Ed25519PublicKey], signature: Any, message: bytes) -> bool:
    try:
        raw = base64.b64decode(signature)
    except (ValueError, TypeError):
        return False
    for key in keys:
        try:
            key.verify(raw, message)
            return True
        except InvalidSignature:
            continue
    return False


def verify_digest(
    sha256: str, size: int, signed_manifest: dict[str, Any], public_pem: bytes
) -> dict[str, Any]:
    fields = verify_signed(signed_manifest, public_pem)
    served_as = (fields.get("sha256"), fields.get("bytes"))
    # A gzipped download may be checked as served or as decoded (HTTP clients that
    # decompress on their own hand over the decoded bytes).
    decoded = (fields.get("content_sha256"), fields.get("content_bytes"))
    if (sha256, size) not in (served_as, decoded):
        raise NotVerified("the file does not match its manifest (changed or cut short)")
    return fields
