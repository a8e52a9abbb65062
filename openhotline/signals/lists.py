"""Hash list entries: importing them in batches, idempotently, and retiring or restoring
them, with every change kept as an `EntryChange` row.

An entry is identified inside its list by its `external_id` when the source gives one
(a VICS MediaID, a partner's reference), otherwise by its first hash in IDENTITY_ORDER.
Importing the same file twice changes nothing the second time. Re-importing an entry
merges: fields the file gives replace the stored ones, hashes it gives are added or
replaced, hashes it leaves out stay. An import can retire an entry but never restores
one: that is a person's decision (`restore_entry`).
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from openhotline import pipeline
from openhotline.audit.services import record as audit
from openhotline.signals.models import EntryChange, EntryHash, HashList, ListEntry
from openhotline.signals.records import EntryRecord, FieldError
from openhotline.signals.services import lookup_key
from openhotline.signals.tasks import REMATCH_PRIORITY, queue_rematch, rematch_entries_task

# Strongest identity first: a file hash names one file; a perceptual one may not.
IDENTITY_ORDER = ("sha256", "sha1", "md5", "photodna", "pdq", "video")
# Metadata copied from a record onto an entry (retirement is handled on its own).
ENTRY_FIELDS = (
    "external_id", "grade", "uk_category", "interpol_baseline", "vics_category", "age_band",
    "non_photographic", "victim_identified", "offender_identified", "series",
    "confirmed_by_police", "first_seen", "provenance",
)  # fmt: skip
# Entries stored in one transaction: a failure loses (and rolls back) at most this many.
BATCH_SIZE = 1000


def entries_changed(hash_list: HashList, entry_ids: list[int]) -> None:
    """Entries were created, updated, retired or restored, in the caller's transaction:
    the members' Hash List follows in the same commit."""
    pipeline.start("share_hash_entries", entry_ids, reason=f"list {hash_list.name}")


def list_changed(hash_list: HashList) -> None:
    """A list's settings changed whether its entries are shared or matched (switched on or
    off, shared or not, its allow-list): the Hash List walks it again after the commit,
    and a list switched on is matched against open cases."""
    pipeline.start("share_hash_list", hash_list.pk)
    _list_switched(hash_list)


def _rematch_open_cases(hash_list: HashList, entry_ids: list[int]) -> None:
    """Entries that may match now: open cases' media are matched against them again
    (`signals.rematch`), queued in this transaction so the change never lands without."""
    if hash_list.enabled:
        queue_rematch(hash_list.pk, entry_ids)


def _list_switched(hash_list: HashList) -> None:
    """A list switched on (or its sharing or allow-list changed): all its entries."""
    if not hash_list.enabled:
        return
    bounds = ListEntry.objects.filter(hash_list=hash_list).aggregate(
        low=models.Min("pk"), high=models.Max("pk")
    )
    if bounds["low"] is not None:
        rematch_entries_task.using(priority=REMATCH_PRIORITY).enqueue(
            hash_list.pk, [[bounds["low"], bounds["high"]]]
        )


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    # (where, errors) for every row that did not land: "line 12", [FieldError, ...]
    rejected: list[tuple[str, list[FieldError]]] = field(default_factory=list)
    rejected_count: int = 0

    @property
    def landed(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "retired": self.retired, "rejected": self.rejected_count,
        }  # fmt: skip


def identity(record: EntryRecord) -> tuple[str, str] | None:
    """(hash type, lookup key) that names this record's media inside a list."""
    for name in IDENTITY_ORDER:
        if name in record.hashes:
            return name, lookup_key(record.hashes[name])
    return None


def _record_values(record: EntryRecord) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ENTRY_FIELDS:
        value = getattr(record, name)
        if name in ("grade", "uk_category", "age_band") and value is None:
            value = ""
        values[name] = value
    return values


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


