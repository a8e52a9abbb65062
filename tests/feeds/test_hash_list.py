"""The members' Hash List follows the hash lists: imports, retirements, restores and a
list's settings, in the same commit; members see what their licence's tier allows."""

import pytest

from openhotline.feeds import hash_list, services
from openhotline.feeds.models import FeedItem, Tier
from openhotline.feeds.tasks import sync_list_task
from openhotline.signals.lists import import_records, restore_entry, retire_entry
from openhotline.signals.models import HashList, ListEntry, ListSource
from openhotline.signals.records import build_record
from tests.conftest import verified_client
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db
FEED = "hash-list"
MD5 = "0123456789abcdef0123456789abcdef"
PDQ = "f" * 16 + "0" * 48


def records(n: int, **meta):
    rows: list = []
    for i in range(n):
        record = build_record(
            {"md5": f"{i:032x}", "external_id": f"caid-{i}", "grade": "sexual_posing",
             "age_band": "7-10", "provenance": "seized 2026, op. secret", **meta}
        )  # fmt: skip
        rows.append((f"row {i}", record, []))
    return rows


def live(name: str = FEED) -> dict[str, dict]:
    return {i.key: i.data for i in FeedItem.objects.filter(feed__name=name, removed_seq=None)}


def test_an_import_lists_every_entry_with_its_hashes_and_never_the_sources_ids() -> None:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    import_records(own, records(3), source="test")
    items = live()
    assert len(items) == 3
    entry = ListEntry.objects.get(external_id="caid-1")
    data = items[hash_list.key_of(entry.pk)]
    assert data["hashes"] == {"md5": f"{1:032x}"}
    assert data["grade"] == "sexual_posing" and data["age_band"] == "7-10"
    assert data["uk_category"] == "C" and data["list"] == "own-grading"
    # The source's own ids and its provenance notes stay in the hotline.
    assert "caid-1" not in str(data) and "secret" not in str(data)
    assert services.feed(FEED).live_count == 3
    # Importing the same file again changes nothing, so members download nothing new.
    before = services.feed(FEED).last_seq
    import_records(own, records(3), source="test")
    assert services.feed(FEED).last_seq == before


def test_retiring_and_restoring_an_entry_removes_and_adds_it_again(manager) -> None:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    import_records(own, records(2), source="test")
    entry = ListEntry.objects.get(external_id="caid-0")
    key = hash_list.key_of(entry.pk)
    retire_entry(entry, "a false positive", actor=manager)
    assert key not in live() and len(live()) == 1
    restore_entry(entry, "checked again", actor=manager)
    assert key in live()
    changes, _, _ = services.delta(FEED, "0")
    assert [c.op for c in changes if c.key == key] == ["add", "remove", "add"]


def test_switching_a_list_off_or_unsharing_it_empties_it_from_the_feed(
    manager, django_capture_on_commit_callbacks
) -> None:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    import_records(own, records(5), source="test")
    client = verified_client(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/lists/own-grading/sharing/", {"share": "no", "confirm": "own-grading"}
        )
    assert response.status_code == 302
    run_due_tasks("sync_list")
    assert live() == {}
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/staff/lists/own-grading/sharing/", {"share": "yes", "confirm": "own-grading"})
    run_due_tasks("sync_list")
    assert len(live()) == 5
    HashList.objects.filter(pk=own.pk).update(enabled=False)
    sync_list_task.call(own.pk)
    assert live() == {}


def test_every_list_made_on_the_staff_page_starts_unshared(manager) -> None:
    # Sharing is its own confirmed step (test_hash_list_sharing.py), for any source.
    client = verified_client(manager)
    client.post("/staff/lists/", {"name": "caid", "source": "police", "description": ""})
    client.post("/staff/lists/", {"name": "partner-x", "source": "partner"})
    client.post("/staff/lists/", {"name": "own-2", "source": "own"})
    assert not HashList.objects.filter(share_with_members=True).exists()
    import_records(HashList.objects.get(name="caid"), records(2), source="test")
    import_records(HashList.objects.get(name="partner-x"), records(2), source="test")
    assert live() == {}


