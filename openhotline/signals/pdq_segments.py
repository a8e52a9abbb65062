"""The PDQ index's segments: entries with their part tables, searched exactly.

A `Segment` holds entries in id order, one table per indexed part (entry positions sorted
by the part's value, and an offsets array giving each value's bucket); a query reads the
buckets of every value its `Plan` probes and checks the candidates with XOR + popcount on
the full hashes, so nothing within the radius is missed and nothing beyond it returned.
Radii above what a segment was built for, and the index's unindexed tail, are answered by
a blocked brute-force `scan`. A `State` is what one search reads (the segments and the
tail), published whole by the index (`pdq_index.PdqIndex`) so searches need no lock.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from openhotline.signals.pdq_layout import (
    LARGEST_PART,
    PDQ_BITS,
    IdArray,
    Match,
    Part,
    Plan,
    Words,
    default_parts,
    flip_masks,
    part_layout,
    part_lengths,
    tolerances,
)

# Brute-force blocks: about this many (query, entry) pairs at a time.
SCAN_PAIRS = 1 << 20

Found = tuple[npt.NDArray[np.intp], IdArray, npt.NDArray[np.uint16]]
NOTHING: Found = (np.empty(0, np.intp), np.empty(0, np.int64), np.empty(0, np.uint16))


@dataclass(eq=False, slots=True)
class Segment:
    """Entries in id order with one table per indexed part. Immutable except ``alive``
    (cleared in place when entries are retired)."""

    ids: IdArray  # sorted, unique
    words: Words  # (n, 4)
    alive: npt.NDArray[np.bool_]
    max_radius: int
    lengths: tuple[int, ...]  # all parts, longest first; the first len(parts) are indexed
    parts: tuple[Part, ...]
    perms: npt.NDArray[np.uint32]  # table i is perms[i*n:(i+1)*n]: positions by part value
    offsets: npt.NDArray[np.uint32]  # bucket starts, global into perms
    plans: dict[int, Plan] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    @property
    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "ids": self.ids,
            "words": self.words,
            "alive": self.alive.view(np.uint8),
            "perms": self.perms,
            "offsets": self.offsets,
        }

    def find(self, ids: IdArray) -> npt.NDArray[np.intp]:
        """Positions of those of ``ids`` that are live here."""
        if not self.size or not ids.size:
            return np.empty(0, np.intp)
        where = np.searchsorted(self.ids, ids).clip(0, self.size - 1)
        return where[(self.ids[where] == ids) & self.alive[where]]

    def plan(self, radius: int) -> Plan:
        found = self.plans.get(radius)
        if found is None:
            part_index: list[int] = []
            flips: list[int] = []
            distances_by_part = tolerances(len(self.parts), radius)
            for i, (part, tolerance) in enumerate(zip(self.parts, distances_by_part, strict=True)):
                if tolerance >= 0:
                    masks = flip_masks(part.bits, min(tolerance, part.bits))
                    part_index += [i] * len(masks)
                    flips += masks
            index = np.array(part_index, dtype=np.intp)
            bases = np.array([p.base for p in self.parts], dtype=np.int64)
            found = Plan(index, np.array(flips, dtype=np.int64), bases[index])
            self.plans[radius] = found
        return found

    def query_keys(self, raws: Sequence[bytes], words: Words) -> npt.NDArray[np.int64]:
        """(q, parts) part values of the queries."""
        if len(raws) <= 4:  # Python ints beat a dozen tiny numpy calls
            values = [int.from_bytes(raw, "little") for raw in raws]
            return np.array(
                [[(v >> p.start) & p.mask for p in self.parts] for v in values], dtype=np.int64
            ).reshape(len(raws), len(self.parts))
        return np.stack([p.keys(words).astype(np.int64) for p in self.parts], axis=1)

    def candidates(
        self, keys: npt.NDArray[np.int64], radius: int
    ) -> tuple[npt.NDArray[np.intp] | None, npt.NDArray[np.uint32]]:
        """(query index, position) of every entry sharing a probed bucket with a query; the
        query index is None for a single query. Positions come out bucket by bucket."""
        plan = self.plan(radius)
        probes = ((keys[:, plan.part] ^ plan.flips) + plan.base).ravel()
        starts = self.offsets[probes].astype(np.int64)
        counts = self.offsets[probes + 1].astype(np.int64)
        counts -= starts
        ends = np.cumsum(counts)
        # slots: starts[j], starts[j] + 1, ... counts[j] times, for every probe j
        slots = np.repeat(starts - ends + counts, counts)
        slots += np.arange(slots.shape[0], dtype=np.int64)
        if keys.shape[0] == 1:
            return None, self.perms[slots]
        per_query = np.add.reduceat(counts, np.arange(0, counts.shape[0], plan.part.shape[0]))
        return np.repeat(np.arange(keys.shape[0]), per_query), self.perms[slots]

    def search(self, raws: Sequence[bytes], queries: Words, radius: int) -> Found:
        """(query index, id, distance) of the live entries within ``radius``."""
        if not self.size:
            return NOTHING
        if radius > self.max_radius:
            qi, row, distance = scan(self.words, self.alive, queries, radius)
            return qi, self.ids[row], distance
        maybe_qi, position = self.candidates(self.query_keys(raws, queries), radius)
        if maybe_qi is None:
            distance = distances(np.take(self.words, position, axis=0), queries[0])
            near = np.flatnonzero(distance <= radius)
            qi = np.zeros(near.shape[0], dtype=np.intp)
        else:
            mine = np.take(queries, maybe_qi, axis=0)
            distance = distances(np.take(self.words, position, axis=0), mine)
            near = np.flatnonzero(distance <= radius)
            qi = maybe_qi[near]
        position, distance = position[near], distance[near]
        live = self.alive[position]
        return qi[live], self.ids[position[live]], distance[live]


def distances(candidates: Words, queries: Words) -> npt.NDArray[np.uint16]:
    """Hamming distances between (..., 4) word arrays of the same shape, or against one
    (4,) query. Column by column: numpy is slow on a broadcast inner axis of 4."""
    if queries.ndim == 1:
        total = np.bitwise_count(candidates[..., 0] ^ queries[0]).astype(np.uint16)
        for column in range(1, 4):
            total += np.bitwise_count(candidates[..., column] ^ queries[column])
        return total
    counts = np.bitwise_count(candidates ^ queries)
    total = counts[..., 0].astype(np.uint16)
    for column in range(1, 4):
        total += counts[..., column]
    return total


def scan(
    words: Words, alive: npt.NDArray[np.bool_], queries: Words, radius: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.uint16]]:
    """Brute force: (query index, row, distance) of every live row within ``radius``, in
    blocks small enough to stay in cache."""
    found_q, found_row, found_d = [], [], []
    batch = max(1, min(queries.shape[0], SCAN_PAIRS // 1024))
    rows = max(1024, min(8192, SCAN_PAIRS // batch))
    for first in range(0, queries.shape[0], batch):
        chunk = queries[first : first + batch]
        for start in range(0, words.shape[0], rows):
            block = words[start : start + rows]
            distance = np.bitwise_count(block[None, :, 0] ^ chunk[:, None, 0]).astype(np.uint16)
            for column in range(1, 4):
                distance += np.bitwise_count(block[None, :, column] ^ chunk[:, None, column])
            qi, row = np.nonzero((distance <= radius) & alive[None, start : start + rows])
            if qi.size:
                found_q.append(qi + first)
                found_row.append(row + start)
                found_d.append(distance[qi, row])
    if not found_q:
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.uint16)
    return np.concatenate(found_q), np.concatenate(found_row), np.concatenate(found_d)


def build_segment(ids: IdArray, words: Words, max_radius: int, parts: int | None) -> Segment:
    """A segment of ``ids`` (sorted, unique) and ``words`` ((n, 4), same order, owned)."""
    n = int(ids.shape[0])
    count = default_parts(n) if parts is None else parts
    fewest = -(-PDQ_BITS // LARGEST_PART)
    if not fewest <= count <= 64:
        raise ValueError(f"parts must be between {fewest} and 64, got {count}")
    lengths = part_lengths(count)
    indexed = sum(1 for t in tolerances(count, max_radius) if t >= 0)
    if indexed * n >= 1 << 32:
        raise ValueError(f"{n} entries x {indexed} tables do not fit uint32 positions")
    built = part_layout(lengths, indexed)
    perms = np.empty(indexed * n, dtype=np.uint32)
    offsets = np.empty(sum((1 << p.bits) + 1 for p in built), dtype=np.uint32)
    position = np.arange(n, dtype=np.uint64)
    for i, part in enumerate(built):
        # one sort of (part value << 32 | position) gives the table and, from the values,
        # the bucket sizes (faster than a stable argsort of the values)
        order = np.sort((part.keys(words) << np.uint64(32)) | position)
        perms[i * n : (i + 1) * n] = order  # the low 32 bits: the position
        counts = np.bincount((order >> np.uint64(32)).astype(np.int64), minlength=1 << part.bits)
        del order
        table = offsets[part.base : part.base + (1 << part.bits) + 1]
        table[0] = i * n
        table[1:] = np.cumsum(counts) + i * n
    return Segment(ids, words, np.ones(n, np.bool_), max_radius, lengths, built, perms, offsets)


@dataclass(frozen=True, slots=True, eq=False)
class State:
    """What a search reads: the segments (the main one first, then at most one built from
    later additions) and the tail of the latest additions, scanned by brute force."""

    segments: tuple[Segment, ...]
    # capacity-sized arrays of which the first ``tail_count`` rows are in use
    tail_ids: IdArray
    tail_words: Words
    tail_alive: npt.NDArray[np.bool_]
    tail_count: int
    live: int

    def tail(self) -> tuple[IdArray, Words, npt.NDArray[np.bool_]]:
        used = slice(0, self.tail_count)
        return self.tail_ids[used], self.tail_words[used], self.tail_alive[used]

    def live_entries(self) -> tuple[IdArray, Words]:
        """Every live (id, words), sorted by id."""
        ids, words, alive = self.tail()
        id_parts = [s.ids[s.alive] for s in self.segments] + [ids[alive]]
        word_parts = [s.words[s.alive] for s in self.segments] + [words[alive]]
        all_ids = np.concatenate(id_parts)
        order = np.argsort(all_ids, kind="stable")
        return all_ids[order], np.concatenate(word_parts)[order]


def fresh_state(segments: tuple[Segment, ...]) -> State:
    live = sum(int(np.count_nonzero(s.alive)) for s in segments)
    empty = (np.empty(0, np.int64), np.empty((0, 4), np.uint64), np.empty(0, np.bool_))
    return State(segments, *empty, 0, live)


def group_matches(queries: int, found: list[Found]) -> list[list[Match]]:
    """Per query: unique (id, distance), by distance then id."""
    results: list[list[Match]] = [[] for _ in range(queries)]
    qi = np.concatenate([f[0] for f in found]) if found else np.empty(0, np.intp)
    if not qi.size:
        return results
    ids = np.concatenate([f[1] for f in found])
    distance = np.concatenate([f[2] for f in found])
    order = np.lexsort((ids, distance, qi))
    qi, ids, distance = qi[order], ids[order], distance[order]
    first = np.ones(qi.size, dtype=np.bool_)  # a hit found through several tables
    first[1:] = (qi[1:] != qi[:-1]) | (ids[1:] != ids[:-1])
    qi, ids, distance = qi[first], ids[first], distance[first]
    bounds = np.searchsorted(qi, np.arange(queries + 1)).tolist()
    pairs = list(zip(ids.tolist(), distance.tolist(), strict=True))
    for q in range(queries):
        if bounds[q] != bounds[q + 1]:
            results[q] = pairs[bounds[q] : bounds[q + 1]]
    return results
