"""An exact in-memory PDQ match index: multi-index hashing over numpy arrays.

A PDQ hash is 256 bits; two hashes match when their Hamming distance is at most a radius
(31 by default). The index returns *every* live entry within the radius: it is exact, not
approximate.

How (multi-index hashing, Norouzi et al., with the generalised pigeonhole principle): the
256 bits are cut into ``k`` disjoint parts of ``b`` or ``b + 1`` bits. If part ``i`` is
probed up to distance ``t_i`` and ``sum(t_i + 1) > radius``, any hash within the radius of
the query is within ``t_i`` of it on at least one part. Each part has a table (entry
positions sorted by that part's value, and an offsets array giving each value's bucket), so
a query reads the buckets of every value within ``t_i`` of its own part values and checks
the candidates with XOR + popcount on the full hashes. Parts have about log2(n) - 2 bits
(16 to 22): at 10 million hashes, 12 parts of 21/22 bits probed at distance 2 or 1, about
2,000 buckets and 7,000 candidates per query, under 1 ms on one core. Larger query radii
than the index was built for are answered by a brute-force scan (exact, slow).
bench/pdq_index_bench.py measures it against python-threatexchange and other layouts.

Memory per entry: the hash (32 bytes), the id (8), a live flag (1) and a uint32 position
per table (4 x 12), plus 4 bytes per bucket: about 1 GB for 10 million hashes. Entries are
kept in id order, so ids are found by binary search.

Updates: additions go to a tail (at most ``TAIL_MAX`` entries) scanned by brute force; a
full tail is merged into a second, indexed segment; when that outgrows max(``DELTA_MIN``,
n / ``DELTA_SHARE``), or a quarter of the built entries are retired, all live entries are
rebuilt into one segment (about 12 s at 10 million, on the writer's thread). Retiring an
entry clears its live flag. Searches read one immutable state object without the lock;
mutations are serialised by a lock and publish a new state, so a search running during an
addition sees all of it or none of it (a retirement is visible per entry at once; once
``remove`` returns, those entries never match again).

Snapshots: ``save`` writes a versioned file (magic, version, a CRC32-checked JSON header
describing every array, and the arrays at 4 KiB-aligned offsets, each with its CRC32)
atomically: a temporary file in the same directory, fsync, rename, fsync of the directory.
``load`` memory-maps the arrays (or reads them), checks size, header and (unless
``verify=False``) every array's CRC32, and raises `SnapshotError` on anything wrong; the
caller then rebuilds from the database.

No Django here: the caller loads ids and hashes (`codes_from_hex` parses 64-digit hex) and
keeps the index in step with the database.
"""

import itertools
import json
import math
import mmap as mmap_module
import os
import sys
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt

PDQ_BITS = 256
PDQ_BYTES = 32
DEFAULT_RADIUS = 31
FORMAT_VERSION = 1
MAGIC = b"OHPDQIX\x00"
_PREFIX = 24  # magic (8), version, header length, header CRC32, reserved (4 each)
_ALIGN = 4096
# Parts of 16 to 22 bits: the offsets table of a part has 2^b + 1 entries, so b is chosen
# from the number of entries (about log2(n) - 2 bits) and capped where the tables would
# start to cost more memory than the positions they index.
_MIN_PART_BITS = 16
_MAX_PART_BITS = 22
_LARGEST_PART = 24  # bits; a larger part's offsets (4 << bits bytes) would be too large
# Beyond this the tables cost more than a scan (which larger query radii use anyway).
_MAX_RADIUS = 63
# Queries in one vectorised pass of search_many (bounds the temporaries to a few MB each).
_QUERY_CHUNK = 128
# Brute-force blocks: about this many (query, entry) pairs at a time.
_SCAN_PAIRS = 1 << 20

IdArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.uint8]
_Words = npt.NDArray[np.uint64]
Match = tuple[int, int]


class SnapshotError(ValueError):
    """A snapshot file is missing, truncated, corrupt or of another format version."""


def codes_from_hex(hexes: Iterable[str]) -> CodeArray:
    """(n, 32) uint8 array of 64-digit hex PDQ hashes (first digit = high bits of byte 0)."""
    hexes = list(hexes)
    joined = "".join(hexes)
    if len(joined) != 64 * len(hexes) or any(len(h) != 64 for h in hexes):
        raise ValueError("PDQ hashes are 64 hex digits each")
    return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, PDQ_BYTES).copy()


