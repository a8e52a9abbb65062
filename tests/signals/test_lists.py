"""Hash list entries: batched idempotent imports with history rows, retire and restore."""

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError

from openhotline.accounts.models import User
from openhotline.audit.models import AuditEvent
from openhotline.signals import lists
from openhotline.signals.lists import import_records, restore_entry, retire_entry
from openhotline.signals.models import EntryChange, EntryHash, HashList, ListEntry
from openhotline.signals.records import EntryRecord, FieldError, RecordErrors, build_record

pytestmark = pytest.mark.django_db

Row = tuple[str, EntryRecord | None, list[FieldError]]


def md5(n: int) -> str:
    return hashlib.md5(f"file {n}".encode()).hexdigest()  # noqa: S324 (a test value)


def pdq(n: int) -> str:
    return hashlib.sha256(f"pdq {n}".encode()).hexdigest()


def rows(fields: Iterable[dict[str, Any]]) -> Iterator[Row]:
    for line, item in enumerate(fields, start=2):
        try:
            yield f"line {line}", build_record(item), []
        except RecordErrors as exc:
            yield f"line {line}", None, exc.errors


@pytest.fixture
def police_list() -> HashList:
    return HashList.objects.create(name="caid", source="police")


def test_an_import_creates_entries_with_hashes_metadata_and_a_history_row(
    police_list: HashList,
) -> None:
    summary = import_records(
        police_list,
        rows([{"md5": md5(1), "pdq": pdq(1), "grade": "penetrative", "age_band": "3-6",
               "victim_identified": "yes", "series": "Series X", "external_id": "V-1"}]),
        source="import:caid.csv",
    )  # fmt: skip
    assert summary.as_dict() == {"created": 1, "updated": 0, "unchanged": 0, "retired": 0,
                                 "rejected": 0}  # fmt: skip
    entry = ListEntry.objects.get()
    assert (entry.uk_category, entry.interpol_baseline, entry.vics_category) == ("A", True, 1)
    assert entry.victim_identified is True and entry.series == "Series X"
    assert {h.hash_type: h.value for h in entry.hashes.all()} == {"md5": md5(1), "pdq": pdq(1)}
    change = EntryChange.objects.get()
    assert change.action == "created" and change.source == "import:caid.csv line 2"
    assert change.changes["grade"] == "penetrative" and change.changes["hashes"] == ["md5", "pdq"]


def test_importing_the_same_rows_twice_changes_nothing_the_second_time(
    police_list: HashList,
) -> None:
    data = [{"md5": md5(n), "grade": "sexual_posing"} for n in range(30)]
    import_records(police_list, rows(data), source="first", batch_size=7)
    again = import_records(police_list, rows(data), source="second", batch_size=7)
    assert again.as_dict() == {"created": 0, "updated": 0, "unchanged": 30, "retired": 0,
                               "rejected": 0}  # fmt: skip
    assert ListEntry.objects.count() == 30 and EntryHash.objects.count() == 30
    assert EntryChange.objects.count() == 30


def test_a_reimport_updates_fields_and_adds_hashes_keeping_both_values_in_history(
    police_list: HashList,
) -> None:
    first = {"external_id": "V-9", "md5": md5(9), "grade": "sexual_posing"}
    import_records(police_list, rows([first]), source="first")
    summary = import_records(
        police_list,
        rows([{"external_id": "V-9", "sha1": hashlib.sha1(b"x").hexdigest(),  # noqa: S324
               "grade": "non_penetrative", "series": ""}]),
        source="second",
    )  # fmt: skip
    assert summary.updated == 1
    entry = ListEntry.objects.get()
    assert entry.grade == "non_penetrative"
    # Fields the file leaves empty keep what was known; hashes it leaves out stay.
    assert {h.hash_type for h in entry.hashes.all()} == {"md5", "sha1"}
    update = entry.changes.get(action="updated")
    assert update.changes["grade"] == ["sexual_posing", "non_penetrative"]
    assert update.changes["sha1"][0] is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("found_by", ["external_id", "hash"])
def test_a_retirement_during_a_reimport_is_never_undone(monkeypatch, found_by: str) -> None:
    """GIVEN an import that has found the entries it updates WHEN staff retire one of them
    before the import commits THEN the retirement waits and stands, and the import's
    update lands too (without the row lock, PostgreSQL let the import write the entry
    back as live)."""
    import threading

    from django.db import connection

    police_list = HashList.objects.create(name="caid", source="police")
    manager = User.objects.create(username="m", role="manager")
    first = {"md5": md5(9), "grade": "sexual_posing"}
    if found_by == "external_id":
        first["external_id"] = "V-9"
    import_records(police_list, rows([first]), source="first")
    entry = ListEntry.objects.get()
    found, real = threading.Event(), lists._Batch._hashes_of

    def slow_hashes_of(entry_ids):
        found.set()  # the import has its entries; give the retirement time to try
        threading.Event().wait(0.5)
        return real(entry_ids)

    monkeypatch.setattr(lists._Batch, "_hashes_of", staticmethod(slow_hashes_of))

    def retire() -> None:
        found.wait(5)
        retire_entry(ListEntry.objects.get(pk=entry.pk), "false positive", actor=manager)
        connection.close()

    other = threading.Thread(target=retire)
    other.start()
    import_records(police_list, rows([{**first, "grade": "non_penetrative"}]), source="again")
    other.join(10)
    entry.refresh_from_db()
    assert entry.retired_at is not None and entry.retired_reason == "false positive"
    assert entry.grade == "non_penetrative"


