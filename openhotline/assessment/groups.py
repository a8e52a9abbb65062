"""A case's media as the analyst grades it: near-duplicates grouped, known hashes pre-graded.

Near-duplicates (PDQ distance within the own hash list's threshold) form one group that is
graded once. Items whose hash matches a known entry closely enough to be the same picture
(`Match.near_exact`) carry that entry's grade as a suggestion, which an analyst may confirm
without a reveal; they are grouped only with each other and only when the suggestions
agree, so confirming a group never passes an unseen, unknown item.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from openhotline import grading
from openhotline.cases.models import Case
from openhotline.evidence.models import Media, MediaCheck
from openhotline.signals.models import HashList, ListSource, Match, MediaHash

DEFAULT_GROUP_DISTANCE = 31
# How an own-list entry names the decision it came from (`followups.confirm_grades`).
_PROVENANCE = re.compile(r"^case (\d+), decision (\d+)\b")


def provenance(case_id: int, decision_id: int) -> str:
    """An own-list entry's provenance: the case and decision that graded it."""
    return f"case {case_id}, decision {decision_id}"


def graded_in_case(match: Match) -> int | None:
    """The case whose decision graded this match's entry, for the hotline's own list
    only (other lists' provenance is their source's text)."""
    if match.hash_list.source != ListSource.OWN:
        return None
    found = _PROVENANCE.match(match.entry.provenance)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Suggestion:
    """A known entry's grade, offered for confirmation."""

    grade: str
    age_band: str
    non_photographic: bool
    uk_category: str
    match_id: int
    list_name: str
    distance: float
    hash_type: str
    # Another case of this hotline whose decision graded the same picture: its number
    # only, never its content.
    graded_in_case: int | None = None

    @property
    def key(self) -> tuple[str, str, bool]:
        return (self.grade, self.age_band, self.non_photographic)

    def summary(self) -> str:
        label = grading.GRADES.get(self.grade, self.grade)
        uk = f"UK {self.uk_category} · " if self.uk_category else ""
        return f"{uk}{label}{' · ' + self.age_band if self.age_band else ''}"


@dataclass
class Item:
    media: Media
    pdq: int | None = None
    pdq_quality: int = 0
    matches: list[Match] = field(default_factory=list)
    suggestion: Suggestion | None = None


@dataclass
class Group:
    items: list[Item]

    @property
    def lead(self) -> Item:
        """The item shown and revealed for the group: the sharpest picture."""
        return max(self.items, key=lambda i: (i.pdq_quality, -i.media.pk))

    @property
    def key(self) -> int:
        return self.lead.media.pk

    @property
    def media_ids(self) -> list[int]:
        return [i.media.pk for i in self.items]

    @property
    def suggestion(self) -> Suggestion | None:
        return self.lead.suggestion

    @property
    def similar(self) -> list[Match]:
        """Known matches that are not close enough to stand without a look."""
        return [m for i in self.items for m in i.matches if not m.near_exact]


def case_media(case: Case) -> list[Media]:
    """Every decodable media item of every capture of the case, once, in page order; and
    those too slow to decode within the budget (no preview; revealed as a download), since
    they may be the very items the case is about."""
    seen: dict[int, Media] = {}
    rows = (
        Media.objects.filter(
            sightings__capture__case=case, status__in=[MediaCheck.OK, MediaCheck.OVER_BUDGET]
        )
        .order_by("sightings__capture__created_at", "sightings__id")
        .distinct()
    )
    for media in rows:
        seen.setdefault(media.pk, media)
    return list(seen.values())


def group_distance() -> int:
    own = HashList.objects.filter(name=settings.OWN_HASH_LIST).only("pdq_threshold").first()
    return own.pdq_threshold if own is not None else DEFAULT_GROUP_DISTANCE


def groups_for(case: Case, media: Iterable[Media] | None = None) -> list[Group]:
    items = [Item(m) for m in (case_media(case) if media is None else media)]
    by_id = {i.media.pk: i for i in items}
    for h in MediaHash.objects.filter(
        media_id__in=by_id, hash_type="pdq", usable_for_matching=True
    ).exclude(value=""):
        by_id[h.media_id].pdq = int(h.value, 16)
        by_id[h.media_id].pdq_quality = h.quality or 0
    matches = (
        Match.objects.filter(media_id__in=by_id, allowed_by__isnull=True)
        .filter(entry__retired_at__isnull=True, hash_list__enabled=True)
        .select_related("entry", "hash_list")
    )
    for match in matches:
        by_id[match.media_id].matches.append(match)
    for item in items:
        item.suggestion = _suggestion(item.matches, case.pk)
    return _group(items, group_distance())


def _suggestion(matches: list[Match], case_id: int) -> Suggestion | None:
    graded = [m for m in matches if m.near_exact and m.entry.grade]
    if not graded:
        return None
    worst = max(
        graded,
        key=lambda m: (grading.severity_rank(m.entry.uk_category), -m.distance, -m.pk),
    )
    entry = worst.entry
    # The latest own decision on the same grade (a case's own grades never count).
    own = sorted(
        (m for m in graded if _same_grade(m, worst) and graded_in_case(m) not in (None, case_id)),
        key=lambda m: (m.entry.updated_at, m.entry.pk),
    )
    return Suggestion(
        grade=entry.grade,
        age_band=entry.age_band,
        non_photographic=entry.non_photographic,
        uk_category=entry.uk_category,
        match_id=worst.pk,
        list_name=worst.hash_list.name,
        distance=worst.distance,
        hash_type=worst.hash_type,
        graded_in_case=graded_in_case(own[-1]) if own else None,
    )


def _same_grade(a: Match, b: Match) -> bool:
    return (a.entry.grade, a.entry.age_band, a.entry.non_photographic) == (
        b.entry.grade,
        b.entry.age_band,
        b.entry.non_photographic,
    )


def _group(items: list[Item], distance: int) -> list[Group]:
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(items):
        if a.pdq is None:
            continue
        for j in range(i + 1, len(items)):
            b = items[j]
            if b.pdq is None or not _may_share(a, b):
                continue
            if (a.pdq ^ b.pdq).bit_count() <= distance:
                parent[root(j)] = root(i)
    grouped: dict[int, list[Item]] = {}
    for i, item in enumerate(items):
        grouped.setdefault(root(i), []).append(item)
    return [Group(members) for members in grouped.values()]


def _may_share(a: Item, b: Item) -> bool:
    if a.suggestion is None or b.suggestion is None:
        return a.suggestion is None and b.suggestion is None
    return a.suggestion.key == b.suggestion.key


def group_of(groups: list[Group], media_id: int) -> Group | None:
    for group in groups:
        if media_id in group.media_ids:
            return group
    return None
