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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from openhotline.signals import pdq_store
from openhotline.signals.models import AllowedHash, EntryHash, HashList, ListEntry, Match, MediaHash
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
    found: list[Candidate] = []
    for value in values:
        if not value.usable_for_matching or not value.value or value.hash_type not in HASH_TYPES:
            continue
        hits = list(_hits(value))
        if not hits:
            continue
        rows = {
            row.pk: row
            for row in EntryHash.objects.filter(
                pk__in=[pk for pk, _ in hits],
                usable_for_matching=True,
                entry__retired_at=None,
                entry__hash_list__enabled=True,
            ).select_related("entry", "entry__hash_list")
        }
        for pk, distance in hits:
            row = rows.get(pk)
            if row is None:
                continue
            hash_list = row.entry.hash_list
            limit = threshold_for(hash_list, value.hash_type)
            if distance > limit:
                continue
            found.append(Candidate(
                entry=row.entry, hash_list=hash_list, hash_type=value.hash_type,
                distance=distance, threshold=limit, query_value=value.value,
                entry_value=row.value, allowed_by=_allowed(hash_list, value, limit),
            ))  # fmt: skip
    found.sort(key=lambda c: (c.allowed_by is not None, c.distance, -c.entry.severity, c.entry.pk))
    return found


def _hits(value: HashValue) -> Iterator[tuple[int, float]]:
    """(EntryHash id, distance) of rows that may match: exact, or within the widest
    threshold any list could have."""
    name = value.hash_type
    if name in EXACT_TYPES:
        key = lookup_key(value.value)
        for pk in EntryHash.objects.filter(hash_type=name, lookup_key=key).values_list(
            "pk", flat=True
        ):
            yield pk, 0.0
    elif name == "pdq":
        radius = _widest_pdq_threshold()
        code = bytes.fromhex(PDQ.normalize(value.value))
        for pk, distance in pdq_store.current().search(code, radius=radius):
            yield int(pk), float(distance)
    else:
        yield from _scan(name, value.value)


def _widest_pdq_threshold() -> int:
    widest = HashList.objects.filter(enabled=True).order_by("-pdq_threshold").first()
    return widest.pdq_threshold if widest is not None else 0


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


def _allowed(hash_list: HashList, value: HashValue, limit: float) -> AllowedHash | None:
    """The allow-list row of `hash_list` that cancels a match on `value`, if any."""
    allowed = AllowedHash.objects.filter(hash_list=hash_list, hash_type=value.hash_type)
    if value.hash_type in EXACT_TYPES:
        return allowed.filter(lookup_key=lookup_key(value.value)).first()
    hash_type = HASH_TYPES[value.hash_type]
    for row in allowed.order_by("pk"):
        if hash_type.distance(value.value, row.value) <= limit:
            return row
    return None


def media_values(media_id: int) -> list[HashValue]:
    return [
        HashValue(row.hash_type, row.value, quality=row.quality,
                  usable_for_matching=row.usable_for_matching)
        for row in MediaHash.objects.filter(media_id=media_id).exclude(value="")
    ]  # fmt: skip


def match_media(media_id: int) -> list[Match]:
    """Store the matches of a captured media item; repeating it adds only new ones."""
    candidates = find_matches(media_values(media_id))
    rows = [
        Match(
            media_id=media_id, entry=c.entry, hash_list=c.hash_list, hash_type=c.hash_type,
            distance=c.distance, threshold=c.threshold, media_value=c.query_value,
            entry_value=c.entry_value, near_exact=c.near_exact, allowed_by=c.allowed_by,
        )
        for c in candidates
    ]  # fmt: skip
    Match.objects.bulk_create(rows, ignore_conflicts=True)
    return rows


def suggest_for_case(case_id: int) -> None:
    """Put the most severe grade matched on the case's media on the case, and raise its
    priority: an identified victim's entry first, any known hash next."""
    from openhotline.cases.models import Case, Priority

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
