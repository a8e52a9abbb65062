"""Lists start unshared, and every existing list but the hotline's own grading stops being
shared: before this, police and partner lists went to members unless someone switched
them off. Their entries are withdrawn from the members' Hash List as
`feeds.hash_list` withdraws an unshared list's (removals keep only the hashes, earlier
changes forget everything, older snapshot files are void), with the models as they are
at this point, so the feed is consistent when the migration ends."""

from typing import Any

from django.db import migrations, models
from django.utils import timezone

FEED = "hash-list"
BATCH = 2000
KEEP = ("hashes",)
REASON = "list no longer shared (migration signals 0005)"


def _kept(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in KEEP if name in data}


def _withdraw(apps: Any, feed_pk: int, keys: list[str]) -> None:
    Feed = apps.get_model("feeds", "Feed")
    FeedItem = apps.get_model("feeds", "FeedItem")
    FeedChange = apps.get_model("feeds", "FeedChange")
    feed = Feed.objects.select_for_update().get(pk=feed_pk)
    items = list(FeedItem.objects.filter(feed=feed, key__in=keys).order_by("key"))
    now = timezone.now()
    seq = feed.last_seq
    removals = []
    for item in items:
        if item.removed_seq is None:
            seq += 1
            item.removed_seq = seq
            removals.append(FeedChange(feed=feed, seq=seq, op="remove", key=item.key,
                                       data=_kept(item.data), at=now, reason=REASON))
        item.data = _kept(item.data)
    FeedItem.objects.bulk_update(items, ["data", "removed_seq"], batch_size=500)
    FeedChange.objects.bulk_create(removals, batch_size=500)
    rows = list(FeedChange.objects.filter(feed=feed, key__in=keys))
    last: dict[str, Any] = {}
    for row in rows:
        if row.key not in last or row.seq > last[row.key].seq:
            last[row.key] = row
    changed = []
    for row in rows:
        forgotten = _kept(row.data) if row is last[row.key] and row.op == "remove" else {}
        if row.data != forgotten:
            row.data = forgotten
            changed.append(row)
    FeedChange.objects.bulk_update(changed, ["data"], batch_size=500)
    feed.last_seq = seq
    feed.live_count -= len(removals)
    if changed or removals:
        feed.redacted_seq = seq
        feed.updated_at = now
    feed.save(update_fields=["last_seq", "live_count", "redacted_seq", "updated_at"])


def withhold_other_lists(apps: Any, schema_editor: Any) -> None:
    HashList = apps.get_model("signals", "HashList")
    ListEntry = apps.get_model("signals", "ListEntry")
    Feed = apps.get_model("feeds", "Feed")
    lists = list(HashList.objects.filter(share_with_members=True).exclude(source="own"))
    HashList.objects.filter(pk__in=[h.pk for h in lists]).update(share_with_members=False)
    feed = Feed.objects.filter(name=FEED).first()
    if feed is None:
        return
    for hash_list in lists:
        last = 0
        while ids := list(
            ListEntry.objects.filter(hash_list=hash_list, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        ):
            _withdraw(apps, feed.pk, [f"{pk:012d}" for pk in ids])
            last = ids[-1]


class Migration(migrations.Migration):

    dependencies = [
        ('signals', '0004_entry_hash_type_id'),
        ('feeds', '0005_redaction'),
    ]

    operations = [
        migrations.AlterField(
            model_name='hashlist',
            name='share_with_members',
            field=models.BooleanField(default=False),
        ),
        # Reversing leaves the lists unshared: sharing again is a manager's decision.
        migrations.RunPython(withhold_other_lists, migrations.RunPython.noop),
    ]
