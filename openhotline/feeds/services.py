"""Changing a feed, and reading it back as a snapshot or a delta. Callers may hold a
transaction: a change is numbered under the feed's row lock and becomes visible with the
caller's commit, so sequence numbers are monotonic per feed."""

from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from openhotline.feeds.models import ChangeOp, Feed, FeedChange, FeedItem


def feed(name: str) -> Feed:
    found, _ = Feed.objects.get_or_create(name=name)
    return found


def _next_seq(name: str) -> tuple[Feed, int]:
    feed(name)
    locked = Feed.objects.select_for_update().get(name=name)
    locked.last_seq += 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["last_seq", "updated_at"])
    return locked, locked.last_seq


def add(name: str, key: str, data: dict[str, Any] | None = None, *, reason: str = "") -> bool:
    """Put `key` in the feed (or change its data); False if it was there unchanged."""
    data = data or {}
    with transaction.atomic():
        current = FeedItem.objects.filter(feed__name=name, key=key).first()
        if current is not None and current.removed_seq is None and current.data == data:
            return False
        locked, seq = _next_seq(name)
        FeedItem.objects.update_or_create(
            feed=locked, key=key, defaults={"data": data, "added_seq": seq, "removed_seq": None}
        )
        FeedChange.objects.create(
            feed=locked, seq=seq, op=ChangeOp.ADD, key=key, data=data, reason=reason[:200]
        )
    return True


def remove(name: str, key: str, *, reason: str = "") -> bool:
    """Take `key` out of the feed; False if it was not in it."""
    with transaction.atomic():
        current = FeedItem.objects.filter(feed__name=name, key=key, removed_seq=None).first()
        if current is None:
            return False
        locked, seq = _next_seq(name)
        FeedItem.objects.filter(pk=current.pk).update(removed_seq=seq)
        FeedChange.objects.create(
            feed=locked, seq=seq, op=ChangeOp.REMOVE, key=key, reason=reason[:200]
        )
    return True


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


def delta(name: str, cursor: str, limit: int = 10_000) -> tuple[list[FeedChange], int, bool]:
    """The changes after `cursor`, in order: (changes, the new cursor, whether more
    remain). A client applies them and asks again with the new cursor."""
    try:
        after = int(cursor)
    except (TypeError, ValueError):
        raise CursorError(f"cursor {cursor!r} is not a sequence number") from None
    last = feed(name).last_seq
    if after < 0 or after > last:
        raise CursorError(f"cursor {after} is not between 0 and the feed's last change {last}")
    changes = list(
        FeedChange.objects.filter(feed__name=name, seq__gt=after).order_by("seq")[: limit + 1]
    )
    more = len(changes) > limit
    changes = changes[:limit]
    return changes, (changes[-1].seq if changes else after), more
