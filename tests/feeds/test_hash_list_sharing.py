"""A hash list that stops being shared is withdrawn from members: its entries leave the
Hash List, a delta from any cursor and a snapshot (made now or kept on disk) no longer
give what was shared, members' cursors and tags stay valid, and the demo's police list
never reaches the demo member."""

import gzip
import json
import shutil

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation
from openhotline.audit.models import AuditEvent
from openhotline.feeds import exports, hash_list, services
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import Feed, FeedChange, Licence, Tier
from openhotline.signals.lists import import_records, set_sharing
from openhotline.signals.models import HashList, ListSource
from openhotline.signals.records import build_record
from tests.conftest import verified_client
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db
FEED = "hash-list"
URL = "/api/v1/feeds/hash-list"


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path) -> None:
    settings.FEED_EXPORT_DIR = tmp_path / "feeds"


def police_list(n: int, *, shared: bool = True) -> HashList:
    """A police list shared with members (as every list was before sharing was opt-in)."""
    caid = HashList.objects.create(name="caid", source=ListSource.POLICE, share_with_members=shared)
    rows: list = []
    for i in range(n):
        record = build_record({
            "md5": f"{i + 100:032x}", "external_id": f"caid-{i}", "grade": "sexual_posing",
            "age_band": "7-10", "victim_identified": "true", "series": "op-secret",
        })  # fmt: skip
        rows.append((f"row {i}", record, []))
    import_records(caid, rows, source="test")
    return caid


def own_list() -> HashList:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    record = build_record({"md5": "f" * 32, "grade": "non_penetrative", "age_band": "3-6"})
    import_records(own, [("row 1", record, [])], source="test")
    return own


def member_client(tier: str = Tier.FULL) -> Client:
    org = Organisation.objects.create(name=f"Member {tier}", kind="member")
    Licence.objects.create(organisation=org, feed=FEED, tier=tier)
    return Client(headers={"Authorization": f"Bearer {issue_key(org, feeds=[FEED]).plaintext}"})


def delta_rows(member: Client, cursor: str = "0", tag: str | None = None) -> list[dict]:
    asked = {"cursor": cursor} if tag is None else {"cursor": cursor, "tag": tag}
    response = member.get(f"{URL}/delta", asked)
    assert response.status_code == 200, response.content
    return [json.loads(line) for line in response.content.splitlines()]


def snapshot_rows(member: Client) -> dict[str, dict]:
    response = member.get(f"{URL}/snapshot")
    assert response.status_code == 200, response.content
    return {row["key"]: row["data"] for row in map(json.loads, response.content.splitlines())}


def keys_of(the_list: HashList) -> set[str]:
    return {hash_list.key_of(pk) for pk in the_list.entries.values_list("pk", flat=True)}


def all_tags() -> dict[int, str]:
    feed = services.feed(FEED)
    return {seq: services.tag_of(feed.pk, seq) for seq in range(1, feed.last_seq + 1)}


def test_unsharing_withdraws_the_entries_and_the_feeds_history_forgets_them(
    manager, django_capture_on_commit_callbacks
) -> None:
    caid, own = police_list(3), own_list()
    member = member_client()
    shared = delta_rows(member)
    assert sum(row["data"].get("victim_identified") is True for row in shared) == 3
    # A member that synced keeps its cursor and the tag of the change there.
    synced = member.get(f"{URL}/delta", {"cursor": "0"})
    cursor, tag = synced["X-Feed-Cursor"], synced["X-Feed-Tag"]
    tags = all_tags()

    with django_capture_on_commit_callbacks(execute=True):
        response = verified_client(manager).post(
            "/staff/lists/caid/sharing/", {"share": "no", "confirm": "caid"}
        )
    assert response.status_code == 302
    run_due_tasks("sync_list")

    withdrawn = keys_of(caid)
    history = [row for row in delta_rows(member) if row["key"] in withdrawn]
    # From cursor 0: each entry's add says nothing, its removal only the hashes.
    assert [row["op"] for row in history] == ["add"] * 3 + ["remove"] * 3
    assert all(row["data"] == {} for row in history if row["op"] == "add")
    assert [row["data"] for row in history if row["op"] == "remove"] == [
        {"hashes": {"md5": f"{i + 100:032x}"}} for i in range(3)
    ]
    assert "victim_identified" not in str(history) and "op-secret" not in str(history)
    assert withdrawn.isdisjoint(snapshot_rows(member))
    # The own list's history is untouched.
    (own_key,) = keys_of(own)
    assert snapshot_rows(member)[own_key]["grade"] == "non_penetrative"
    assert [r["data"]["grade"] for r in delta_rows(member) if r["key"] == own_key] == [
        "non_penetrative"
    ]
    # Numbers, ops and times stay: every old cursor's tag is the same, so a member that
    # holds the entries follows on from its cursor and drops them by key and hashes.
    assert {seq: t for seq, t in all_tags().items() if seq in tags} == tags
    dropped = delta_rows(member, cursor, tag)
    assert [(r["op"], set(r["data"])) for r in dropped] == [("remove", {"hashes"})] * 3
    event = AuditEvent.objects.get(action="signals.list_unshared")
    assert event.actor == manager.username and event.data["list"] == "caid"