class _Batch:
    """One transaction's worth of records for one list."""

    def __init__(self, hash_list: HashList, source: str, actor: Any) -> None:
        self.hash_list = hash_list
        self.source = source
        self.actor = actor
        self.items: list[tuple[str, EntryRecord]] = []

    def land(self, summary: ImportSummary) -> None:
        if not self.items:
            return
        with transaction.atomic():
            self._land(summary)
        self.items = []

    def _land(self, summary: ImportSummary) -> None:
        now = timezone.now()
        by_external, by_identity = self._existing()
        hashes_of = self._hashes_of({e.pk for e in (*by_external.values(), *by_identity.values())})
        changes: list[EntryChange] = []
        new_hashes: list[EntryHash] = []
        stale_hash_ids: list[int] = []
        to_update: dict[int, ListEntry] = {}
        fresh: list[tuple[str, EntryRecord, ListEntry]] = []
        for where, record in self.items:
            key = identity(record)
            entry = by_external.get(record.external_id) if record.external_id else None
            if entry is None and key is not None:
                entry = by_identity.get(key)
            if entry is None:
                entry = ListEntry(
                    hash_list=self.hash_list, created_at=now, updated_at=now,
                    **_record_values(record),
                )  # fmt: skip
                if record.retired:
                    entry.retired_at = now
                    entry.retired_reason = record.retired_reason or "retired in the source"
                fresh.append((where, record, entry))
                # Later rows of this batch with the same identity update this entry.
                if record.external_id:
                    by_external[record.external_id] = entry
                if key is not None:
                    by_identity[key] = entry
                continue
            if entry.pk is None:
                # Second sight of an entry this batch creates: merge into it in memory.
                self._merge_fresh(entry, record, fresh)
                summary.updated += 1
                continue
            diff = self._apply(entry, record, now, hashes_of.setdefault(entry.pk, {}),
                               new_hashes, stale_hash_ids)  # fmt: skip
            action = EntryChange.Action.UPDATED
            if record.retired and entry.retired_at is None:
                entry.retired_at = now
                entry.retired_reason = record.retired_reason or "retired in the source"
                diff["retired"] = [False, True]
                action = EntryChange.Action.RETIRED
                summary.retired += 1
            if diff:
                entry.updated_at = now
                to_update[entry.pk] = entry
                changes.append(EntryChange(entry=entry, action=action, changes=diff,
                                           source=f"{self.source} {where}", actor=self.actor,
                                           at=now))  # fmt: skip
                summary.updated += 1
            else:
                summary.unchanged += 1
        created = ListEntry.objects.bulk_create([entry for _, _, entry in fresh])
        for (where, record, _), entry in zip(fresh, created, strict=True):
            for name, value in record.hashes.items():
                new_hashes.append(self._hash_row(entry, name, value, record))
            set_fields = {
                k: _json(v) for k, v in _record_values(record).items() if v not in ("", None, False)
            }
            set_fields["hashes"] = sorted(record.hashes)
            changes.append(EntryChange(entry=entry, action=EntryChange.Action.CREATED,
                                       changes=set_fields, source=f"{self.source} {where}",
                                       actor=self.actor, at=now))  # fmt: skip
            summary.created += 1
            summary.retired += int(record.retired)
        if to_update:
            ListEntry.objects.bulk_update(
                list(to_update.values()),
                [*ENTRY_FIELDS, "retired_at", "retired_reason", "updated_at"],
            )
        if stale_hash_ids:
            EntryHash.objects.filter(pk__in=stale_hash_ids).delete()
        _insert_hashes(new_hashes)
        _insert_changes(changes)
        touched = [entry.pk for entry in created] + list(to_update)
        if touched:
            entries_changed(self.hash_list, touched)
            _rematch_open_cases(self.hash_list, touched)

    def _existing(self) -> tuple[dict[str, ListEntry], dict[tuple[str, str], ListEntry]]:
        externals = {r.external_id for _, r in self.items if r.external_id}
        external_ids = dict(
            ListEntry.objects.filter(
                hash_list=self.hash_list, external_id__in=externals
            ).values_list("external_id", "pk")
        )
        # Only rows their external id did not find need the (dearer) lookup by hash.
        keys = {
            k
            for _, r in self.items
            if r.external_id not in external_ids and (k := identity(r)) is not None
        }
        identity_ids: dict[tuple[str, str], int] = {}
        for name in {k[0] for k in keys}:
            lookups = [k[1] for k in keys if k[0] == name]
            rows = EntryHash.objects.filter(
                entry__hash_list=self.hash_list, hash_type=name, lookup_key__in=lookups
            ).values_list("lookup_key", "entry_id")
            for lookup, entry_id in rows:
                identity_ids.setdefault((name, lookup), entry_id)
        # The entries are read again under a row lock, in id order (two imports lock
        # alike): a retirement committed meanwhile is seen, and one that comes during
        # the batch waits for it, so the batch never writes a retired entry back as live.
        locked = ListEntry.objects.select_for_update().filter(
            pk__in={*external_ids.values(), *identity_ids.values()}
        )
        entries = {e.pk: e for e in locked.order_by("pk")}
        by_external = {x: entries[pk] for x, pk in external_ids.items() if pk in entries}
        by_identity = {k: entries[pk] for k, pk in identity_ids.items() if pk in entries}
        return by_external, by_identity

    @staticmethod
    def _hashes_of(entry_ids: set[int]) -> dict[int, dict[str, EntryHash]]:
        out: dict[int, dict[str, EntryHash]] = {}
        for row in EntryHash.objects.filter(entry_id__in=entry_ids):
            out.setdefault(row.entry_id, {})[row.hash_type] = row
        return out

    @staticmethod
    def _hash_row(entry: ListEntry, name: str, value: str, record: EntryRecord) -> EntryHash:
        return EntryHash(
            entry=entry, hash_type=name, value=value, lookup_key=lookup_key(value),
            usable_for_matching=name not in record.unusable,
            quality=record.pdq_quality if name == "pdq" else None,
        )  # fmt: skip

    def _apply(
        self,
        entry: ListEntry,
        record: EntryRecord,
        now: dt.datetime,
        hashes: dict[str, EntryHash],
        new_hashes: list[EntryHash],
        stale_hash_ids: list[int],
    ) -> dict[str, list[Any]]:
        diff: dict[str, list[Any]] = {}
        for name, value in _record_values(record).items():
            # A file that leaves a field empty does not erase what is known.
            if value in ("", None) or (name == "non_photographic" and value is False):
                continue
            before = getattr(entry, name)
            if before != value:
                diff[name] = [_json(before), _json(value)]
                setattr(entry, name, value)
        for name, value in record.hashes.items():
            current = hashes.get(name)
            quality = record.pdq_quality if name == "pdq" else None
            if (
                current is not None
                and current.value == value
                and (quality is None or current.quality == quality)
            ):
                continue
            if current is not None and current.pk is None:
                new_hashes.remove(current)  # written earlier in this very batch
            elif current is not None:
                stale_hash_ids.append(current.pk)
            diff[name] = [current.value if current else None, value]
            row = self._hash_row(entry, name, value, record)
            new_hashes.append(row)
            hashes[name] = row
        return diff

    @staticmethod
    def _merge_fresh(
        entry: ListEntry, record: EntryRecord, fresh: list[tuple[str, EntryRecord, ListEntry]]
    ) -> None:
        for index, (where, earlier, candidate) in enumerate(fresh):
            if candidate is entry:
                merged = {**earlier.hashes, **record.hashes}
                for name, value in _record_values(record).items():
                    if value not in ("", None):
                        setattr(entry, name, value)
                fresh[index] = (where, replace(earlier, hashes=merged), entry)
                return


