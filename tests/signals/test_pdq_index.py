"""The PDQ match index is exact: every live entry within the radius, never one beyond it,
through the tables, the delta, retirements, brute-force radii and snapshots."""

import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openhotline.signals import pdq_snapshot
from openhotline.signals.pdq_index import PdqIndex, SnapshotError, codes_from_hex
from openhotline.signals.pdq_layout import default_parts, part_lengths
from openhotline.signals.pdq_snapshot import FORMAT_VERSION

Codes = npt.NDArray[np.uint8]


def flip(code: Codes, bits: npt.ArrayLike) -> Codes:
    """``code`` with the given bit positions (0 = high bit of byte 0) flipped."""
    unpacked = np.unpackbits(code)
    unpacked[np.asarray(bits, dtype=np.intp)] ^= 1
    return np.packbits(unpacked)


def clustered(rng: np.random.Generator, n: int, seeds: int = 8, spread: int = 40) -> Codes:
    """Half random hashes, half near a few seeds (0..spread bits flipped)."""
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    centres = rng.integers(0, 256, (seeds, 32), dtype=np.uint8)
    for row in range(0, n, 2):
        count = int(rng.integers(0, spread + 1))
        codes[row] = flip(centres[row % seeds], rng.choice(256, count, replace=False))
    return codes


def brute(ids: npt.NDArray[np.int64], codes: Codes, query: Codes, radius: int) -> list[Any]:
    distance = np.unpackbits(codes ^ query, axis=1).sum(axis=1) if len(codes) else np.zeros(0)
    return sorted((int(distance[i]), int(ids[i])) for i in np.flatnonzero(distance <= radius))


def as_pairs(matches: list[tuple[int, int]]) -> list[Any]:
    return [(distance, i) for i, distance in matches]


def check_exact(index: PdqIndex, ids: Any, codes: Codes, queries: Codes, radius: int) -> None:
    many = index.search_many(queries, radius)
    assert len(many) == len(queries)
    for query, found in zip(queries, many, strict=True):
        assert as_pairs(found) == brute(ids, codes, query, radius)
        assert index.search(query.tobytes(), radius) == found


@pytest.fixture(scope="module")
def data() -> tuple[npt.NDArray[np.int64], Codes, Codes]:
    rng = np.random.default_rng(20240531)
    codes = clustered(rng, 3000)
    ids = rng.permutation(1_000_000)[:3000].astype(np.int64) - 500_000  # negative ids too
    queries = np.concatenate([codes[:40:2], codes[1:20:2], clustered(rng, 20)])
    return ids, codes, queries


@pytest.mark.parametrize("parts", [None, 12, 13, 16, 24, 64])
def test_exact_against_brute_force(data, parts):
    ids, codes, queries = data
    index = PdqIndex.build(ids, codes, parts=parts)
    for radius in (0, 7, 31):
        check_exact(index, ids, codes, queries, radius)


def test_31_bits_away_matches_and_32_does_not():
    rng = np.random.default_rng(1)
    centre = rng.integers(0, 256, 32, dtype=np.uint8)
    order = rng.permutation(256)
    near = np.stack([flip(centre, order[:k]) for k in range(41)])  # k bits away, k = 0..40
    filler = rng.integers(0, 256, (2000, 32), dtype=np.uint8)
    codes = np.concatenate([near, filler])
    ids = np.arange(len(codes), dtype=np.int64) + 100
    for parts in (None, 13):
        index = PdqIndex.build(ids, codes, parts=parts)
        found = index.search(centre.tobytes())
        assert found == [(100 + k, k) for k in range(32)]
        assert index.search(centre.tobytes(), radius=32)[-1] == (132, 32)
        assert index.search(near[31].tobytes(), radius=0) == [(131, 0)]
        assert index.search(centre.tobytes().hex()) == found  # hex queries too


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 80),
    radius=st.integers(0, 70),
    max_radius=st.sampled_from([0, 5, 31, 40]),
    parts=st.sampled_from([None, 16, 20, 24, 32, 64]),
)
def test_property_exact(seed, n, radius, max_radius, parts):
    rng = np.random.default_rng(seed)
    codes = clustered(rng, n, seeds=3, spread=int(rng.integers(0, 80)))
    ids = rng.choice(10**12, n, replace=False).astype(np.int64)
    queries = np.concatenate([codes[:4], clustered(rng, 3, seeds=1)])
    index = PdqIndex.build(ids, codes, max_radius=max_radius, parts=parts)
    check_exact(index, ids, codes, queries, radius)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 12))
