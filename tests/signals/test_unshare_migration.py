"""Migration signals 0005: every existing list but the hotline's own grading stops being
shared (the safe default), and the members' Hash List is left consistent: their entries
removed with only their hashes, their history forgotten, old snapshot files void."""

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from openhotline.feeds import hash_list, services
from openhotline.feeds.models import Feed, FeedItem
from openhotline.signals.lists import import_records, retire_entry
from openhotline.signals.models import HashList, ListSource
from openhotline.signals.records import build_record

BEFORE = [("signals", "0004_entry_hash_type_id")]
AFTER = [("signals", "0005_unshared_by_default")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def make_list(name: str, source: str, n: int) -> HashList:
    # Made as before the migration: every list shared.
    made = HashList.objects.create(name=name, source=source, share_with_members=True)
    rows: list[Any] = [(f"row {i}", build_record({"md5": f"{name}{i}".encode().hex().ljust(32, "0"),
                                       "grade": "sexual_posing", "victim_identified": "true"}), [])
            for i in range(n)]  # fmt: skip
    import_records(made, rows, source="test")
    return made


@pytest.mark.django_db(transaction=True)
def test_the_migration_unshares_every_list_but_the_own_and_withdraws_their_entries() -> None:
    # Signals 0005 changes no column, so today's code writes the rows of the state before it.
    migrate(BEFORE)
    try:
        police, partner = make_list("caid", ListSource.POLICE, 3), make_list("p", "partner", 2)
        own = make_list("own-grading", ListSource.OWN, 2)
        # A removal made earlier carried everything: it is cut down to the hashes too.
        retire_entry(police.entries.order_by("pk")[0], "a false positive", actor=None)
        feed = services.feed("hash-list")
        tags = {seq: services.tag_of(feed.pk, seq) for seq in range(1, feed.last_seq + 1)}
        before = feed.last_seq
    finally:
        migrate(AFTER)

    assert set(HashList.objects.filter(share_with_members=True).values_list("name", flat=True)) == {
        "own-grading"
    }
    withdrawn = {
        hash_list.key_of(pk)
        for pk in (
            *police.entries.values_list("pk", flat=True),
            *partner.entries.values_list("pk", flat=True),
        )
    }
    feed = Feed.objects.get(name="hash-list")
    assert feed.last_seq == before + 4 and feed.redacted_seq == feed.last_seq
    live = {i.key for i in FeedItem.objects.filter(feed=feed, removed_seq=None)}
    assert feed.live_count == len(live) == 2 and withdrawn.isdisjoint(live)
    changes, _, _ = services.delta("hash-list", "0")
    gone = [c for c in changes if c.key in withdrawn]
    assert [c.op for c in gone] == ["add"] * 5 + ["remove"] * 5
    assert all(c.data == {} for c in gone if c.op == "add")
    assert all(set(c.data) == {"hashes"} for c in gone if c.op == "remove")
    kept = [c for c in changes if c.key not in withdrawn]
    assert [c.data["victim_identified"] for c in kept] == [True, True]
    assert {seq: services.tag_of(feed.pk, seq) for seq in tags} == tags
    # The members' Hash List follows the lists again: a re-walk changes nothing.
    assert hash_list.sync_list(HashList.objects.get(name="caid")) == 0
    assert own.share_with_members
