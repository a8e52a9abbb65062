"""The signals app's interface: hash media as it is captured. Safe to call twice."""

import hashlib
from collections.abc import Iterable

from openhotline.signals.models import MediaHash
from openhotline.signals.types import ComputeResult, compute_all


def lookup_key(value: str) -> str:
    return value if len(value) <= 64 else hashlib.sha256(value.encode()).hexdigest()


def hashes_by_media(
    media_ids: Iterable[int], types: Iterable[str] | None = None
) -> dict[int, dict[str, str]]:
    """{media id: {hash type: value}} of the computed hashes (failed ones left out)."""
    rows = MediaHash.objects.filter(media_id__in=list(media_ids)).exclude(value="")
    if types is not None:
        rows = rows.filter(hash_type__in=list(types))
    found: dict[int, dict[str, str]] = {}
    for media_id, hash_type, value in rows.values_list("media_id", "hash_type", "value"):
        found.setdefault(media_id, {})[hash_type] = value
    return found


def hash_media(media_id: int, data: bytes, kind: str) -> list[MediaHash]:
    """Compute every hash type that applies to the media and store them (failures too,
    with their reason), skipping types it already has."""
    return store_hashes(
        media_id, compute_all(data, kind if kind in ("image", "video") else "other")
    )


def store_hashes(media_id: int, result: ComputeResult) -> list[MediaHash]:
    """Store hashes computed here or in the decoding worker, each failure with its reason;
    types the media already has are kept as they are."""
    rows = [
        MediaHash(
            media_id=media_id, hash_type=value.hash_type, value=value.value,
            lookup_key=lookup_key(value.value), quality=value.quality,
            usable_for_matching=value.usable_for_matching, note=value.note[:500],
        )
        for value in result.values
    ] + [
        MediaHash(media_id=media_id, hash_type=name, usable_for_matching=False,
                  note=f"not computed: {reason}"[:500])
        for name, reason in result.failures.items()
    ]  # fmt: skip
    MediaHash.objects.bulk_create(rows, ignore_conflicts=True)
    return rows