def test_property_updates(seed, steps):
    """Random adds and removals (through the delta and compactions) against a dict."""
    rng = np.random.default_rng(seed)
    live: dict[int, Codes] = {}
    pool = clustered(rng, 120, seeds=2, spread=50)
    first = rng.choice(120, int(rng.integers(0, 40)), replace=False)
    index = PdqIndex.build(first.astype(np.int64), pool[first], parts=20)
    index.TAIL_MAX, index.DELTA_MIN = 8, 30  # through every kind of merge
    live.update({int(i): pool[i] for i in first})
    for _ in range(steps):
        if rng.random() < 0.6:
            fresh = [i for i in rng.choice(120, 10, replace=False) if int(i) not in live]
            index.add(np.array(fresh, dtype=np.int64), pool[fresh].reshape(-1, 32))
            live.update({int(i): pool[i] for i in fresh})
        else:
            gone = rng.choice(120, 15, replace=False)
            expected = sum(1 for i in gone if int(i) in live)
            assert index.remove(gone) == expected
            for i in gone:
                live.pop(int(i), None)
        assert len(index) == len(live)
        assert index.ids().tolist() == sorted(live)
        ids = np.array(sorted(live), dtype=np.int64)
        codes = np.stack([live[i] for i in ids.tolist()]) if live else np.zeros((0, 32), np.uint8)
        check_exact(index, ids, codes, pool[:6], 31)


def test_add_and_remove():
    rng = np.random.default_rng(2)
    codes = clustered(rng, 500)
    index = PdqIndex.build(np.arange(400), codes[:400])
    index.add(np.arange(400, 500), codes[400:])
    assert len(index) == 500
    check_exact(index, np.arange(500), codes, codes[::25], 31)

    with pytest.raises(ValueError, match="already in the index"):
        index.add([7], codes[:1])  # live in the main part
    with pytest.raises(ValueError, match="already in the index"):
        index.add([450], codes[:1])  # live in the delta
    with pytest.raises(ValueError, match="duplicate"):
        index.add([900, 900], codes[:2])
    assert len(index) == 500

    assert index.remove([7, 450, 7, 12345]) == 2  # unknown and repeated ids are ignored
    assert index.remove(7) == 0
    assert 7 not in index.ids() and 450 not in index.ids()
    assert all(i not in (7, 450) for i, _ in index.search(codes[7].tobytes()))
    assert all(i not in (7, 450) for i, _ in index.search(codes[450].tobytes()))
    index.add([7, 450], codes[[7, 450]])  # a retired id may come back
    assert (7, 0) in index.search(codes[7].tobytes())
    assert (450, 0) in index.search(codes[450].tobytes())

    keep = np.setdiff1d(np.arange(500), [3, 4])
    index.remove([3, 4])
    index.compact()
    assert index.ids().tolist() == keep.tolist()
    check_exact(index, keep, codes[keep], codes[::25], 31)


def test_additions_go_to_a_tail_then_a_delta_segment_then_a_rebuild():
    rng = np.random.default_rng(3)
    codes = clustered(rng, 400)
    index = PdqIndex.build(np.arange(100), codes[:100])
    index.TAIL_MAX, index.DELTA_MIN = 20, 100

    def shape() -> tuple[list[int], int]:
        s = index._state
        return [seg.size for seg in s.segments], s.tail_count

    index.add(np.arange(100, 115), codes[100:115])
    assert shape() == ([100], 15)
    index.add(np.arange(115, 125), codes[115:125])  # tail full: an indexed delta segment
    assert shape() == ([100, 25], 0)
    index.add(np.arange(125, 140), codes[125:140])
    assert shape() == ([100, 25], 15)
    check_exact(index, np.arange(140), codes[:140], codes[::10], 31)
    index.remove([3, 110, 130])  # from each of the three
    keep = np.setdiff1d(np.arange(140), [3, 110, 130])
    check_exact(index, keep, codes[keep], codes[::10], 31)
    index.add(np.arange(140, 300), codes[140:300])  # the delta outgrows DELTA_MIN: rebuilt
    assert shape() == ([297], 0)
    index.remove(np.arange(0, 200))  # over a quarter retired: rebuilt without them
    assert shape() == ([100], 0) and len(index) == 100
    check_exact(index, np.arange(200, 300), codes[200:300], codes[::10], 31)


