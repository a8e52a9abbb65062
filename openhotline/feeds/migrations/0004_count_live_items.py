"""Feeds made before `live_count` existed start at 0: count their live items once."""

from typing import Any

from django.db import migrations


def count(apps: Any, schema_editor: Any) -> None:
    Feed = apps.get_model("feeds", "Feed")
    FeedItem = apps.get_model("feeds", "FeedItem")
    for feed in Feed.objects.all():
        feed.live_count = FeedItem.objects.filter(feed=feed, removed_seq=None).count()
        feed.save(update_fields=["live_count"])


class Migration(migrations.Migration):
    dependencies = [("feeds", "0003_memberships_matching")]
    operations = [migrations.RunPython(count, migrations.RunPython.noop)]
