"""Intelligence packages for police (a `.onion` host has no one to notify): the case's
metadata, standing grades, hashes and traces in a zip, signed with Ed25519. Never media.

The signing key is derived from the master key (HKDF, its own purpose), so no new secret
is needed; the public key travels in the package and its fingerprint in the covering
e-mail, which police can compare with the one the hotline publishes to them.
"""

import base64
import hashlib
import io
import json
import zipfile
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils import timezone

from openhotline.cases.models import Case
from openhotline.core.secretbox import derived_key

PURPOSE = "intelligence-package-signing"


def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(derived_key(PURPOSE))


def public_key_pem() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def fingerprint() -> str:
    raw = (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return hashlib.sha256(raw).hexdigest()


def contents(case: Case) -> dict[str, Any]:
    from openhotline.assessment.decisions import criminal_decision, final_grades
    from openhotline.signals.services import hashes_by_media

    decision = criminal_decision(case)
    grades = list(final_grades(decision).values()) if decision is not None else []
    hashes = hashes_by_media(g.media_id for g in grades)
    return {
        "format": "openhotline-intelligence-package/1",
        "generated_at": timezone.now().isoformat(),
        "case": {
            "id": case.pk,
            "url": case.url,
            "host": case.host,
            "opened": case.created_at.isoformat(),
            "reports": case.report_count,
        },
        "decision": None
        if decision is None
        else {
            "decided_at": decision.decided_at.isoformat(),
            "law": decision.mapping,
            "site_type": decision.site_type,
            "commercial": decision.commercial,
            "notes": decision.notes,
        },
        "media": [
            {
                "grade": g.grade,
                "uk_category": g.uk_category,
                "interpol_baseline": g.interpol_baseline,
                "vics_category": g.vics_category,
                "age_band": g.age_band,
                "children": g.children,
                "flags": [
                    f
                    for f in (
                        "self_generated",
                        "sextortion",
                        "ai_generated",
                        "non_photographic",
                        "collage",
                    )
                    if getattr(g, f)
                ],
                "hashes": hashes.get(g.media_id, {}),
            }
            for g in grades
        ],
        "traces": [
            {
                "at": t.at.isoformat(),
                "cnames": t.cnames,
                "addresses": t.addresses,
                "dns_error": t.dns_error,
            }
            for t in case.traces.all()
        ],
    }


def build(case: Case, *, with_media: bool = False) -> bytes:
    """The zip: package.json, package.json.sig (base64 Ed25519), public_key.pem — and,
    only when a police liaison downloads it (audited by the caller), the criminal media
    under media/<sha256>, made in memory and never written to disk."""
    document = json.dumps(contents(case), indent=2, sort_keys=True).encode()
    signature = base64.b64encode(signing_key().sign(document))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("package.json", document)
        archive.writestr("package.json.sig", signature)
        archive.writestr("public_key.pem", public_key_pem())
        if with_media:
            for name, data in _criminal_media(case):
                archive.writestr(f"media/{name}", data)
    return out.getvalue()


def _criminal_media(case: Case) -> list[tuple[str, bytes]]:
    from openhotline.assessment.decisions import standing_criminal_grades
    from openhotline.evidence import store
    from openhotline.evidence.models import Media

    ids = [g.media_id for g in standing_criminal_grades(case)]
    found = []
    for media in Media.objects.filter(pk__in=ids).select_related("blob"):
        data = store.get(media.blob)
        found.append((f"{hashlib.sha256(data).hexdigest()}.{media.format.lower() or 'bin'}", data))
    return found


def verify(data: bytes, public_key_pem_bytes: bytes) -> dict[str, Any]:
    """The package's contents if its signature holds under the given key; else ValueError."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("package.json")
        signature = base64.b64decode(archive.read("package.json.sig"))
    key = serialization.load_pem_public_key(public_key_pem_bytes)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    try:
        key.verify(signature, document)
    except InvalidSignature:
        raise ValueError("the package's signature does not verify") from None
    loaded: dict[str, Any] = json.loads(document)
    return loaded