def _insert_hashes(rows: list[EntryHash]) -> None:
    """Plain rows, many at once: the ORM's bulk_create spends more time building SQL for
    these than the database spends storing them."""
    table = EntryHash._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (entry_id, hash_type, value, lookup_key, "  # noqa: S608
            "usable_for_matching, quality) VALUES (%s, %s, %s, %s, %s, %s)",
            [(r.entry.pk, r.hash_type, r.value, r.lookup_key, r.usable_for_matching, r.quality)
             for r in rows],
        )  # fmt: skip


def _insert_changes(rows: list[EntryChange]) -> None:
    table = EntryChange._meta.db_table
    # The fields' own conversions: JSON for `changes`, the backend's form of a time.
    changes = EntryChange._meta.get_field("changes")
    at = EntryChange._meta.get_field("at")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (entry_id, action, changes, source, actor_id, at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(c.entry.pk, c.action, changes.get_db_prep_save(c.changes, connection),
              c.source[:500], c.actor.pk if c.actor is not None else None,
              at.get_db_prep_save(c.at, connection)) for c in rows],
        )  # fmt: skip


def import_records(
    hash_list: HashList,
    rows: Iterable[tuple[str, EntryRecord | None, list[FieldError]]],
    *,
    source: str,
    actor: Any = None,
    batch_size: int = BATCH_SIZE,
    keep_rejected: int = 1000,
    progress: Callable[[int, ImportSummary], None] | None = None,
) -> ImportSummary:
    """Land good rows in transactional batches; list bad ones with where they are.

    `rows` yields (where, record, errors) — "line 12", a record or None, its errors.
    A batch that fails in the database rolls back whole and the error propagates: the
    batches before it stay, and re-running the import finishes the job.
    """
    summary = ImportSummary()
    batch = _Batch(hash_list, source, actor)
    seen = 0
    for where, record, errors in rows:
        seen += 1
        if record is None:
            summary.rejected_count += 1
            if len(summary.rejected) < keep_rejected:
                summary.rejected.append((where, errors))
        else:
            batch.items.append((where, record))
            if len(batch.items) >= batch_size:
                batch.land(summary)
        if progress is not None and seen % 1000 == 0:
            progress(seen, summary)
    batch.land(summary)
    if progress is not None:
        progress(seen, summary)
    return summary


