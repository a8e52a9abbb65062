"""Matching hashes against the enabled hash lists, and what a match means for a case.

`find_matches` only reads: it is what `openhotline match` and the capture both use.
Exact types (md5, sha1, sha256) go through the `entry_hash_lookup` index; PDQ through the
process's in-memory index (`pdq_store`); PhotoDNA and video hashes, which lists rarely
hold in bulk, are compared with every entry of their type. Every candidate is checked
against the database: entry not retired, list enabled, within that list's threshold,
and not cancelled by the list's allow-list.

`match_media` stores the matches of one captured media item as `Match` rows (safe to
repeat); `suggest_for_case` puts the most severe matched grade on the case and raises its
priority. Software suggests; the analyst confirms.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from openhotline.cases.models import Case, Priority
from openhotline.signals import pdq_store
from openhotline.signals.models import AllowedHash, EntryHash, HashList, ListEntry, Match, MediaHash
from openhotline.signals.pdq_index import codes_from_hex
from openhotline.signals.services import lookup_key
from openhotline.signals.types import HASH_TYPES, PDQ, PHOTODNA, HashValue

EXACT_TYPES = ("md5", "sha1", "sha256")
# vPDQ's rule asks for 80% of frames both ways: a distance of 100 - 80.
VIDEO_THRESHOLD = 20.0
_SCAN_CHUNK = 2000


@dataclass(frozen=True)
class Candidate:
    """A hash found in a list, with everything the "why" view shows."""

    entry: ListEntry
    hash_list: HashList
    hash_type: str
    distance: float
    threshold: float
    query_value: str
    entry_value: str
    allowed_by: AllowedHash | None

    @property
    def near_exact(self) -> bool:
        return near_exact(self.hash_type, self.distance)


def near_exact(hash_type: str, distance: float) -> bool:
    """Close enough that the entry's grade can stand without revealing the media."""
    if hash_type in EXACT_TYPES:
        return distance == 0
    if hash_type == "pdq":
        return distance <= settings.NEAR_EXACT_PDQ_DISTANCE
    if hash_type == "video":
        return distance <= 5
    return distance == 0


def threshold_for(hash_list: HashList, hash_type: str) -> float:
    if hash_type == "pdq":
        return float(hash_list.pdq_threshold)
    if hash_type == "photodna":
        if hash_list.photodna_threshold is not None:
            return hash_list.photodna_threshold
        return PHOTODNA.effective_threshold()
    if hash_type == "video":
        return VIDEO_THRESHOLD
    return 0.0


def find_matches(values: Iterable[HashValue]) -> list[Candidate]:
    """Every live entry of an enabled list that one of `values` matches."""
    found = [c for candidates in find_many(list(values)) for c in candidates]
    found.sort(key=lambda c: (c.allowed_by is not None, c.distance, -c.entry.severity, c.entry.pk))
    return found


