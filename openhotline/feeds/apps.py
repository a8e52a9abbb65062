from typing import Any

from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "openhotline.feeds"
    label = "feeds"
    verbose_name = "Member feeds"

    def ready(self) -> None:
        from openhotline.signals import lists

        lists.entries_changed.connect(_entries_changed, dispatch_uid="feeds.hash_list.entries")
        lists.list_changed.connect(_list_changed, dispatch_uid="feeds.hash_list.list")


def _entries_changed(sender: Any, *, hash_list: Any, entry_ids: list[int], **_: Any) -> None:
    from openhotline.feeds import hash_list as feed

    feed.sync_entries(entry_ids, reason=f"list {hash_list.name}")


def _list_changed(sender: Any, *, hash_list: Any, **_: Any) -> None:
    from django.db import transaction

    from openhotline.feeds.tasks import sync_list_task

    transaction.on_commit(lambda: sync_list_task.enqueue(hash_list.pk))
