"""The members' Hash List: the live entries of every enabled hash list that is shared with
members, one feed item per entry, keyed by the entry's number (zero-padded, so key order
is number order). The feed follows the hash lists in the same transaction as each change
(`signals.lists` hands each on: "share_hash_entries" in `openhotline.pipeline`); turning a
list on, off, or its sharing walks the whole list in the background
(`tasks.sync_list_task`).

What a member sees of an item depends on its licence's tier (`for_tier`): hashes only;
hashes with the category; or everything the hotline knows that a member may use.
The source's own ids and provenance notes never leave the hotline.

A list that stops being shared is withdrawn, not just removed: its entries' removals keep
only their hashes, and every earlier change of them is rewritten to carry nothing, so a
delta from an old cursor or a snapshot no longer hands out what was shared
(`services.redact`; old snapshot files are discarded). Switching a list off or retiring
an entry only removes: the hotline still stands by what it shared.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import Prefetch

from openhotline.feeds import exports, services
from openhotline.feeds.hash_fields import (  # noqa: F401  (named here by the OpenAPI text)
    CATEGORY_FIELDS,
    FULL_FIELDS,
    RECORD_FIELDS,
    TIER_FIELDS,
    WITHHELD_KEEPS,
)
from openhotline.feeds.models import ChangeOp, FeedName
from openhotline.signals.matching import threshold_for
from openhotline.signals.models import AllowedHash, EntryHash, HashList, ListEntry
from openhotline.signals.types import HASH_TYPES

NAME = FeedName.HASH_LIST
BATCH = 2000


def key_of(entry_id: int) -> str:
    return f"{entry_id:012d}"


def for_tier(data: dict[str, Any], tier: str) -> dict[str, Any]:
    """What a licence of `tier` may see of an item."""
    return {name: data[name] for name in TIER_FIELDS[tier] if name in data}


def record_of(entry: ListEntry, hashes: Iterable[EntryHash]) -> dict[str, Any] | None:
    """The feed's data for an entry, or None when it should not be listed."""
    usable = {row.hash_type: row for row in hashes if row.usable_for_matching}
    hash_list = entry.hash_list
    if (
        not usable
        or entry.retired_at is not None
        or not hash_list.enabled
        or not hash_list.share_with_members
    ):
        return None
    pdq = usable.get("pdq")
    data: dict[str, Any] = {
        "hashes": {name: usable[name].value for name in sorted(usable)},
        "list": hash_list.name,
    }
    if pdq is not None and pdq.quality is not None:
        data["pdq_quality"] = pdq.quality
    for name in (*CATEGORY_FIELDS, *FULL_FIELDS):
        if name == "list":
            continue
        value = getattr(entry, name)
        if value in ("", None):
            continue
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return data


def sync_entries(entry_ids: Iterable[int], *, reason: str = "hash list") -> int:
    """Bring these entries' feed items in line with the entries (idempotent): returns
    the changes made."""
    ids = sorted(set(entry_ids))
    made = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with transaction.atomic():
            made += _sync_chunk(chunk, reason)
    return made


def _sync_chunk(chunk: list[int], reason: str) -> int:
    # The feed's lock first, then the entries: a retirement committed meanwhile is seen,
    # never overwritten by what was read before it (every change to the feed takes it).
    services.lock(NAME)
    entries = {
        entry.pk: entry
        for entry in ListEntry.objects.filter(pk__in=chunk)
        .select_related("hash_list")
        .prefetch_related(Prefetch("hashes", to_attr="all_hashes"))
    }
    allowed: dict[int, list[AllowedHash]] = {}
    for row in AllowedHash.objects.filter(
        hash_list_id__in={e.hash_list_id for e in entries.values()}
    ):
        allowed.setdefault(row.hash_list_id, []).append(row)
    changes = []
    withheld = []
    for entry_id in chunk:
        entry = entries.get(entry_id)
        data = None
        if entry is not None:
            hashes = [
                h for h in entry.all_hashes
                if not _allowed(h, entry.hash_list, allowed.get(entry.hash_list_id, []))
            ]  # fmt: skip
            data = record_of(entry, hashes)
        if data is not None:
            changes.append(services.Change(ChangeOp.ADD, key_of(entry_id), data))
        elif entry is not None and not entry.hash_list.share_with_members:
            withheld.append(key_of(entry_id))
            changes.append(services.Change(ChangeOp.REMOVE, key_of(entry_id), keep=WITHHELD_KEEPS))
        else:
            changes.append(services.Change(ChangeOp.REMOVE, key_of(entry_id)))
    made = services.apply(NAME, changes, reason=reason)
    # A list no longer shared was shared by mistake or its source withdrew consent: the
    # feed's history forgets its entries too, and snapshot files holding them go.
    if withheld and services.redact(NAME, withheld, keep=WITHHELD_KEEPS):
        transaction.on_commit(lambda: exports.discard_void(NAME))
    return made


def _allowed(row: EntryHash, hash_list: HashList, allowed: list[AllowedHash]) -> bool:
    """Whether the list's allow-list cancels this hash: a known false positive (a logo, a
    blank frame) is not sent to members to block, as it would not match here either."""
    mine = [a for a in allowed if a.hash_type == row.hash_type]
    if not mine:
        return False
    if row.hash_type in ("md5", "sha1", "sha256"):
        return any(a.lookup_key == row.lookup_key for a in mine)
    limit = threshold_for(hash_list, row.hash_type)
    kind = HASH_TYPES.get(row.hash_type)
    return kind is not None and any(kind.distance(row.value, a.value) <= limit for a in mine)


def _ids_of(hash_list: HashList) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(
            ListEntry.objects.filter(hash_list=hash_list, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def sync_list(hash_list: HashList, progress: Callable[[int, int], None] | None = None) -> int:
    """Walk a whole list after its settings changed; each batch commits on its own, so a
    walk cut short is finished by running it again."""
    seen = made = 0
    for ids in _ids_of(hash_list):
        made += sync_entries(ids, reason=f"list {hash_list.name} settings")
        seen += len(ids)
        if progress is not None:
            progress(seen, made)
    return made