def test_a_weak_pdq_is_not_listed_as_a_hash_to_block() -> None:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    weak = build_record({"pdq": PDQ, "pdq_quality": "20"})
    both = build_record({"pdq": PDQ.replace("f", "e"), "md5": MD5, "pdq_quality": "20"})
    import_records(own, [("row 1", weak, []), ("row 2", both, [])], source="test")
    assert [d["hashes"] for d in live().values()] == [{"md5": MD5}]


@pytest.mark.parametrize(
    ("tier", "fields"),
    [
        (Tier.BASIC, {"hashes"}),
        (Tier.CATEGORY, {"hashes", "uk_category", "interpol_baseline", "vics_category",
                         "non_photographic"}),
        (Tier.FULL, {"hashes", "uk_category", "interpol_baseline", "vics_category",
                     "non_photographic", "list", "grade", "age_band", "victim_identified"}),
    ],
)  # fmt: skip
def test_each_tier_sees_only_its_fields(tier: str, fields: set[str]) -> None:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    import_records(own, records(1, victim_identified="true"), source="test")
    (data,) = live().values()
    assert set(hash_list.for_tier(data, tier)) == fields


def test_an_allow_listed_hash_leaves_the_feed_and_an_entry_with_nothing_else_goes(
    manager, django_capture_on_commit_callbacks
) -> None:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    both = build_record({"md5": MD5, "sha1": "a" * 40})
    only = build_record({"md5": "b" * 32})
    import_records(own, [("row 1", both, []), ("row 2", only, [])], source="test")
    client = verified_client(manager)
    with django_capture_on_commit_callbacks(execute=True):
        for value in (MD5, "b" * 32):
            client.post("/staff/lists/own-grading/allow/",
                        {"hash_type": "md5", "value": value, "reason": "a logo"})  # fmt: skip
    run_due_tasks("sync_list")
    assert [d["hashes"] for d in live().values()] == [{"sha1": "a" * 40}]


@pytest.mark.django_db(transaction=True)
def test_a_retirement_during_a_list_walk_is_never_undone(manager, monkeypatch) -> None:
    """The walk reads entries only under the feed's lock: a retirement that commits while
    the walk is busy waits for it, and then takes the entry out."""
    import threading

    from django.db import connection

    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    import_records(own, records(3), source="test")
    entry = ListEntry.objects.get(external_id="caid-1")
    read, real = threading.Event(), hash_list.record_of

    def slow_record_of(*args, **kwargs):
        read.set()  # the walk has read the entries; give the retirement time to try
        threading.Event().wait(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(hash_list, "record_of", slow_record_of)

    def retire() -> None:
        read.wait(5)
        retire_entry(ListEntry.objects.get(pk=entry.pk), "false positive", actor=manager)
        connection.close()

    other = threading.Thread(target=retire)
    other.start()
    hash_list.sync_list(own)
    other.join(10)
    entry.refresh_from_db()
    assert entry.retired_at is not None
    assert hash_list.key_of(entry.pk) not in live()


def test_the_full_tier_allows_everything_an_entry_carries_to_the_feed() -> None:
    # The full tier's snapshot writes stored items unfiltered because of this.
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    every = build_record({
        "md5": MD5, "pdq": PDQ, "pdq_quality": "90", "external_id": "X-1",
        "grade": "non_penetrative", "uk_category": "B", "interpol_baseline": "true",
        "vics_category": "2",
        "age_band": "11-13", "non_photographic": "true", "victim_identified": "true",
        "offender_identified": "false", "series": "s", "confirmed_by_police": "true",
        "first_seen": "2024-05-06", "provenance": "a partner",
    })  # fmt: skip
    import_records(own, [("row 1", every, [])], source="test")
    (data,) = live().values()
    assert set(data) == set(hash_list.RECORD_FIELDS) == set(hash_list.TIER_FIELDS[Tier.FULL])
