"""Changing a feed, and reading it back as a snapshot or a delta. Callers may hold a
transaction: a change is numbered under the feed's row lock and becomes visible with the
caller's commit, so sequence numbers are monotonic per feed."""

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from openhotline.feeds.models import ChangeOp, Feed, FeedChange, FeedItem


@dataclass(frozen=True)
class Change:
    op: str  # ChangeOp
    key: str
    data: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    # For a removal: which fields of what was listed its change row keeps (None: all).
    keep: tuple[str, ...] | None = None


def feed(name: str) -> Feed:
    found, _ = Feed.objects.get_or_create(name=name)
    return found


def _chunks(seq: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def lock(name: str) -> Feed:
    """The feed's row, locked until the caller's transaction ends."""
    feed(name)
    return Feed.objects.select_for_update().get(name=name)


def apply(name: str, changes: Iterable[Change], *, reason: str = "") -> int:
    """Apply many adds and removes in one transaction, numbered as one run of sequence
    numbers taken under the feed's row lock. What would change nothing (an add of the
    same data, a remove of a key not listed) is left out. Returns the changes made."""
    wanted: dict[str, Change] = {}
    for change in changes:
        wanted[change.key] = change  # the last word on a key wins
    if not wanted:
        return 0
    with transaction.atomic():
        locked = lock(name)
        current: dict[str, FeedItem] = {}
        for keys in _chunks(list(wanted)):
            current.update(
                (item.key, item) for item in FeedItem.objects.filter(feed=locked, key__in=keys)
            )
        effective = []
        for key, change in wanted.items():
            item = current.get(key)
            live = item is not None and item.removed_seq is None
            same = live and item is not None and item.data == change.data
            if (change.op == ChangeOp.ADD and not same) or (change.op == ChangeOp.REMOVE and live):
                effective.append(change)
        if not effective:
            return 0
        first = locked.last_seq + 1
        now = timezone.now()
        fresh: list[FeedItem] = []
        changed: list[FeedItem] = []
        log: list[FeedChange] = []
        delta_live = 0
        for seq, change in enumerate(effective, start=first):
            item = current.get(change.key)
            removed: dict[str, Any] = {}
            if change.op == ChangeOp.ADD:
                if item is None:
                    fresh.append(FeedItem(feed=locked, key=change.key, data=change.data,
                                          added_seq=seq))  # fmt: skip
                    delta_live += 1
                else:
                    delta_live += int(item.removed_seq is not None)
                    item.data, item.added_seq, item.removed_seq = change.data, seq, None
                    changed.append(item)
            else:
                assert item is not None
                # A removal carries what was listed, so a member can drop it by its hashes.
                removed = item.data if change.keep is None else _kept(item.data, change.keep)
                item.data = removed
                item.removed_seq = seq
                changed.append(item)
                delta_live -= 1
            log.append(FeedChange(feed=locked, seq=seq, op=change.op, key=change.key,
                                  data=change.data if change.op == ChangeOp.ADD else removed,
                                  at=now, reason=(change.reason or reason)[:200]))  # fmt: skip
        FeedItem.objects.bulk_create(fresh, batch_size=500)
        FeedItem.objects.bulk_update(changed, ["data", "added_seq", "removed_seq"], batch_size=500)
        FeedChange.objects.bulk_create(log, batch_size=500)
        locked.last_seq = first + len(effective) - 1
        locked.live_count += delta_live
        locked.updated_at = now
        locked.save(update_fields=["last_seq", "live_count", "updated_at"])
    return len(effective)


def _kept(data: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    return {name: data[name] for name in keep if name in data}


def redact(name: str, keys: Iterable[str], *, keep: tuple[str, ...] = ()) -> int:
    """Make the feed forget what it listed under `keys` (withdrawn, not listed now): every
    past change of such a key is rewritten to carry nothing, but its last removal keeps
    the `keep` fields, so a member holding the item can still drop it by them. Numbers,
    ops and times stay, so members' cursors and their tags (`tag_of`) stay valid; snapshot
    files made before are void (`Feed.redacted_seq`). Returns the change rows rewritten."""
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    with transaction.atomic():
        locked = lock(name)
        rows: list[FeedChange] = []
        items: list[FeedItem] = []
        for chunk in _chunks(wanted):
            rows.extend(FeedChange.objects.filter(feed=locked, key__in=chunk))
            items.extend(FeedItem.objects.filter(feed=locked, key__in=chunk))
        live = {item.key for item in items if item.removed_seq is None}
        last: dict[str, FeedChange] = {}
        for row in rows:
            if row.key not in last or row.seq > last[row.key].seq:
                last[row.key] = row
        changed = []
        for row in rows:
            if row.key in live:
                continue  # listed again: what it is now stands, and so does its history
            final = row is last[row.key] and row.op == ChangeOp.REMOVE
            forgotten = _kept(row.data, keep) if final else {}
            if row.data != forgotten:
                row.data = forgotten
                changed.append(row)
        dropped = []
        for item in items:
            if item.key not in live and item.data != _kept(item.data, keep):
                item.data = _kept(item.data, keep)
                dropped.append(item)
        FeedChange.objects.bulk_update(changed, ["data"], batch_size=500)
        FeedItem.objects.bulk_update(dropped, ["data"], batch_size=500)
        if changed:
            Feed.objects.filter(pk=locked.pk).update(redacted_seq=locked.last_seq)
    return len(changed)


def add(name: str, key: str, data: dict[str, Any] | None = None, *, reason: str = "") -> bool:
    """Put `key` in the feed (or change its data); False if it was there unchanged."""
    return apply(name, [Change(ChangeOp.ADD, key, data or {})], reason=reason) == 1


def remove(name: str, key: str, *, reason: str = "") -> bool:
    """Take `key` out of the feed; False if it was not in it."""
    return apply(name, [Change(ChangeOp.REMOVE, key)], reason=reason) == 1


def snapshot(name: str, batch: int = 5000) -> tuple[int, Iterator[FeedItem]]:
    """(the sequence it is complete up to, the live items in key order), streamed in
    keyset batches so a feed of millions is read with constant memory. Read it inside a
    repeatable-read transaction (or accept that changes after `seq` may show; the delta
    from `seq` repeats them harmlessly, as adds and removes are idempotent by key)."""
    at = feed(name).last_seq

    def items() -> Iterator[FeedItem]:
        last = ""
        while True:
            rows = list(
                FeedItem.objects.filter(feed__name=name, removed_seq=None, key__gt=last).order_by(
                    "key"
                )[:batch]
            )
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1].key

    return at, items()


class CursorError(ValueError):
    """A cursor from the future, or not a number: the message says which."""


class DeltaRow(NamedTuple):
    seq: int
    op: str
    key: str
    data: dict[str, Any]
    reason: str  # the hotline's own note; never sent to members


TAG = re.compile(r"[0-9a-f]{16}")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def tag_of(feed_id: int, seq: int) -> str:
    """A fingerprint of the change numbered `seq` ("" for none, or one no longer kept).
    A client sends it back with its cursor: a hotline restored from a backup that has
    made new changes since reuses the numbers, and the tag tells its history from the
    one the client followed (the number alone would skip changes without a word)."""
    row = FeedChange.objects.filter(feed_id=feed_id, seq=seq).values_list("op", "key", "at")
    found = row.first() if seq > 0 else None
    if found is None:
        return ""
    op, key, at = found
    # The time as whole microseconds since the epoch: the same whatever zone or text form
    # the database hands the datetime back in.
    micros = (at - _EPOCH) // dt.timedelta(microseconds=1)
    return hashlib.sha256(f"{seq}\0{op}\0{key}\0{micros}".encode()).hexdigest()[:16]


def delta(
    name: str, cursor: str, limit: int = 10_000, tag: str | None = None
) -> tuple[list[DeltaRow], int, bool]:
    """The changes after `cursor`, in order: (changes, the new cursor, whether more
    remain). A client applies them and asks again with the new cursor, and the new
    cursor's `tag_of` when it has one."""
    if not isinstance(cursor, str) or not cursor.isascii() or not cursor.isdigit():
        raise CursorError(f"cursor {cursor!r} is not a sequence number")
    if tag is not None and not TAG.fullmatch(tag):
        raise CursorError(f"tag {tag[:40]!r} is not a cursor's tag (16 hex digits)")
    after = int(cursor)
    the_feed = feed(name)
    last = the_feed.last_seq
    if after < 0 or after > last:
        raise CursorError(f"cursor {after} is not between 0 and the feed's last change {last}")
    if tag is not None and tag_of(the_feed.pk, after) not in (tag, ""):
        raise CursorError(
            f"cursor {after} belongs to another history of this feed (the hotline restored "
            "its database since); take a new snapshot"
        )
    # Plain rows and orjson, not model instances: a page of 1,000 is read in a few ms.
    raw = (
        FeedChange.objects.filter(feed=the_feed, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "op", "key", Cast("data", TextField()), "reason")[: limit + 1]
    )
    changes = [DeltaRow(seq, op, key, orjson.loads(data), why) for seq, op, key, data, why in raw]
    more = len(changes) > limit
    changes = changes[:limit]
    return changes, (changes[-1].seq if changes else after), more