def _words(codes: CodeArray) -> _Words:
    """The (n, 4) little-endian uint64 view the index works on (a view, no copy)."""
    return np.ascontiguousarray(codes, dtype=np.uint8).view("<u8")


def _as_codes(codes: Any) -> CodeArray:
    array = np.asarray(codes)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != PDQ_BYTES:
        raise ValueError(f"codes must be an (n, {PDQ_BYTES}) uint8 array, got {array.dtype} "
                         f"{array.shape}")  # fmt: skip
    return array


def _as_ids(ids: Any, count: int) -> IdArray:
    array = np.asarray(ids)
    if array.ndim != 1 or array.shape[0] != count:
        raise ValueError(f"ids must be a 1-d array of {count} ids, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"ids must be integers, got {array.dtype}")
    return array.astype(np.int64, copy=False)


def _one_code(code: bytes | str | npt.NDArray[Any]) -> bytes:
    if isinstance(code, str):
        raw = bytes.fromhex(code)
    elif isinstance(code, bytes | bytearray | memoryview):
        raw = bytes(code)
    else:
        raw = np.asarray(code, dtype=np.uint8).tobytes()
    if len(raw) != PDQ_BYTES:
        raise ValueError(f"a PDQ hash is {PDQ_BYTES} bytes, got {len(raw)}")
    return raw


def _check_radius(radius: int) -> None:
    if isinstance(radius, bool) or not isinstance(radius, int | np.integer) or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")


# --- layout -------------------------------------------------------------------------------


def part_lengths(count: int) -> tuple[int, ...]:
    """``count`` parts covering 256 bits, as even as possible, longest first."""
    base, extra = divmod(PDQ_BITS, count)
    return (base + 1,) * extra + (base,) * (count - extra)


def _tolerances(parts: int, radius: int) -> list[int]:
    """Per-part probe distances t_i (longest parts first, -1 = not probed) with
    sum(t_i + 1) = radius + 1: a hash within ``radius`` is within t_i on some part."""
    q, extra = divmod(radius + 1, parts)
    return [q] * extra + [q - 1] * (parts - extra)


def default_parts(count: int) -> int:
    """Number of parts for ``count`` entries: parts of about log2(count) - 2 bits, 16 to 22
    bits. (Only the parts a ``max_radius`` query probes get a table.)"""
    bits = min(_MAX_PART_BITS, max(_MIN_PART_BITS, int(math.log2(max(count, 1))) - 2))
    return PDQ_BITS // bits


@dataclass(frozen=True, slots=True)
class _Part:
    start: int  # first bit, counting from the low bit of the first little-endian word
    bits: int
    base: int  # where this part's offsets begin in the shared offsets array

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    def keys(self, words: _Words) -> _Words:
        word, shift = divmod(self.start, 64)
        if shift + self.bits <= 64:
            return (words[:, word] >> np.uint64(shift)) & np.uint64(self.mask)
        low = 64 - shift  # bits taken from this word; the rest from the next one
        high = words[:, word + 1] & np.uint64((1 << (self.bits - low)) - 1)
        return (words[:, word] >> np.uint64(shift)) | (high << np.uint64(low))


@dataclass(frozen=True, slots=True)
class _Plan:
    """Every probe of a query radius: for each, the part and the XOR mask."""

    part: npt.NDArray[np.intp]
    flips: npt.NDArray[np.int64]
    base: npt.NDArray[np.int64]


def _flip_masks(bits: int, distance: int) -> list[int]:
    masks = [0]
    for flipped in range(1, distance + 1):
        for combo in itertools.combinations(range(bits), flipped):
            masks.append(sum(1 << b for b in combo))
    return masks


# --- segments: built, searchable parts ---------------------------------------------------

_Found = tuple[npt.NDArray[np.intp], IdArray, npt.NDArray[np.uint16]]
_NOTHING: _Found = (np.empty(0, np.intp), np.empty(0, np.int64), np.empty(0, np.uint16))


@dataclass(eq=False, slots=True)
class _Segment:
    """Entries in id order with one table per indexed part. Immutable except ``alive``
    (cleared in place when entries are retired)."""

    ids: IdArray  # sorted, unique
    words: _Words  # (n, 4)
    alive: npt.NDArray[np.bool_]
    max_radius: int
    lengths: tuple[int, ...]  # all parts, longest first; the first len(parts) are indexed
    parts: tuple[_Part, ...]
    perms: npt.NDArray[np.uint32]  # table i is perms[i*n:(i+1)*n]: positions by part value
    offsets: npt.NDArray[np.uint32]  # bucket starts, global into perms
    plans: dict[int, _Plan] = field(default_factory=dict)

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

    def plan(self, radius: int) -> _Plan:
        found = self.plans.get(radius)
        if found is None:
            part_index: list[int] = []
            flips: list[int] = []
            tolerances = _tolerances(len(self.parts), radius)
            for i, (part, tolerance) in enumerate(zip(self.parts, tolerances, strict=True)):
                if tolerance >= 0:
                    masks = _flip_masks(part.bits, min(tolerance, part.bits))
                    part_index += [i] * len(masks)
                    flips += masks
            index = np.array(part_index, dtype=np.intp)
            bases = np.array([p.base for p in self.parts], dtype=np.int64)
            found = _Plan(index, np.array(flips, dtype=np.int64), bases[index])
            self.plans[radius] = found
        return found

    def query_keys(self, raws: Sequence[bytes], words: _Words) -> npt.NDArray[np.int64]:
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

    def search(self, raws: Sequence[bytes], queries: _Words, radius: int) -> _Found:
        """(query index, id, distance) of the live entries within ``radius``."""
        if not self.size:
            return _NOTHING
        if radius > self.max_radius:
            qi, row, distance = _scan(self.words, self.alive, queries, radius)
            return qi, self.ids[row], distance
        maybe_qi, position = self.candidates(self.query_keys(raws, queries), radius)
        if maybe_qi is None:
            distance = _distances(np.take(self.words, position, axis=0), queries[0])
            near = np.flatnonzero(distance <= radius)
            qi = np.zeros(near.shape[0], dtype=np.intp)
        else:
            mine = np.take(queries, maybe_qi, axis=0)
            distance = _distances(np.take(self.words, position, axis=0), mine)
            near = np.flatnonzero(distance <= radius)
            qi = maybe_qi[near]
        position, distance = position[near], distance[near]
        live = self.alive[position]
        return qi[live], self.ids[position[live]], distance[live]


def _distances(candidates: _Words, queries: _Words) -> npt.NDArray[np.uint16]:
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


def _scan(
    words: _Words, alive: npt.NDArray[np.bool_], queries: _Words, radius: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.uint16]]:
    """Brute force: (query index, row, distance) of every live row within ``radius``, in
    blocks small enough to stay in cache."""
    found_q, found_row, found_d = [], [], []
    batch = max(1, min(queries.shape[0], _SCAN_PAIRS // 1024))
    rows = max(1024, min(8192, _SCAN_PAIRS // batch))
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


def _build(ids: IdArray, words: _Words, max_radius: int, parts: int | None) -> _Segment:
    """A segment of ``ids`` (sorted, unique) and ``words`` ((n, 4), same order, owned)."""
    n = int(ids.shape[0])
    count = default_parts(n) if parts is None else parts
    fewest = -(-PDQ_BITS // _LARGEST_PART)
    if not fewest <= count <= 64:
        raise ValueError(f"parts must be between {fewest} and 64, got {count}")
    lengths = part_lengths(count)
    indexed = sum(1 for t in _tolerances(count, max_radius) if t >= 0)
    if indexed * n >= 1 << 32:
        raise ValueError(f"{n} entries x {indexed} tables do not fit uint32 positions")
    built = _layout(lengths, indexed)
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
    return _Segment(ids, words, np.ones(n, np.bool_), max_radius, lengths, built, perms, offsets)


def _layout(lengths: Sequence[int], indexed: int) -> tuple[_Part, ...]:
    built: list[_Part] = []
    start = base = 0
    for bits in lengths[:indexed]:
        built.append(_Part(start, bits, base))
        start += bits
        base += (1 << bits) + 1
    return tuple(built)


@dataclass(frozen=True, slots=True, eq=False)
class _State:
    """What a search reads: the segments (the main one first, then at most one built from
    later additions) and the tail of the latest additions, scanned by brute force."""

    segments: tuple[_Segment, ...]
    # capacity-sized arrays of which the first ``tail_count`` rows are in use
    tail_ids: IdArray
    tail_words: _Words
    tail_alive: npt.NDArray[np.bool_]
    tail_count: int
    live: int

    def tail(self) -> tuple[IdArray, _Words, npt.NDArray[np.bool_]]:
        used = slice(0, self.tail_count)
        return self.tail_ids[used], self.tail_words[used], self.tail_alive[used]

    def live_entries(self) -> tuple[IdArray, _Words]:
        """Every live (id, words), sorted by id."""
        ids, words, alive = self.tail()
        id_parts = [s.ids[s.alive] for s in self.segments] + [ids[alive]]
        word_parts = [s.words[s.alive] for s in self.segments] + [words[alive]]
        all_ids = np.concatenate(id_parts)
        order = np.argsort(all_ids, kind="stable")
        return all_ids[order], np.concatenate(word_parts)[order]


def _fresh(segments: tuple[_Segment, ...]) -> _State:
    live = sum(int(np.count_nonzero(s.alive)) for s in segments)
    empty = (np.empty(0, np.int64), np.empty((0, 4), np.uint64), np.empty(0, np.bool_))
    return _State(segments, *empty, 0, live)


class PdqIndex:
    """Exact PDQ range search: every live (id, distance) within a radius of a query.

    Additions go to a tail scanned by brute force; a full tail (``TAIL_MAX``) is merged into
    a second, indexed segment; when that outgrows max(``DELTA_MIN``, main size //
    ``DELTA_SHARE``), or a quarter of the built entries are retired, everything is rebuilt
    into one main segment. All of it happens on the writer's thread under the lock.
    """

    TAIL_MAX = 4096
    DELTA_MIN = 1 << 16
    DELTA_SHARE = 16

    def __init__(self, state: _State, parts: int | None, max_radius: int) -> None:
        self._state = state
        self._parts = parts  # a fixed number of parts for rebuilds, or None for automatic
        self._max_radius = max_radius
        self._lock = threading.Lock()
        ids, _words, alive = state.tail()
        self._tail_slots = {i: slot for slot, i in enumerate(ids.tolist()) if alive[slot]}

    # --- building ------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        ids: npt.ArrayLike,
        codes: npt.ArrayLike,
        max_radius: int = DEFAULT_RADIUS,
        *,
        parts: int | None = None,
    ) -> Self:
        """An index of ``codes`` ((n, 32) uint8) under unique int64 ``ids``. Queries up to
        ``max_radius`` (at most 63) use the tables, larger ones a brute-force scan.
        ``parts`` fixes the number of parts (tables) instead of choosing it from n."""
        _check_radius(max_radius)
        if max_radius > _MAX_RADIUS:
            raise ValueError(f"max_radius above {_MAX_RADIUS}: the tables would cost more "
                             "than a scan; larger query radii scan anyway")  # fmt: skip
        code_array = _as_codes(codes)
        id_array = _as_ids(ids, code_array.shape[0])
        order = np.argsort(id_array, kind="stable")
        id_array = id_array[order]
        if id_array.size > 1 and not bool(np.all(id_array[1:] != id_array[:-1])):
            duplicated = id_array[1:][id_array[1:] == id_array[:-1]][0]
            raise ValueError(f"duplicate id {int(duplicated)}")
        words = _words(code_array[order])  # the fancy index copies: the index owns it
        segment = _build(id_array, words, max_radius, parts)
        return cls(_fresh((segment,)), parts, max_radius)

    @property
    def max_radius(self) -> int:
        return self._max_radius

    @property
    def tables(self) -> tuple[int, ...]:
        """Bits of each indexed part of the main segment (one table each)."""
        return tuple(p.bits for p in self._state.segments[0].parts)

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays (memory-mapped ones included)."""
        s = self._state
        tail = s.tail_ids.nbytes + s.tail_words.nbytes + s.tail_alive.nbytes
        return tail + sum(int(a.nbytes) for seg in s.segments for a in seg.arrays.values())

    def __len__(self) -> int:
        return self._state.live

    def ids(self) -> IdArray:
        """Live ids, sorted (to check the index against the database)."""
        s = self._state
        ids, _words, alive = s.tail()
        parts = [seg.ids[seg.alive] for seg in s.segments] + [ids[alive]]
        parts = [p for p in parts if p.size]
        if len(parts) <= 1:  # a segment's ids are sorted already
            return parts[0] if parts else np.empty(0, np.int64)
        return np.sort(np.concatenate(parts), kind="stable")  # merges the sorted runs

    # --- updates -------------------------------------------------------------------------

    def add(self, ids: npt.ArrayLike, codes: npt.ArrayLike) -> None:
        """Add entries; an id that is already live is an error (nothing is added then)."""
        code_array = _as_codes(codes)
        id_array = _as_ids(ids, code_array.shape[0])
        if not id_array.size:
            return
        if np.unique(id_array).size != id_array.size:
            raise ValueError("duplicate ids in one add")
        with self._lock:
            s = self._state
            for segment in s.segments:
                clash = segment.find(id_array)
                if clash.size:
                    raise ValueError(f"id {int(segment.ids[clash[0]])} is already in the index")
            for i in id_array.tolist():
                if i in self._tail_slots:
                    raise ValueError(f"id {i} is already in the index")
            count = s.tail_count
            need = count + id_array.size
            if need > s.tail_ids.shape[0]:  # grow into new arrays: readers keep the old ones
                capacity = max(need, 2 * s.tail_ids.shape[0], 64)
                ids_, words_, alive_ = s.tail()
                t_ids = np.empty(capacity, np.int64)
                t_words = np.empty((capacity, 4), np.uint64)
                t_alive = np.zeros(capacity, np.bool_)
                t_ids[:count], t_words[:count], t_alive[:count] = ids_, words_, alive_
            else:  # rows past tail_count: no published state reads them
                t_ids, t_words, t_alive = s.tail_ids, s.tail_words, s.tail_alive
            t_ids[count:need] = id_array
            t_words[count:need] = _words(code_array)
            t_alive[count:need] = True
            self._tail_slots.update(zip(id_array.tolist(), range(count, need), strict=True))
            self._state = _State(s.segments, t_ids, t_words, t_alive, need, s.live + id_array.size)
            if need > self.TAIL_MAX:
                self._merge_tail_locked()

    def remove(self, ids: npt.ArrayLike) -> int:
        """Retire entries (unknown or already retired ids are ignored); returns how many."""
        given = np.atleast_1d(np.asarray(ids)).ravel()
        id_array = np.unique(_as_ids(given, given.size))
        removed = 0
        with self._lock:
            s = self._state
            for segment in s.segments:
                hit = segment.find(id_array)
                segment.alive[hit] = False
                removed += int(hit.size)
            for i in id_array.tolist():
                slot = self._tail_slots.pop(i, None)
                if slot is not None:
                    s.tail_alive[slot] = False
                    removed += 1
            if removed:
                self._state = _State(s.segments, s.tail_ids, s.tail_words, s.tail_alive,
                                     s.tail_count, s.live - removed)  # fmt: skip
                built = sum(seg.size for seg in s.segments)
                retired = built - (self._state.live - len(self._tail_slots))
                if retired * 4 > built:
                    self._compact_locked()
        return removed

    def compact(self) -> None:
        """Rebuild one main segment from every live entry."""
        with self._lock:
            self._compact_locked()

    def _compact_locked(self) -> None:
        ids, words = self._state.live_entries()
        self._state = _fresh((_build(ids, words, self._max_radius, self._parts),))
        self._tail_slots = {}

    def _merge_tail_locked(self) -> None:
        s = self._state
        main, rest = s.segments[0], s.segments[1:]
        pending = sum(seg.size for seg in rest) + s.tail_count
        if pending > max(self.DELTA_MIN, main.size // self.DELTA_SHARE):
            self._compact_locked()
            return
        ids, words = _State(rest, s.tail_ids, s.tail_words, s.tail_alive, s.tail_count,
                            0).live_entries()  # fmt: skip
        delta = _build(ids, words, self._max_radius, None)
        self._state = _fresh((main, delta))
        self._tail_slots = {}

    # --- search --------------------------------------------------------------------------

    def search(
        self, code: bytes | str | npt.NDArray[Any], radius: int = DEFAULT_RADIUS
    ) -> list[Match]:
        """(id, distance) of every live entry within ``radius`` of one hash (32 bytes, 64
        hex digits or a uint8 array), nearest first, then by id."""
        return self._search([_one_code(code)], radius)[0]

    def search_many(self, codes: npt.ArrayLike, radius: int = DEFAULT_RADIUS) -> list[list[Match]]:
        """`search` for each row of an (q, 32) uint8 array."""
        array = np.ascontiguousarray(_as_codes(codes))
        raw = array.tobytes()
        raws = [raw[i : i + PDQ_BYTES] for i in range(0, len(raw), PDQ_BYTES)]
        results: list[list[Match]] = []
        for start in range(0, len(raws), _QUERY_CHUNK):
            results += self._search(raws[start : start + _QUERY_CHUNK], radius)
        return results

    def _search(self, raws: list[bytes], radius: int) -> list[list[Match]]:
        _check_radius(radius)
        s = self._state  # one consistent view for the whole search
        queries = np.frombuffer(b"".join(raws), dtype="<u8").reshape(-1, 4)
        found = [segment.search(raws, queries, radius) for segment in s.segments]
        if s.tail_count:
            ids, words, alive = s.tail()
            qi, row, distance = _scan(words, alive, queries, radius)
            found.append((qi, ids[row], distance))
        return _group(len(raws), found)

    # --- snapshots -----------------------------------------------------------------------

    def save(self, path: Path | str) -> None:
        """Write a snapshot atomically: the old file stays whole until the new one is.
        Searches go on meanwhile; updates wait only while the live flags are copied."""
        arrays: dict[str, npt.NDArray[Any]] = {}
        with self._lock:  # one moment's picture: retirements clear live flags in place
            s = self._state
            for number, segment in enumerate(s.segments):
                arrays.update({f"{number}.{name}": a for name, a in segment.arrays.items()})
                arrays[f"{number}.alive"] = segment.alive.view(np.uint8).copy()
            ids, words, alive = s.tail()
            arrays.update({"tail.ids": ids[alive], "tail.words": words[alive]})
        described: dict[str, dict[str, Any]] = {}
        offset = end = 0
        for name, array in arrays.items():
            offset = -(-end // _ALIGN) * _ALIGN
            end = offset + array.nbytes
            described[name] = {
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "offset": offset,  # from data_start
                "crc32": zlib.crc32(_raw(array)),
            }
        header: dict[str, Any] = {
            "format": "openhotline-pdq-index",
            "version": FORMAT_VERSION,
            "byteorder": "little",
            "max_radius": self._max_radius,
            "fixed_parts": self._parts,
            "segments": [{"lengths": list(g.lengths), "indexed": len(g.parts)} for g in s.segments],
            "live": s.live,
            "arrays": described,
        }
        # data_start and file_size are in the header they place: settle them by iterating
        data_start = 0
        while True:
            header["data_start"] = data_start
            header["file_size"] = data_start + end
            blob = json.dumps(header, sort_keys=True).encode()
            if _PREFIX + len(blob) <= data_start:
                break
            data_start = -(-(_PREFIX + len(blob)) // _ALIGN) * _ALIGN
        numbers = (FORMAT_VERSION, len(blob), zlib.crc32(blob), 0)
        prefix = MAGIC + b"".join(n.to_bytes(4, "little") for n in numbers)
        target = Path(path)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(temporary, "wb") as out:
                out.write(prefix + blob)
                for name, array in arrays.items():
                    out.seek(data_start + described[name]["offset"])
                    out.write(_raw(array))
                out.truncate(data_start + end)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @classmethod
    def load(cls, path: Path | str, mmap: bool = True, verify: bool = True) -> Self:
        """A snapshot written by `save`. With ``mmap`` the arrays stay in the page cache
        (shared, read on first touch); ``verify`` checks every array's CRC32 (reading the
        whole file). Raises `SnapshotError` for a bad file."""
        target = Path(path)
        try:
            with open(target, "rb") as source:
                size = os.fstat(source.fileno()).st_size
                header = _read_header(target, source, size)
                data: Any
                if mmap:
                    data = mmap_module.mmap(source.fileno(), 0, access=mmap_module.ACCESS_READ)
                else:
                    data = np.empty(size, dtype=np.uint8)
                    source.seek(0)
                    if source.readinto(memoryview(data)) != size:
                        raise SnapshotError(f"{target}: short read")
        except OSError as error:
            raise SnapshotError(f"{target}: cannot read the snapshot ({error})") from error
        try:
            return cls._from_header(target, header, data, verify)
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, SnapshotError):
                raise
            raise SnapshotError(f"{target}: malformed header ({error!r})") from error

    @classmethod
    def _from_header(cls, target: Path, header: dict[str, Any], data: Any, verify: bool) -> Self:
        max_radius = int(header["max_radius"])
        fixed = header["fixed_parts"]
        segments = []
        for number, described in enumerate(header["segments"]):
            lengths = tuple(int(b) for b in described["lengths"])
            indexed = int(described["indexed"])
            if sum(lengths) != PDQ_BITS or not 0 < indexed <= len(lengths):
                raise SnapshotError(f"{target}: segment {number} has a bad layout")
            parts = _layout(lengths, indexed)
            a = {
                name: _array(target, header, data, f"{number}.{name}", verify)
                for name in ("ids", "words", "alive", "perms", "offsets")
            }
            n = a["ids"].shape[0]
            buckets = sum((1 << p.bits) + 1 for p in parts)
            if (a["words"].shape, a["alive"].shape, a["perms"].shape, a["offsets"].shape) != (
                (n, 4), (n,), (indexed * n,), (buckets,)
            ):  # fmt: skip
                raise SnapshotError(f"{target}: segment {number} arrays do not fit its layout")
            alive = a["alive"].astype(np.bool_)  # a private, writable copy
            segments.append(_Segment(a["ids"], a["words"], alive, max_radius, lengths, parts,
                                     a["perms"], a["offsets"]))  # fmt: skip
        if not segments:
            raise SnapshotError(f"{target}: no segments")
        tail_ids = np.array(_array(target, header, data, "tail.ids", verify), dtype=np.int64)
        tail_words = np.array(_array(target, header, data, "tail.words", verify), np.uint64)
        if tail_words.shape != (tail_ids.shape[0], 4):
            raise SnapshotError(f"{target}: tail arrays do not match")
        live = sum(int(np.count_nonzero(s.alive)) for s in segments) + tail_ids.shape[0]
        tail_alive = np.ones(tail_ids.shape[0], np.bool_)
        state = _State(tuple(segments), tail_ids, tail_words, tail_alive, tail_ids.shape[0], live)
        return cls(state, None if fixed is None else int(fixed), max_radius)


def _raw(array: npt.NDArray[Any]) -> memoryview:
    """The bytes of an array (empty ones included, which memoryview.cast refuses)."""
    return memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _group(queries: int, found: list[_Found]) -> list[list[Match]]:
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


def _read_header(target: Path, source: Any, size: int) -> dict[str, Any]:
    head = source.read(_PREFIX)
    if len(head) < _PREFIX or head[:8] != MAGIC:
        raise SnapshotError(f"{target}: not a PDQ index snapshot")
    version, length, crc = (int.from_bytes(head[i : i + 4], "little") for i in (8, 12, 16))
    if version != FORMAT_VERSION:
        raise SnapshotError(
            f"{target}: snapshot format version {version}, this code reads version "
            f"{FORMAT_VERSION}; rebuild the index from the database"
        )
    blob = source.read(length)
    if len(blob) != length or zlib.crc32(blob) != crc:
        raise SnapshotError(f"{target}: the header is truncated or corrupt")
    try:
        header: dict[str, Any] = json.loads(blob)
    except ValueError as error:
        raise SnapshotError(f"{target}: the header is not JSON ({error})") from error
    if header.get("byteorder") != "little" or sys.byteorder != "little":
        raise SnapshotError(f"{target}: little-endian snapshots on little-endian machines only")
    if header.get("file_size") != size:
        raise SnapshotError(
            f"{target}: {size} bytes, the header says {header.get('file_size')} (truncated?)"
        )
    return header


_DTYPES = {"ids": "<i8", "words": "<u8", "alive": "|u1", "perms": "<u4", "offsets": "<u4"}


def _array(target: Path, header: dict[str, Any], data: Any, name: str, verify: bool) -> Any:
    entry = header["arrays"][name]
    dtype = np.dtype(entry["dtype"])
    if dtype.str != _DTYPES[name.rpartition(".")[2]]:
        raise SnapshotError(f"{target}: array {name} has dtype {dtype.str}")
    shape = tuple(int(x) for x in entry["shape"])
    offset = int(header["data_start"]) + int(entry["offset"])
    count = math.prod(shape)
    if offset < 0 or offset + count * dtype.itemsize > len(data):
        raise SnapshotError(f"{target}: array {name} runs past the end of the file")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)
    if verify and zlib.crc32(_raw(array)) != int(entry["crc32"]):
        raise SnapshotError(f"{target}: array {name} fails its checksum (corrupt)")
    return array