def retire_entry(entry: ListEntry, reason: str, *, actor: Any, source: str = "staff") -> bool:
    """Retire an entry so it never matches again; False if it was retired already."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is needed to retire an entry")
    with transaction.atomic():
        now = timezone.now()
        changed = ListEntry.objects.filter(pk=entry.pk, retired_at=None).update(
            retired_at=now, retired_reason=reason[:500], updated_at=now
        )
        if not changed:
            return False
        EntryChange.objects.create(entry=entry, action=EntryChange.Action.RETIRED,
                                   changes={"retired": [False, True], "reason": reason[:500]},
                                   source=source, actor=actor, at=now)  # fmt: skip
        entries_changed(entry.hash_list, [entry.pk])
        audit("signals.entry_retired", actor=actor, obj=entry, data={"reason": reason[:500]})
    entry.refresh_from_db()
    return True


def restore_entry(entry: ListEntry, reason: str, *, actor: Any) -> bool:
    """Bring a retired entry back. Its hashes are written anew so that every process's
    PDQ index, which follows new hash rows, picks them up again."""
    with transaction.atomic():
        now = timezone.now()
        changed = ListEntry.objects.filter(pk=entry.pk, retired_at__isnull=False).update(
            retired_at=None, retired_reason="", updated_at=now
        )
        if not changed:
            return False
        rows = list(EntryHash.objects.filter(entry=entry))
        EntryHash.objects.filter(entry=entry).delete()
        for row in rows:
            row.pk = None
        EntryHash.objects.bulk_create(rows)
        EntryChange.objects.create(entry=entry, action=EntryChange.Action.RESTORED,
                                   changes={"retired": [True, False], "reason": reason[:500]},
                                   source="staff", actor=actor, at=now)  # fmt: skip
        entries_changed(entry.hash_list, [entry.pk])
        _rematch_open_cases(entry.hash_list, [entry.pk])
        audit("signals.entry_restored", actor=actor, obj=entry, data={"reason": reason[:500]})
    entry.refresh_from_db()
    return True


def set_sharing(hash_list: HashList, share: bool, *, actor: Any, via: str = "staff") -> bool:
    """Share a list's live entries with members, or stop: a manager's decision, audited
    with who and how (`via`: "staff", or the command that did it, whose actor is None).
    The members' Hash List follows in the background (`feeds.tasks.sync_list_task`);
    unsharing also makes its history forget the entries. False if it was so already."""
    with transaction.atomic():
        locked = HashList.objects.select_for_update().get(pk=hash_list.pk)
        if locked.share_with_members == share:
            return False
        locked.share_with_members = share
        locked.updated_at = timezone.now()
        locked.save(update_fields=["share_with_members", "updated_at"])
        audit("signals.list_shared" if share else "signals.list_unshared", actor=actor,
              obj=locked, data={"list": locked.name, "source": locked.source,
                                "via": via})  # fmt: skip
        list_changed(locked)
    hash_list.share_with_members, hash_list.updated_at = share, locked.updated_at
    return True


def entry_record(entry: ListEntry, hashes: Iterable[EntryHash]) -> EntryRecord:
    """An entry as an interchange record, for export."""
    values = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    for name in ("grade", "uk_category", "age_band"):
        values[name] = values[name] or None
    rows = list(hashes)
    pdq = next((row for row in rows if row.hash_type == "pdq"), None)
    return EntryRecord(
        hashes={row.hash_type: row.value for row in rows},
        pdq_quality=pdq.quality if pdq is not None else None,
        retired=entry.retired_at is not None,
        retired_reason=entry.retired_reason,
        **values,
    )
