"""Matching open cases again when a list gains entries.

A capture matches its media against the lists as they are at that moment. An entry that
arrives later (a decision's grades reaching the own list, an import, a restore, a list
switched back on) would never meet the media of cases still waiting for an analyst, who
would then grade again what was graded a minute before. So every change that gives a
list live entries queues `tasks.rematch_entries_task` in its own transaction, with the
entry ids as ranges; the task finds the open cases' media that those entries may match,
stores their matches (`matching.match_many`: every check of `find_many`, safe to repeat)
and refreshes the cases' suggestions (`matching.suggest_for_case`).

Which side drives the search, per task (`rematch_entries`):
- Entry side (the usual case: a batch of at most a thousand entries, an open queue of
  thousands of media). The batch's hash rows are read by entry id (the unique
  (entry, hash_type) index); exact hashes are looked up among the captured media's
  (`media_hash_lookup` index, kept to open cases' media); PDQ hashes are compared with
  the open media's PDQs directly (XOR and popcount over 256 bits, about 15 ns a pair).
  The process's PDQ index is the wrong tool here: it answers "which of all the entries
  are near this code" at up to a millisecond a query on a large list, and a batch is a
  tiny slice of it.
- Media side (few open media against many entries: a list switched on, or an empty
  queue). The open media's hashes go through `find_many` once (the DB index for exact
  hashes, the PDQ index for PDQ) and only candidates among the new entries count.
The media side is taken when it is estimated cheaper: up to a millisecond per open
media item (a PDQ search on a list of millions) against about a hundred microseconds per
entry of the ranges, all included (bench/rematch_bench.py measures both sides). A batch
of a thousand entries goes the entry side once ten open media wait; a whole list
switched on goes the media side unless the open media outnumber a tenth of it.
"""

import logging
import operator
from collections.abc import Iterable, Iterator, Sequence
from functools import reduce
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Q, QuerySet

from openhotline.cases.models import Case, CaseState
from openhotline.signals.matching import (
    EXACT_TYPES,
    find_many,
    match_many,
    suggest_for_case,
    threshold_for,
)
from openhotline.signals.models import EntryHash, HashList, MediaHash
from openhotline.signals.pdq_index import codes_from_hex
from openhotline.signals.types import HASH_TYPES, HashValue

logger = logging.getLogger(__name__)

# Entries read and compared at a time (the import's own batch size).
CHUNK = 1000
# The cost model that picks the side: per open media item on the media side, per entry
# of the ranges on the entry side (microseconds; bench/rematch_bench.py).
MEDIA_SIDE_COST_US = 1000
ENTRY_SIDE_COST_US = 100
# Open media PDQs compared with one block of entry codes at a time (bounds temporaries).
_PAIR_BLOCK = 256


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Sorted ids as [first, last] runs: a batch of new entries is one run."""
    runs: list[list[int]] = []
    for pk in sorted(set(ids)):
        if runs and pk == runs[-1][1] + 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return runs


def open_cases() -> QuerySet[Any]:
    """Cases no analyst has decided yet: what a new entry can still spare a reveal."""
    return Case.objects.filter(
        state__in=[CaseState.RECEIVED, CaseState.CAPTURED, CaseState.CAPTURE_FAILED]
    )


def open_media_ids() -> QuerySet[Any, Any]:
    """Media sighted in an open case's captures (followed from the hash rows, through
    `Media.sightings`: signals sits beneath evidence and never imports it)."""
    return MediaHash.objects.filter(media__sightings__capture__case__in=open_cases()).values(
        "media_id"
    )


def _in_ranges(field: str, ranges: Sequence[Sequence[int]]) -> Q:
    return reduce(
        operator.or_, (Q(**{f"{field}__gte": lo, f"{field}__lte": hi}) for lo, hi in ranges)
    )


class _OpenMedia:
    """The open cases' usable media hashes; each type is read at most once per task."""

    def __init__(self) -> None:
        self.hashes = MediaHash.objects.filter(
            media_id__in=open_media_ids(), usable_for_matching=True
        ).exclude(value="")
        self._of_type: dict[str, list[tuple[int, str]]] = {}
        self._pdq: tuple[list[int], npt.NDArray[np.uint64]] | None = None

    def count(self) -> int:
        return self.hashes.values("media_id").distinct().count()

    def of_type(self, name: str) -> list[tuple[int, str]]:
        if name not in self._of_type:
            rows = self.hashes.filter(hash_type=name).values_list("media_id", "value")
            self._of_type[name] = list(rows)
        return self._of_type[name]

    def pdq(self) -> tuple[list[int], npt.NDArray[np.uint64]]:
        """(media ids, PDQ codes as four 64-bit words each)."""
        if self._pdq is None:
            rows = self.of_type("pdq")
            words = codes_from_hex(v for _, v in rows).view("<u8") if rows else np.zeros((0, 4))
            self._pdq = ([m for m, _ in rows], words.astype(np.uint64, copy=False))
        return self._pdq


