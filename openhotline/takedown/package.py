"""Intelligence packages for police (a `.onion` host has no one to notify): the case's
metadata, standing grades, hashes and traces in a zip, signed with Ed25519. Never media.

Signed with the hotline's signing key (`core.signing_keys`, the key that signs feeds;
before a dedicated key is set, the key derived from the master key for this purpose). The
public key travels in the package and its fingerprint in the covering e-mail, which police
can compare with the one the hotline publishes to them; during a rollover `verify` takes
the published file of keys. The signed document names its format, so a signed feed
manifest can never pass for a package.
"""

import base64
import hashlib
import io
import json
import zipfile
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from openhotline.assessment.standing import (
    criminal_decision,
    final_grades,
    standing_criminal_grades,
)
from openhotline.cases.models import Case
from openhotline.core import signing_keys
from openhotline.evidence import store
from openhotline.evidence.models import Media
from openhotline.signals.services import hashes_by_media

# Before a dedicated signing key, packages signed with this key derived from the master key.
PURPOSE = "intelligence-package-signing"
FORMAT = "openhotline-intelligence-package/1"


def signing_key() -> Ed25519PrivateKey:
    return signing_keys.current(PURPOSE)


def public_key_pem() -> bytes:
    """The key that signs packages now (the one put in each package)."""
    return signing_keys.public_pem(signing_key().public_key())


def published_pem() -> bytes:
    """Every key police should accept now: the signing one, and during a rollover the
    next or previous one, each after a line with its key id."""
    return signing_keys.bundle(PURPOSE)


def fingerprint() -> str:
    return signing_keys.fingerprint(signing_key().public_key())


def contents(case: Case) -> dict[str, Any]:
    decision = criminal_decision(case)
    grades = list(final_grades(decision).values()) if decision is not None else []
    hashes = hashes_by_media(g.media_id for g in grades)
    return {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "key_id": signing_keys.key_id(signing_key().public_key()),
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
    ids = [g.media_id for g in standing_criminal_grades(case)]
    found = []
    for media in Media.objects.filter(pk__in=ids).select_related("blob"):
        data = store.get(media.blob)
        found.append((f"{hashlib.sha256(data).hexdigest()}.{media.format.lower() or 'bin'}", data))
    return found


def verify(data: bytes, public_key_pem_bytes: bytes) -> dict[str, Any]:
    """The package's contents if its signature holds under the given key (or one of the
    keys of a published file); else ValueError."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("package.json")
        signature = base64.b64decode(archive.read("package.json.sig"))
    for key in signing_keys.public_keys_in(public_key_pem_bytes):
        try:
            key.verify(signature, document)
            break
        except InvalidSignature:
            continue
    else:
        raise ValueError("the package's signature does not verify")
    loaded = json.loads(document)
    # The same key signs feed manifests: only a document that says it is a package is one.
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        raise ValueError("the signed document is not an intelligence package")
    return loaded