def find_many(values: Sequence[HashValue]) -> list[list[Candidate]]:
    """`find_matches` for each of `values` in turn, in a few queries whatever their
    number: exact hashes by one indexed lookup per type, PDQ by one batch search of the
    index, and every candidate read back in one go."""
    hits: list[list[tuple[int, float]]] = [[] for _ in values]
    usable = [
        i for i, v in enumerate(values)
        if v.usable_for_matching and v.value and v.hash_type in HASH_TYPES
    ]  # fmt: skip
    for name in EXACT_TYPES:
        wanted: dict[str, list[int]] = {}
        for i in usable:
            if values[i].hash_type == name:
                wanted.setdefault(lookup_key(values[i].value), []).append(i)
        for keys in _chunks(list(wanted)):
            for pk, key in EntryHash.objects.filter(
                hash_type=name, lookup_key__in=keys
            ).values_list("pk", "lookup_key"):
                for i in wanted[key]:
                    hits[i].append((pk, 0.0))
    pdq_at = [i for i in usable if values[i].hash_type == "pdq"]
    if pdq_at:
        codes = codes_from_hex(PDQ.normalize(values[i].value) for i in pdq_at)
        radius = _widest_pdq_threshold()
        for i, found in zip(pdq_at, pdq_store.current().search_many(codes, radius), strict=True):
            hits[i].extend((int(pk), float(distance)) for pk, distance in found)
    photodna_at = [i for i in usable if values[i].hash_type == "photodna"]
    if photodna_at:
        found_pdna = _photodna_hits([values[i].value for i in photodna_at])
        for i, near in zip(photodna_at, found_pdna, strict=True):
            hits[i].extend(near)
    for i in usable:
        if values[i].hash_type not in (*EXACT_TYPES, "pdq", "photodna"):
            hits[i].extend(_scan(values[i].hash_type, values[i].value))
    rows: dict[int, EntryHash] = {}
    for pks in _chunks(sorted({pk for found in hits for pk, _ in found})):
        rows.update(
            (row.pk, row)
            for row in EntryHash.objects.filter(
                pk__in=pks, usable_for_matching=True, entry__retired_at=None,
                entry__hash_list__enabled=True,
            ).select_related("entry", "entry__hash_list")
        )  # fmt: skip
    allowed = _allow_lists({row.entry.hash_list_id for row in rows.values()})
    results: list[list[Candidate]] = []
    for value, value_hits in zip(values, hits, strict=True):
        candidates = []
        for pk, distance in value_hits:
            row = rows.get(pk)
            if row is None:
                continue
            hash_list = row.entry.hash_list
            limit = threshold_for(hash_list, value.hash_type)
            if distance > limit:
                continue
            candidates.append(Candidate(
                entry=row.entry, hash_list=hash_list, hash_type=value.hash_type,
                distance=distance, threshold=limit, query_value=value.value,
                entry_value=row.value,
                allowed_by=_allowed(allowed.get(hash_list.pk, []), value, limit),
            ))  # fmt: skip
        results.append(candidates)
    return results


def _chunks[T](items: list[T], size: int = 500) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _widest_pdq_threshold() -> int:
    widest = HashList.objects.filter(enabled=True).order_by("-pdq_threshold").first()
    return widest.pdq_threshold if widest is not None else 0


def _widest_photodna_threshold() -> float:
    own = HashList.objects.filter(enabled=True, photodna_threshold__isnull=False).order_by(
        "-photodna_threshold"
    )
    widest = own.values_list("photodna_threshold", flat=True).first()
    default = PHOTODNA.effective_threshold()
    return max(default, widest) if widest is not None else default


def _photodna_matrix(hashes: list[bytes]) -> "np.ndarray[Any, np.dtype[np.int32]]":
    raw = np.frombuffer(b"".join(hashes), dtype=np.uint8)
    return raw.reshape(len(hashes), -1).astype(np.int32)


def _photodna_hits(queries: list[str]) -> list[list[tuple[int, float]]]:
    """(EntryHash id, distance) within the widest threshold for each query: the stored
    hashes are read and decoded once per call, in chunks, and compared with every query
    at once (Euclidean distance over 144 bytes), not one query at a time."""
    wanted = _photodna_matrix([PHOTODNA.parse(q) for q in queries])
    limit = _widest_photodna_threshold()
    found: list[list[tuple[int, float]]] = [[] for _ in queries]
    rows = EntryHash.objects.filter(
        hash_type="photodna", usable_for_matching=True, entry__retired_at=None,
        entry__hash_list__enabled=True,
    ).values_list("pk", "value")  # fmt: skip
    chunk: list[tuple[int, str]] = []

    def compare() -> None:
        stored = _photodna_matrix([PHOTODNA.parse(v) for _, v in chunk])
        # |q - s|^2 = |q|^2 + |s|^2 - 2 q.s, for all pairs at once.
        squared = (
            (wanted**2).sum(axis=1)[:, None] + (stored**2).sum(axis=1)[None, :]
            - 2 * wanted @ stored.T
        )  # fmt: skip
        distance = np.sqrt(np.maximum(squared, 0))
        for qi, si in zip(*np.nonzero(distance <= limit), strict=True):
            found[qi].append((chunk[si][0], float(distance[qi, si])))
        chunk.clear()

    for row in rows.iterator(chunk_size=_SCAN_CHUNK):
        chunk.append(row)
        if len(chunk) >= _SCAN_CHUNK:
            compare()
    if chunk:
        compare()
    return found