def rematch_entries(list_id: int, ranges: Sequence[Sequence[int]]) -> str:
    """Match the open cases' media against the list's entries with ids in `ranges`."""
    hash_list = HashList.objects.filter(pk=list_id).first()
    if not ranges:
        return "no entries"
    if hash_list is None or not hash_list.enabled:
        return "the list is gone or switched off: nothing can match"
    open_media = _OpenMedia()
    open_count = open_media.count()
    if not open_count:
        return "no open case holds media"
    width = sum(high - low + 1 for low, high in ranges)
    if open_count * MEDIA_SIDE_COST_US < width * ENTRY_SIDE_COST_US:
        hit = _media_side(hash_list, ranges, open_media)
    else:
        hit = set()
        for rows in _entry_chunks(hash_list, ranges):
            hit |= _entry_side(hash_list, rows, open_media)
    if not hit:
        return f"{hash_list.name}: no open case's media matches"
    match_many(sorted(hit))
    cases = list(
        open_cases()
        .filter(captures__items__media_id__in=hit)
        .distinct()
        .values_list("pk", flat=True)
    )
    for case_id in cases:
        suggest_for_case(case_id)
    return f"{hash_list.name}: {len(hit)} media of {len(cases)} open case(s) matched again"


def _media_side(
    hash_list: HashList, ranges: Sequence[Sequence[int]], open_media: _OpenMedia
) -> set[int]:
    rows = list(open_media.hashes.values_list("media_id", "hash_type", "value", "quality"))
    values = [HashValue(t, v, quality=q) for _, t, v, q in rows]
    hit: set[int] = set()
    for (media_id, *_), candidates in zip(rows, find_many(values), strict=True):
        for c in candidates:
            if c.hash_list.pk == hash_list.pk and any(lo <= c.entry.pk <= hi for lo, hi in ranges):
                hit.add(media_id)
    return hit


def _entry_chunks(
    hash_list: HashList, ranges: Sequence[Sequence[int]]
) -> Iterator[list[tuple[int, str, str, str]]]:
    """The usable hash rows of the list's live entries in `ranges`, CHUNK entries at a
    time, by entry id (keyset: a range of millions is never read at once)."""
    rows = EntryHash.objects.filter(
        _in_ranges("entry_id", ranges), entry__hash_list=hash_list, entry__retired_at=None,
        usable_for_matching=True,
    )  # fmt: skip
    after = 0
    while True:
        ids = list(
            rows.filter(entry_id__gt=after)
            .order_by("entry_id")
            .values_list("entry_id", flat=True)
            .distinct()[:CHUNK]
        )
        if not ids:
            return
        yield list(
            rows.filter(entry_id__gte=ids[0], entry_id__lte=ids[-1]).values_list(
                "entry_id", "hash_type", "value", "lookup_key"
            )
        )
        after = ids[-1]


def _entry_side(
    hash_list: HashList, rows: list[tuple[int, str, str, str]], open_media: _OpenMedia
) -> set[int]:
    """Open media that one of `rows` (entry hashes) may match; `find_many` decides."""
    hit: set[int] = set()
    for name in EXACT_TYPES:
        keys = [key for _, t, _, key in rows if t == name]
        for start in range(0, len(keys), 500):
            hit.update(
                open_media.hashes.filter(hash_type=name, lookup_key__in=keys[start : start + 500])
                .values_list("media_id", flat=True)
            )  # fmt: skip
    pdq = [value for _, t, value, _ in rows if t == "pdq"]
    if pdq:
        hit |= _near_pdq(pdq, open_media, hash_list.pdq_threshold)
    for name in {t for _, t, _, _ in rows} - {*EXACT_TYPES, "pdq"}:
        hit |= _near_other(name, [v for _, t, v, _ in rows if t == name], open_media, hash_list)
    return hit


def _near_pdq(entry_values: list[str], open_media: _OpenMedia, radius: int) -> set[int]:
    media_ids, codes = open_media.pdq()
    if not media_ids:
        return set()
    entries = codes_from_hex(entry_values).view("<u8")
    near = np.zeros(len(media_ids), dtype=bool)
    for start in range(0, len(codes), _PAIR_BLOCK):
        block = codes[start : start + _PAIR_BLOCK]
        # Word by word into 16 bits: a third of the time of one sum over a 3-D array.
        distance = np.zeros((len(block), len(entries)), dtype=np.uint16)
        for word in range(4):
            distance += np.bitwise_count(block[:, None, word] ^ entries[None, :, word])
        near[start : start + len(block)] = (distance <= radius).any(axis=1)
    return {media_ids[i] for i in np.flatnonzero(near)}


def _near_other(
    name: str, entry_values: list[str], open_media: _OpenMedia, hash_list: HashList
) -> set[int]:
    """PhotoDNA and video hashes, rare in bulk: compared pair by pair."""
    hash_type = HASH_TYPES.get(name)
    if hash_type is None:
        return set()
    limit = threshold_for(hash_list, name)
    hit: set[int] = set()
    for media_id, value in open_media.of_type(name):
        try:
            if any(hash_type.distance(value, other) <= limit for other in entry_values):
                hit.add(media_id)
        except ValueError:
            logger.warning("media %s: %s hash not comparable", media_id, name)
    return hit