def test_a_snapshot_file_made_before_unsharing_is_never_served_again(
    settings, manager, django_capture_on_commit_callbacks
) -> None:
    settings.FEED_INLINE_SNAPSHOT_LIMIT = 0  # every Hash List snapshot comes from a file
    caid = police_list(3)
    own_list()  # the feed is not empty after the un-share
    member = member_client()
    old = exports.export(FEED, Tier.FULL, "jsonl")
    old_manifest = old.path.with_name(f"{old.path.name}.manifest.json")
    kept = old.path.parent.parent / "kept"
    kept.mkdir()
    for path in (old.path, old_manifest):
        shutil.copy(path, kept / path.name)
    assert b"victim_identified" in gzip.decompress(member.get(f"{URL}/snapshot").getvalue())

    set_sharing(caid, False, actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        hash_list.sync_list(caid)
    # The file is gone at once, not at the next export's pruning.
    assert not old.path.exists() and not old_manifest.exists()
    assert member.get(f"{URL}/snapshot").status_code == 503  # being prepared
    # An export that began before the un-share and finishes after it is not served either.
    for name in (old.path.name, old_manifest.name):
        shutil.copy(kept / name, old.path.parent / name)
    assert exports.newest(FEED, Tier.FULL, "jsonl") is None
    assert member.get(f"{URL}/snapshot").status_code == 503

    fresh = exports.export(FEED, Tier.FULL, "jsonl")
    assert fresh.seq == services.feed(FEED).last_seq and not old.path.exists()
    served = gzip.decompress(member.get(f"{URL}/snapshot").getvalue()).splitlines()
    assert served and keys_of(caid).isdisjoint(json.loads(line)["key"] for line in served)


def test_a_list_switched_off_keeps_its_history_until_it_is_unshared() -> None:
    """Switching a list off only removes (the hotline stood by what it shared); unsharing
    it afterwards still makes the history forget, with no new change to number."""
    caid = police_list(2)
    member = member_client()
    HashList.objects.filter(pk=caid.pk).update(enabled=False)
    hash_list.sync_list(HashList.objects.get(pk=caid.pk))
    assert "victim_identified" in str(delta_rows(member))
    last = services.feed(FEED).last_seq

    set_sharing(caid, False, actor=None, via="test")
    hash_list.sync_list(HashList.objects.get(pk=caid.pk))
    assert "victim_identified" not in str(delta_rows(member))
    feed = Feed.objects.get(name=FEED)
    assert feed.last_seq == last and feed.redacted_seq == last
    # Walking it again rewrites nothing more.
    assert services.redact(FEED, keys_of(caid), keep=hash_list.WITHHELD_KEEPS) == 0


def test_sharing_again_lists_the_entries_anew_and_the_old_history_stays_forgotten() -> None:
    caid = police_list(2)
    member = member_client()
    set_sharing(caid, False, actor=None, via="test")
    hash_list.sync_list(HashList.objects.get(pk=caid.pk))
    set_sharing(caid, True, actor=None, via="test")
    hash_list.sync_list(HashList.objects.get(pk=caid.pk))
    rows = [row for row in delta_rows(member) if row["key"] in keys_of(caid)]
    assert [row["op"] for row in rows] == ["add", "add", "remove", "remove", "add", "add"]
    assert [row["data"].get("victim_identified") for row in rows] == [None] * 4 + [True] * 2
    assert {k: d["victim_identified"] for k, d in snapshot_rows(member).items()} == dict.fromkeys(
        keys_of(caid), True
    )


def test_an_unshared_list_never_reaches_members() -> None:
    police_list(2, shared=False)
    member = member_client()
    assert delta_rows(member) == [] and snapshot_rows(member) == {}
    assert not FeedChange.objects.exists()


def test_the_demo_member_gets_nothing_of_the_demo_police_list(settings) -> None:
    from openhotline.demo.seed import seed_hash_lists, seed_member

    assert seed_hash_lists() == 2
    demo = seed_member()
    member = Client(headers={"Authorization": f"Bearer {demo.api_key}"})
    assert HashList.objects.get(name="demo-police").share_with_members is False
    police = keys_of(HashList.objects.get(name="demo-police"))
    assert len(police) == 2
    snapshot = snapshot_rows(member)
    history = delta_rows(member)
    assert police.isdisjoint(snapshot) and police.isdisjoint(row["key"] for row in history)
    assert "victim_identified" not in str(snapshot) + str(history)
