"""Background steps of the feeds: walking a hash list after its settings changed, and
writing the pre-generated snapshot files."""

from django.db import transaction
from django.tasks import task

from openhotline.feeds import exports, hash_list
from openhotline.signals.models import HashList


@task(queue_name="default")
def sync_list_task(list_id: int) -> str:
    the_list = HashList.objects.filter(pk=list_id).first()
    if the_list is None:
        return "the list is gone"
    made = hash_list.sync_list(the_list)
    return f"{the_list.name}: {made} changes to the Hash List"


def enqueue_sync_list(hash_list_id: int) -> None:
    """Walk the list again once the change that asked for it is committed (the hand-off
    "share_hash_list" of `openhotline.pipeline`)."""
    transaction.on_commit(lambda: sync_list_task.enqueue(hash_list_id))


@task(queue_name="default")
def export_task(feed: str, tier: str, fmt: str) -> str:
    made = exports.export(feed, tier, fmt)
    return f"{made.path.name}: {made.manifest['count']} items"
