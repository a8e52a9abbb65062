"""The process's PDQ index over list entries: loaded from its snapshot (memory-mapped),
else built from the database, then kept up to date from the database.

What the index holds: the usable PDQ hashes (`EntryHash` rows) of entries that were not
retired when the row was read, keyed by row id. Keeping up is cheap because hash rows are
only ever added, never edited (a changed or restored hash is a new row): before each
search the index adds the rows with ids above the highest it holds. Retirement, deleted
rows, disabled lists and per-list thresholds are applied when the candidates are read
back from the database, so a stale index can return too many candidates, never miss one.
`check()` compares the index with the database; `rebuild()` makes a fresh one and saves
its snapshot.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from openhotline.signals.models import EntryHash
from openhotline.signals.pdq_index import PdqIndex

MAX_RADIUS = 31
_CHUNK = 100_000

_lock = threading.Lock()
_index: PdqIndex | None = None
# The highest hash row id the index holds; ids() costs tens of ms at 10 M entries.
_highest_id = 0


def snapshot_path() -> Path:
    return Path(settings.VAR_DIR) / "index" / "pdq.idx"


def _rows_after(after_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, codes) of indexable PDQ rows with ids above `after_id`, read in chunks."""
    id_parts: list[np.ndarray] = []
    code_parts: list[np.ndarray] = []
    while True:
        rows = list(
            EntryHash.objects.filter(
                hash_type="pdq", usable_for_matching=True, entry__retired_at=None, pk__gt=after_id
            )
            .order_by("pk")
            .values_list("pk", "value")[:_CHUNK]
        )
        if not rows:
            break
        id_parts.append(np.fromiter((pk for pk, _ in rows), dtype=np.int64, count=len(rows)))
        blob = bytes.fromhex("".join(value for _, value in rows))
        code_parts.append(np.frombuffer(blob, dtype=np.uint8).reshape(-1, 32))
        after_id = rows[-1][0]
        if len(rows) < _CHUNK:
            break
    if not id_parts:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 32), dtype=np.uint8)
    return np.concatenate(id_parts), np.concatenate(code_parts)


def _highest(index: PdqIndex) -> int:
    ids = index.ids()
    return int(ids[-1]) if len(ids) else 0


def _catch_up(index: PdqIndex) -> None:
    global _highest_id
    ids, codes = _rows_after(_highest_id)
    if len(ids):
        index.add(ids, codes)
        _highest_id = int(ids[-1])


def current() -> PdqIndex:
    """The up-to-date index of this process."""
    global _index, _highest_id
    with _lock:
        if _index is None:
            _index = _load_or_build()
            _highest_id = _highest(_index)
        _catch_up(_index)
        return _index


def _load_or_build() -> PdqIndex:
    path = snapshot_path()
    if path.exists():
        try:
            return PdqIndex.load(path, mmap=True)
        except (OSError, ValueError):
            pass  # a damaged snapshot is rebuilt, never trusted
    ids, codes = _rows_after(0)
    return PdqIndex.build(ids, codes, max_radius=MAX_RADIUS)


def rebuild(save: bool = True) -> PdqIndex:
    """A fresh index from the database (dropping retired rows), saved as the snapshot."""
    global _index, _highest_id
    ids, codes = _rows_after(0)
    index = PdqIndex.build(ids, codes, max_radius=MAX_RADIUS)
    if save:
        path = snapshot_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        index.save(path)
    with _lock:
        _index = index
        _highest_id = _highest(index)
    return index


def forget() -> None:
    """Drop this process's index (tests; after the database was replaced)."""
    global _index, _highest_id
    with _lock:
        _index = None
        _highest_id = 0


def remove(ids: list[int]) -> None:
    """Take rows out of this process's index at once (others filter them on read)."""
    with _lock:
        if _index is not None and ids:
            _index.remove(np.asarray(ids, dtype=np.int64))


@dataclass
class Consistency:
    indexed: int
    expected: int
    missing: list[int]  # in the database, not in the index: would be missed
    extra: list[int]  # in the index, not (any more) in the database: filtered on read

    @property
    def ok(self) -> bool:
        return not self.missing


def check(index: PdqIndex | None = None) -> Consistency:
    """Compare an index (default: the snapshot on disk) with the database."""
    if index is None:
        index = PdqIndex.load(snapshot_path(), mmap=True)
    expected, _codes = _rows_after(0)
    indexed = index.ids()
    missing = np.setdiff1d(expected, indexed, assume_unique=True)
    extra = np.setdiff1d(indexed, expected, assume_unique=True)
    # Rows added after the snapshot are caught up on load; only older ones are missing.
    top = int(indexed[-1]) if len(indexed) else 0
    missing = missing[missing <= top]
    return Consistency(
        indexed=len(indexed),
        expected=int(np.count_nonzero(expected <= top)),
        missing=[int(i) for i in missing[:1000]],
        extra=[int(i) for i in extra[:1000]],
    )