def test_radius_above_max_radius_is_still_exact(data):
    ids, codes, queries = data
    index = PdqIndex.build(ids, codes, max_radius=10)
    assert len(index.tables) == 11  # only the parts a radius-10 query probes get tables
    for radius in (10, 11, 31, 64):
        check_exact(index, ids, codes, queries[:10], radius)
    index.add([10**9], queries[:1])
    assert (10**9, 0) in index.search(queries[0].tobytes(), radius=40)
    assert len(index.search(queries[0].tobytes(), radius=256)) == len(ids) + 1


def test_empty_index(tmp_path):
    index = PdqIndex.build(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
    query = np.zeros((3, 32), np.uint8)
    assert len(index) == 0 and index.ids().size == 0
    assert index.search(bytes(32)) == [] and index.search(bytes(32), radius=100) == []
    assert index.search_many(query) == [[], [], []]
    assert index.search_many(np.zeros((0, 32), np.uint8)) == []
    index.save(tmp_path / "empty.pdqx")
    loaded = PdqIndex.load(tmp_path / "empty.pdqx")
    assert len(loaded) == 0 and loaded.search(bytes(32)) == []
    loaded.add([5], query[:1])
    assert loaded.search(bytes(32)) == [(5, 0)]


def test_bad_input():
    with pytest.raises(ValueError, match="duplicate id 3"):
        PdqIndex.build([3, 1, 3], np.zeros((3, 32), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        PdqIndex.build([1], np.zeros((1, 31), np.uint8))
    with pytest.raises(ValueError, match="ids"):
        PdqIndex.build([1, 2], np.zeros((1, 32), np.uint8))
    index = PdqIndex.build([1], np.zeros((1, 32), np.uint8))
    with pytest.raises(ValueError, match="32 bytes"):
        index.search(bytes(31))
    with pytest.raises(ValueError, match="radius"):
        index.search(bytes(32), radius=-1)
    with pytest.raises(ValueError, match="64 hex digits"):
        codes_from_hex(["ab"])
    with pytest.raises(ValueError, match="parts"):
        PdqIndex.build([1], np.zeros((1, 32), np.uint8), parts=10)
    with pytest.raises(ValueError, match="max_radius"):
        PdqIndex.build([1], np.zeros((1, 32), np.uint8), max_radius=64)


def test_hex_and_layout_helpers():
    example = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    codes = codes_from_hex([example, "00" * 32])
    assert codes.shape == (2, 32) and codes[0].tobytes().hex() == example
    assert part_lengths(12) == (22,) * 4 + (21,) * 8
    assert sum(part_lengths(13)) == 256
    assert default_parts(10_000_000) == 12 and default_parts(10) == 16


def test_concurrent_search_while_adding():
    rng = np.random.default_rng(4)
    codes = clustered(rng, 2000)
    index = PdqIndex.build(np.arange(1000), codes[:1000])
    index.TAIL_MAX, index.DELTA_MIN = 150, 500  # merges and a rebuild while searching
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                for i in (0, 500, 999):  # always present: must always be found
                    assert (i, 0) in index.search(codes[i].tobytes())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=searcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for start in range(1000, 2000, 100):
        index.add(np.arange(start, start + 100), codes[start : start + 100])
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    check_exact(index, np.arange(2000), codes, codes[::100], 31)


# --- snapshots --------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path, data):
    ids, codes, _queries = data
    index = PdqIndex.build(ids[:2000], codes[:2000], parts=20)  # parts across words
    index.TAIL_MAX = 300
    index.add(ids[2000:2800], codes[2000:2800])  # a delta segment
    index.add(ids[2800:], codes[2800:])  # and a tail
    assert len(index._state.segments) == 2 and index._state.tail_count == 200
    index.remove(ids[:10])  # retired entries are saved as they are
    index.remove(ids[2000:2005])
    index.remove(ids[2800:2805])
    path = tmp_path / "pdq.index"
    index.save(path)
    return index, path


@pytest.mark.parametrize("mmap", [True, False])
def test_snapshot_round_trip(saved, data, mmap):
    index, path = saved
    ids, codes, queries = data
    loaded = PdqIndex.load(path, mmap=mmap)
    keep = np.setdiff1d(np.arange(len(ids)), np.r_[0:10, 2000:2005, 2800:2805])
    assert len(loaded) == len(index) == len(keep)
    assert loaded.ids().tolist() == index.ids().tolist() == sorted(ids[keep])
    assert loaded.tables == index.tables and loaded.max_radius == 31
    assert loaded.search_many(queries) == index.search_many(queries)
    check_exact(loaded, ids[keep], codes[keep], queries, 31)
    # the loaded index takes updates (the memory-mapped arrays are never written)
    loaded.remove(ids[10:20])
    loaded.add([-(10**15)], queries[:1])
    assert (-(10**15), 0) in loaded.search(queries[0].tobytes())
    loaded.compact()
    assert (-(10**15), 0) in loaded.search(queries[0].tobytes())
    assert len(loaded) == len(keep) - 10 + 1


def rewrite(path: Path, at: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(data)


def test_truncated_snapshot(saved):
    _index, path = saved
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - 5000)
    with pytest.raises(SnapshotError, match="truncated"):
        PdqIndex.load(path)
    with open(path, "r+b") as f:
        f.truncate(30)
    with pytest.raises(SnapshotError, match="header is truncated or corrupt"):
        PdqIndex.load(path)


def test_corrupt_snapshot(saved):
    _index, path = saved
    data = path.read_bytes()
    for at in (len(data) // 2, len(data) - 100):  # in the tables, in the last array
        path.write_bytes(data)
        rewrite(path, at, bytes([data[at] ^ 0x10]))
        with pytest.raises(SnapshotError, match="fails its checksum"):
            PdqIndex.load(path)
        with pytest.raises(SnapshotError, match="fails its checksum"):
            PdqIndex.load(path, mmap=False)
        PdqIndex.load(path, verify=False)  # verify=False trusts the data

    path.write_bytes(data)
    rewrite(path, 40, b"#")  # in the JSON header
    with pytest.raises(SnapshotError, match="header is truncated or corrupt"):
        PdqIndex.load(path)


def test_other_files(saved, tmp_path):
    _index, path = saved
    rewrite(path, 8, (FORMAT_VERSION + 1).to_bytes(4, "little"))
    with pytest.raises(SnapshotError, match=f"version {FORMAT_VERSION + 1}.*rebuild"):
        PdqIndex.load(path)
    other = tmp_path / "other"
    other.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(SnapshotError, match="not a PDQ index snapshot"):
        PdqIndex.load(other)
    other.write_bytes(b"")
    with pytest.raises(SnapshotError, match="not a PDQ index snapshot"):
        PdqIndex.load(other)
    with pytest.raises(SnapshotError, match="cannot read"):
        PdqIndex.load(tmp_path / "missing")


class FailingFile:
    """A file whose writes fail once ``budget`` bytes have been written."""

    def __init__(self, real: Any, budget: int) -> None:
        self.real, self.budget = real, budget

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if size > self.budget:
            self.real.write(memoryview(data).cast("B")[: self.budget])
            raise OSError(28, "No space left on device")
        self.budget -= size
        return int(self.real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> "FailingFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


@pytest.mark.parametrize("failure", ["write", "fsync"])
def test_failed_save_keeps_the_previous_snapshot(saved, data, monkeypatch, failure):
    index, path = saved
    _ids, _codes, queries = data
    before = path.read_bytes()
    bigger = PdqIndex.build(np.arange(5000), clustered(np.random.default_rng(5), 5000))
    if failure == "write":
        real_open = open
        monkeypatch.setattr(
            pdq_snapshot, "open", lambda p, m: FailingFile(real_open(p, m), 50_000), raising=False
        )
    else:

        def no_fsync(fd: int) -> None:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(pdq_snapshot.os, "fsync", no_fsync)
    with pytest.raises(OSError, match=r"No space left|Input/output error"):
        bigger.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left
    assert PdqIndex.load(path).search_many(queries) == index.search_many(queries)
    bigger.save(path)  # and a save that works replaces it
    assert len(PdqIndex.load(path)) == 5000
