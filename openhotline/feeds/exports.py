"""Pre-generated snapshot files for the big feeds (a Hash List of ten million entries
cannot be built per request).

`export` streams the live items in key order, in keyset batches of plain rows, through
the format's writer, gzip and a SHA-256 into a temporary file, so memory stays flat
whatever the feed's size. It reads the feed's sequence *before* the scan: changes made
during the scan may show in the file, and the delta from that sequence repeats them,
which changes nothing (adds and removes are idempotent per key). The file and its signed
manifest are renamed into place only when complete; the newest `KEEP` stay.

Layout: FEED_EXPORT_DIR/<feed>/<tier>/<seq>.<format>.gz and <seq>.<format>.gz.manifest.json
(the name `openhotline verify-feed` looks for).
"""

import datetime as dt
import fcntl
import gzip
import hashlib
import io
import json
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from openhotline.feeds import render, services, signing
from openhotline.feeds.hash_fields import RECORD_FIELDS, TIER_FIELDS
from openhotline.feeds.models import Feed, FeedItem, FeedName, Tier

KEEP = 2
BATCH = 20_000
ALL = "all"  # the tier of feeds whose items look the same to every member


def tiers_of(feed: str) -> tuple[str, ...]:
    return tuple(Tier.values) if feed == FeedName.HASH_LIST else (ALL,)


class _Hashing(io.RawIOBase):
    """A write-only stream that keeps the SHA-256 and size of what goes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.sha256.update(data)
        self.size += len(data)
        self.raw.write(data)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()


def _live_rows(
    feed_id: int, fields: tuple[str, ...] | None, as_stored: bool
) -> Iterator[render.Row | render.StoredRow]:
    """(seq, "add", key, data) of the live items in key order, batch by batch: data
    limited to `fields` (all with None), or `as_stored`, the stored JSON text as an
    orjson Fragment that JSON Lines writes as it is, with no decoding and encoding again
    (most of a row's cost)."""
    table = connection.ops.quote_name(FeedItem._meta.db_table)
    # The table name is the model's and the limit a constant; the values are bound.
    where = "WHERE feed_id = %s AND removed_seq IS NULL AND key > %s"
    sql = f"SELECT key, added_seq, data FROM {table} {where} ORDER BY key LIMIT {BATCH}"  # noqa: S608
    last = ""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [feed_id, last])
            rows = cursor.fetchall()
        if as_stored:
            for key, seq, raw in rows:
                stored = raw if isinstance(raw, str | bytes) else orjson.dumps(raw)
                yield seq, "add", key, orjson.Fragment(stored)
        else:
            for key, seq, raw in rows:
                data = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
                if fields is not None:
                    data = {name: data[name] for name in fields if name in data}
                yield seq, "add", key, data
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