def _scan(name: str, query: str) -> Iterator[tuple[int, float]]:
    """Brute force for the types without an index (PhotoDNA, video)."""
    hash_type = HASH_TYPES[name]
    parsed = hash_type.parse(query)
    widest = 100.0 if name == "video" else 3100.0
    rows = EntryHash.objects.filter(
        hash_type=name, usable_for_matching=True, entry__retired_at=None,
        entry__hash_list__enabled=True,
    ).values_list("pk", "value")  # fmt: skip
    for pk, stored in rows.iterator(chunk_size=_SCAN_CHUNK):
        distance = float(hash_type._distance(parsed, hash_type.parse(stored)))
        if distance <= widest:
            yield pk, distance


def _allow_lists(list_ids: set[int]) -> dict[int, list[AllowedHash]]:
    by_list: dict[int, list[AllowedHash]] = {}
    for row in AllowedHash.objects.filter(hash_list_id__in=list_ids).order_by("pk"):
        by_list.setdefault(row.hash_list_id, []).append(row)
    return by_list


def _allowed(rows: list[AllowedHash], value: HashValue, limit: float) -> AllowedHash | None:
    """The allow-list row (of the candidate's list) that cancels a match on `value`."""
    mine = [row for row in rows if row.hash_type == value.hash_type]
    if value.hash_type in EXACT_TYPES:
        key = lookup_key(value.value)
        return next((row for row in mine if row.lookup_key == key), None)
    hash_type = HASH_TYPES[value.hash_type]
    return next((row for row in mine if hash_type.distance(value.value, row.value) <= limit), None)


def media_values(media_id: int) -> list[HashValue]:
    return [
        HashValue(row.hash_type, row.value, quality=row.quality,
                  usable_for_matching=row.usable_for_matching)
        for row in MediaHash.objects.filter(media_id=media_id).exclude(value="")
    ]  # fmt: skip


def match_media(media_id: int) -> list[Match]:
    """Store the matches of a captured media item; repeating it adds only new ones."""
    return match_many([media_id])


def match_many(media_ids: Iterable[int]) -> list[Match]:
    """`match_media` for many items with one `find_many` (a few queries in all)."""
    values: list[HashValue] = []
    owners: list[int] = []
    for row in MediaHash.objects.filter(media_id__in=list(media_ids)).exclude(value=""):
        values.append(HashValue(row.hash_type, row.value, quality=row.quality,
                                usable_for_matching=row.usable_for_matching))  # fmt: skip
        owners.append(row.media_id)
    rows = [
        Match(
            media_id=media_id, entry=c.entry, hash_list=c.hash_list, hash_type=c.hash_type,
            distance=c.distance, threshold=c.threshold, media_value=c.query_value,
            entry_value=c.entry_value, near_exact=c.near_exact, allowed_by=c.allowed_by,
        )
        for media_id, candidates in zip(owners, find_many(values), strict=True)
        for c in candidates
    ]  # fmt: skip
    Match.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def suggest_for_case(case_id: int) -> None:
    """Put the most severe grade matched on the case's media on the case, and raise its
    priority: an identified victim's entry first, any known hash next."""
    matches = list(
        Match.objects.filter(
            Q(media__sightings__capture__case_id=case_id),
            allowed_by=None,
            entry__retired_at=None,
        )
        .select_related("entry")
        .distinct()
    )
    if not matches:
        return
    worst = max(matches, key=lambda m: (m.entry.severity, m.near_exact, -m.distance))
    priority = Priority.KNOWN_MATCH
    if any(m.entry.victim_identified for m in matches):
        priority = Priority.CONFIRMED_VICTIM
    media_count = len({m.media_id for m in matches})
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        case.suggested_grade = worst.entry.grade
        case.suggested_uk_category = worst.entry.uk_category or ""
        case.priority = max(case.priority, priority)
        case.matched_media_count = media_count
        case.save(update_fields=["suggested_grade", "suggested_uk_category", "priority",
                                 "matched_media_count"])  # fmt: skip
