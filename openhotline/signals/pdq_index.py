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
the candidates with XOR + popcount on the full hashes (the layout is `pdq_layout`, the
tables and their search `pdq_segments`). Parts have about log2(n) - 2 bits (16 to 22): at
10 million hashes, 12 parts of 21/22 bits probed at distance 2 or 1, about 2,000 buckets
and 7,000 candidates per query, under 1 ms on one core. Larger query radii than the index
was built for are answered by a brute-force scan (exact, slow).
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

Snapshots (`pdq_snapshot`): ``save`` writes a versioned, checksummed file atomically;
``load`` memory-maps it back and raises `SnapshotError` on anything wrong; the caller then
rebuilds from the database.

No Django here: the caller loads ids and hashes (`codes_from_hex` parses 64-digit hex) and
keeps the index in step with the database. This module is the index itself (building,
updates, search, save and load); the store, the matching code and the benchmarks import
from it only.
"""

import threading
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from openhotline.signals.pdq_layout import (
    DEFAULT_RADIUS,
    MAX_RADIUS,
    PDQ_BYTES,
    IdArray,
    Match,
    as_codes,
    as_ids,
    check_radius,
    codes_from_hex,
    one_code,
    words_of,
)
from openhotline.signals.pdq_segments import (
    State,
    build_segment,
    fresh_state,
    group_matches,
    scan,
)
from openhotline.signals.pdq_snapshot import SnapshotError, read_snapshot, write_snapshot

# Named as `pdq_index.<name>` by the matching code, the store and the benchmarks.
__all__ = ["DEFAULT_RADIUS", "Match", "PdqIndex", "SnapshotError", "codes_from_hex"]

# Queries in one vectorised pass of search_many (bounds the temporaries to a few MB each).
_QUERY_CHUNK = 128


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

    def __init__(self, state: State, parts: int | None, max_radius: int) -> None:
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
        check_radius(max_radius)
        if max_radius > MAX_RADIUS:
            raise ValueError(f"max_radius above {MAX_RADIUS}: the tables would cost more "
                             "than a scan; larger query radii scan anyway")  # fmt: skip
        code_array = as_codes(codes)
        id_array = as_ids(ids, code_array.shape[0])
        order = np.argsort(id_array, kind="stable")
        id_array = id_array[order]
        if id_array.size > 1 and not bool(np.all(id_array[1:] != id_array[:-1])):
            duplicated = id_array[1:][id_array[1:] == id_array[:-1]][0]
            raise ValueError(f"duplicate id {int(duplicated)}")
        words = words_of(code_array[order])  # the fancy index copies: the index owns it
        segment = build_segment(id_array, words, max_radius, parts)
        return cls(fresh_state((segment,)), parts, max_radius)

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
        code_array = as_codes(codes)
        id_array = as_ids(ids, code_array.shape[0])
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
            t_words[count:need] = words_of(code_array)
            t_alive[count:need] = True
            self._tail_slots.update(zip(id_array.tolist(), range(count, need), strict=True))
            self._state = State(s.segments, t_ids, t_words, t_alive, need, s.live + id_array.size)
            if need > self.TAIL_MAX:
                self._merge_tail_locked()

    def remove(self, ids: npt.ArrayLike) -> int:
        """Retire entries (unknown or already retired ids are ignored); returns how many."""
        given = np.atleast_1d(np.asarray(ids)).ravel()
        id_array = np.unique(as_ids(given, given.size))
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
                self._state = State(s.segments, s.tail_ids, s.tail_words, s.tail_alive,
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
        self._state = fresh_state((build_segment(ids, words, self._max_radius, self._parts),))
        self._tail_slots = {}

    def _merge_tail_locked(self) -> None:
        s = self._state
        main, rest = s.segments[0], s.segments[1:]
        pending = sum(seg.size for seg in rest) + s.tail_count
        if pending > max(self.DELTA_MIN, main.size // self.DELTA_SHARE):
            self._compact_locked()
            return
        ids, words = State(rest, s.tail_ids, s.tail_words, s.tail_alive, s.tail_count,
                            0).live_entries()  # fmt: skip
        delta = build_segment(ids, words, self._max_radius, None)
        self._state = fresh_state((main, delta))
        self._tail_slots = {}

    # --- search --------------------------------------------------------------------------

    def search(
        self, code: bytes | str | npt.NDArray[Any], radius: int = DEFAULT_RADIUS
    ) -> list[Match]:
        """(id, distance) of every live entry within ``radius`` of one hash (32 bytes, 64
        hex digits or a uint8 array), nearest first, then by id."""
        return self._search([one_code(code)], radius)[0]

    def search_many(self, codes: npt.ArrayLike, radius: int = DEFAULT_RADIUS) -> list[list[Match]]:
        """`search` for each row of an (q, 32) uint8 array."""
        array = np.ascontiguousarray(as_codes(codes))
        raw = array.tobytes()
        raws = [raw[i : i + PDQ_BYTES] for i in range(0, len(raw), PDQ_BYTES)]
        results: list[list[Match]] = []
        for start in range(0, len(raws), _QUERY_CHUNK):
            results += self._search(raws[start : start + _QUERY_CHUNK], radius)
        return results

    def _search(self, raws: list[bytes], radius: int) -> list[list[Match]]:
        check_radius(radius)
        s = self._state  # one consistent view for the whole search
        queries = np.frombuffer(b"".join(raws), dtype="<u8").reshape(-1, 4)
        found = [segment.search(raws, queries, radius) for segment in s.segments]
        if s.tail_count:
            ids, words, alive = s.tail()
            qi, row, distance = scan(words, alive, queries, radius)
            found.append((qi, ids[row], distance))
        return group_matches(len(raws), found)

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
        header = {
            "max_radius": self._max_radius,
            "fixed_parts": self._parts,
            "segments": [{"lengths": list(g.lengths), "indexed": len(g.parts)} for g in s.segments],
            "live": s.live,
        }
        write_snapshot(path, arrays, header)

    @classmethod
    def load(cls, path: Path | str, mmap: bool = True, verify: bool = True) -> Self:
        """A snapshot written by `save`. With ``mmap`` the arrays stay in the page cache
        (shared, read on first touch); ``verify`` checks every array's CRC32 (reading the
        whole file). Raises `SnapshotError` for a bad file."""
        state, fixed_parts, max_radius = read_snapshot(path, mmap, verify)
        return cls(state, fixed_parts, max_radius)