class _Packer(io.RawIOBase):
    """Gzip, both SHA-256s and the disk writes on a second thread. zlib and hashlib let go
    of the GIL on big buffers, so on two cores packing overlaps with building rows (it
    was a third of an export's time). Chunks are large: the packing thread waits for the
    GIL after each call, and few calls per megabyte keep those waits rare."""

    CHUNK = 4 << 20

    def __init__(self, raw: BinaryIO, level: int) -> None:
        super().__init__()
        self.hashing = _Hashing(raw)
        self.plain: _Hashing | None = None
        self._level = level
        self._pending: list[bytes] = []
        self._size = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._pack, name="feed-export-pack", daemon=True)
        self._thread.start()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= self.CHUNK:
            self._hand_over()
        return len(data)

    def _hand_over(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._pending:
            self._queue.put(b"".join(self._pending))
            self._pending, self._size = [], 0

    def finish(self) -> None:
        """Pack what is left and wait for the packing thread; its failure raised here."""
        try:
            self._hand_over()
        finally:
            self._queue.put(None)
            self._thread.join()
        if self._failure is not None:
            raise self._failure

    def _pack(self) -> None:
        ended = False  # the writer's last word (None) taken
        try:
            with gzip.GzipFile(
                fileobj=self.hashing, mode="wb", compresslevel=self._level, mtime=0
            ) as packed:
                self.plain = _Hashing(packed)  # type: ignore[arg-type]
                while (chunk := self._queue.get()) is not None:
                    self.plain.write(chunk)
                ended = True  # closing (the last blocks, the trailer) may still fail
        except BaseException as failure:  # reported to the writer by finish() or write()
            self._failure = failure
            while not ended:
                ended = self._queue.get() is None  # drain: the writer never blocks


@dataclass(frozen=True)
class Export:
    path: Path
    manifest: dict[str, Any]

    @property
    def seq(self) -> int:
        return int(self.manifest["to_seq"])


def _folder(feed: str, tier: str) -> Path:
    return Path(settings.FEED_EXPORT_DIR) / feed / tier


def export(
    feed: str, tier: str = ALL, fmt: str = "jsonl", progress: Callable[[int], None] | None = None
) -> Export:
    """Write the snapshot file of `feed` for `tier` in `fmt`; the file at the feed's
    current sequence if one exists already."""
    if tier not in tiers_of(feed):
        raise ValueError(f"{feed} has tiers {', '.join(tiers_of(feed))}, not {tier!r}")
    folder = _folder(feed, tier)
    folder.mkdir(parents=True, exist_ok=True)
    # One export per feed, tier and format at a time (cron and the web's background task
    # may both start one): the second waits, then finds the first's file.
    with open(folder / f".{fmt}.lock", "wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _export(feed, tier, fmt, folder, progress)


def _export(
    feed: str, tier: str, fmt: str, folder: Path, progress: Callable[[int], None] | None
) -> Export:
    the_feed = services.feed(feed)
    at = the_feed.last_seq
    final = folder / f"{at}.{fmt}.gz"
    existing = newest(feed, tier, fmt)
    if existing is not None and existing.seq == at:
        return existing
    partial = folder / f".{at}.{fmt}.{os.getpid()}.partial"
    fields = TIER_FIELDS[tier] if feed == FeedName.HASH_LIST else None
    # Nothing to hide: the stored JSON goes out as it is.
    as_stored = fmt == "jsonl" and (fields is None or set(RECORD_FIELDS) <= set(fields))
    rows = _counted(_live_rows(the_feed.pk, fields, as_stored), progress)
    try:
        with open(partial, "wb") as raw:
            # Level 3: most of level 6's size at twice its speed, which bounds export.
            packer = _Packer(raw, level=3)
            try:
                written = render.write(feed, fmt, rows, packer)  # type: ignore[arg-type]
            finally:
                packer.finish()
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)  # a full disk or a lost database: no half file kept
        raise
    hashing, plain = packer.hashing, packer.plain
    assert plain is not None  # set by the packing thread before its first chunk
    manifest = signing.manifest_of(
        hashing.sha256.hexdigest(), hashing.size, feed=feed, kind="snapshot", format=fmt,
        encoding="gzip", from_seq=0, to_seq=at, to_tag=services.tag_of(the_feed.pk, at),
        count=written, more=False, tier=tier,
        made_at=timezone.now().isoformat(timespec="seconds"),
        content_sha256=plain.sha256.hexdigest(), content_bytes=plain.size,
    )  # fmt: skip
    manifest_path = final.with_name(f"{final.name}.manifest.json")
    os.replace(partial, final)
    _write_atomically(manifest_path, json.dumps(manifest, indent=1).encode())
    _prune(folder, fmt, services.feed(feed), final)  # as it is now, not at the start
    return Export(final, manifest)


def _counted[R](rows: Iterator[R], progress: Callable[[int], None] | None) -> Iterator[R]:
    if progress is None:
        yield from rows
        return
    n = 0
    for n, row in enumerate(rows, start=1):
        if n % 100_000 == 0:
            progress(n)
        yield row
    progress(n)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def _complete(folder: Path, fmt: str) -> list[tuple[int, Path]]:
    """(seq, manifest path) of the finished files, newest first. A file counts only
    once its manifest is in place: the manifest is renamed in last."""
    found = []
    for manifest in folder.glob(f"*.{fmt}.gz.manifest.json"):
        head = manifest.name.split(".", 1)[0]
        if head.isdigit() and manifest.with_name(f"{head}.{fmt}.gz").exists():
            found.append((int(head), manifest))
    return sorted(found, reverse=True)


def newest(feed: str, tier: str, fmt: str) -> Export | None:
    """The newest complete file, unless it is ahead of the feed or of another history
    (a database restored to an earlier point): a snapshot no delta can follow is no
    snapshot."""
    the_feed = services.feed(feed)
    folder = _folder(feed, tier)
    if not folder.is_dir():
        return None
    for seq, manifest_path in _complete(folder, fmt):
        manifest = _manifest(manifest_path)
        if manifest is not None and _follows(the_feed, seq, manifest):
            return Export(manifest_path.with_name(f"{seq}.{fmt}.gz"), manifest)
    return None


def _prune(folder: Path, fmt: str, the_feed: Feed, made: Path) -> None:
    """Keep the newest KEEP files the feed can follow, `made` always among them; files
    of another history (ahead of a restored feed, or their tag not its) go first, or
    they would outrank, and remove, the file just made."""
    usable = []
    for seq, manifest_path in _complete(folder, fmt):
        path = manifest_path.with_name(f"{seq}.{fmt}.gz")
        manifest = _manifest(manifest_path)
        if path != made and (manifest is None or not _follows(the_feed, seq, manifest)):
            _remove(manifest_path, path)
        else:
            usable.append((manifest_path, path))
    for manifest_path, path in usable[KEEP:]:
        if path != made:
            _remove(manifest_path, path)


def _manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _follows(the_feed: Feed, seq: int, manifest: dict[str, Any]) -> bool:
    """Whether a file's snapshot is of the feed's history (deltas can follow it), and not
    older than its last redaction (it may hold items since withdrawn)."""
    if seq > the_feed.last_seq or seq < the_feed.redacted_seq:
        return False
    tag = manifest.get("to_tag", "")
    return not tag or tag == services.tag_of(the_feed.pk, seq)


def discard_void(feed: str) -> int:
    """Delete every snapshot file of `feed` (each tier and format) that no delta can follow
    or that was made before the feed's last redaction; returns how many. Run after a
    redaction, so withdrawn items do not wait on disk for the next export's pruning."""
    the_feed = services.feed(feed)
    gone = 0
    for tier in tiers_of(feed):
        folder = _folder(feed, tier)
        if not folder.is_dir():
            continue
        for fmt in render.formats_of(feed):
            for seq, manifest_path in _complete(folder, fmt):
                manifest = _manifest(manifest_path)
                if manifest is None or not _follows(the_feed, seq, manifest):
                    _remove(manifest_path, manifest_path.with_name(f"{seq}.{fmt}.gz"))
                    gone += 1
    return gone


def _remove(manifest: Path, path: Path) -> None:
    manifest.unlink(missing_ok=True)  # first: without it the file no longer counts
    path.unlink(missing_ok=True)


def stale(feed: str, tier: str, fmt: str) -> bool:
    """Whether the newest file is missing, too old or too many changes behind."""
    return is_stale(feed, newest(feed, tier, fmt))


def is_stale(feed: str, current: Export | None) -> bool:
    """`stale` for the file `newest` gave (the snapshot view has it already)."""
    if current is None:
        return True
    behind = services.feed(feed).last_seq - current.seq
    made = dt.datetime.fromisoformat(current.manifest.get("made_at", "1970-01-01T00:00:00+00:00"))
    age = (timezone.now() - made).total_seconds()
    return behind > settings.FEED_EXPORT_MAX_CHANGES or (
        behind > 0 and age > settings.FEED_EXPORT_MAX_AGE_SECONDS
    )
