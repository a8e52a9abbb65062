"""A feed as a database backup taken at an earlier change would bring it back."""

from openhotline.feeds.models import Feed, FeedChange, FeedItem


def restore_to(name: str, seq: int) -> None:
    """Every change after `seq` gone, as if the database came back from a backup taken
    then (for feeds whose changes after `seq` are additions of new keys)."""
    feed = Feed.objects.get(name=name)
    FeedChange.objects.filter(feed=feed, seq__gt=seq).delete()
    FeedItem.objects.filter(feed=feed, added_seq__gt=seq).delete()
    live = FeedItem.objects.filter(feed=feed, removed_seq=None).count()
    Feed.objects.filter(pk=feed.pk).update(last_seq=seq, live_count=live)