def test_rows_of_one_media_in_one_batch_become_one_entry(police_list: HashList) -> None:
    summary = import_records(
        police_list,
        rows([{"md5": md5(1), "grade": "sexual_posing"}, {"md5": md5(1), "series": "S"}]),
        source="dup",
    )
    assert ListEntry.objects.count() == 1
    assert ListEntry.objects.get().series == "S"
    assert summary.created == 1


def test_bad_rows_are_reported_by_line_and_field_while_good_rows_land(
    police_list: HashList,
) -> None:
    data: list[dict[str, Any]] = [{"md5": md5(n)} for n in range(10)]
    data[3] = {"md5": "abc"}
    data[7] = {"md5": md5(7), "vics_category": "7"}
    summary = import_records(police_list, rows(data), source="mixed", batch_size=4)
    assert summary.created == 8 and summary.rejected_count == 2
    (where3, errors3), (where7, errors7) = summary.rejected
    assert where3 == "line 5" and errors3[0].field == "md5" and "wrong length" in errors3[0].message
    assert where7 == "line 9" and errors7[0].field == "vics_category"


def test_a_batch_that_fails_in_the_database_rolls_back_whole_and_earlier_batches_stay(
    police_list: HashList, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = lists._insert_changes
    calls = {"n": 0}

    def failing(rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise IntegrityError("disk on fire")
        real(rows)

    monkeypatch.setattr(lists, "_insert_changes", failing)
    with pytest.raises(IntegrityError):
        import_records(police_list, rows({"md5": md5(n)} for n in range(10)), source="x",
                       batch_size=5)  # fmt: skip
    # The first batch landed whole; nothing of the second is half-written.
    assert ListEntry.objects.count() == 5 and EntryHash.objects.count() == 5
    monkeypatch.setattr(lists, "_insert_changes", real)
    finish = import_records(police_list, rows({"md5": md5(n)} for n in range(10)), source="x",
                            batch_size=5)  # fmt: skip
    assert (finish.created, finish.unchanged) == (5, 5)


def test_an_import_can_retire_an_entry_but_never_restores_one(police_list: HashList) -> None:
    import_records(police_list, rows([{"md5": md5(1)}]), source="a")
    retired = import_records(
        police_list, rows([{"md5": md5(1), "retired": "true", "retired_reason": "false positive"}]),
        source="b",
    )  # fmt: skip
    entry = ListEntry.objects.get()
    assert retired.retired == 1 and entry.retired and entry.retired_reason == "false positive"
    import_records(police_list, rows([{"md5": md5(1), "retired": "false"}]), source="c")
    entry.refresh_from_db()
    assert entry.retired


def test_retire_and_restore_are_history_rows_and_audit_events(
    police_list: HashList, manager: User
) -> None:
    import_records(police_list, rows([{"pdq": pdq(1)}]), source="a")
    entry = ListEntry.objects.get()
    old_hash_ids = set(entry.hashes.values_list("pk", flat=True))
    with pytest.raises(ValueError, match="reason"):
        retire_entry(entry, "  ", actor=manager)
    assert retire_entry(entry, "a logo, not CSAM", actor=manager)
    assert not retire_entry(entry, "again", actor=manager)
    assert restore_entry(entry, "mistaken retirement", actor=manager)
    assert not entry.retired
    # Restored hashes are new rows, so every process's PDQ index picks them up again.
    assert not old_hash_ids & set(entry.hashes.values_list("pk", flat=True))
    assert [c.action for c in entry.changes.order_by("at", "pk")] == [
        "created",
        "retired",
        "restored",
    ]
    assert list(
        AuditEvent.objects.filter(object_id=str(entry.pk)).values_list("action", flat=True)
    ) == ["signals.entry_retired", "signals.entry_restored"]


def test_entry_record_round_trips_an_entry(police_list: HashList) -> None:
    record = build_record({"md5": md5(1), "pdq": pdq(1), "pdq_quality": "40", "grade": "adult",
                           "external_id": "E", "first_seen": "2020-02-02"})  # fmt: skip
    import_records(police_list, iter([("line 2", record, [])]), source="a")
    entry = ListEntry.objects.get()
    assert not entry.hashes.get(hash_type="pdq").usable_for_matching
    assert lists.entry_record(entry, entry.hashes.all()) == record
