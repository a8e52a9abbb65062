"""Background steps of the hash lists: thin wrappers that take ids."""

from django.tasks import task

from openhotline.signals import rematch

# Ahead of scheduled work (rechecks) and behind a notice: an analyst may open the case
# any moment, and should find it pre-graded (takedown.tasks.URGENT is 50).
REMATCH_PRIORITY = 40


@task(queue_name="default")
def rematch_entries_task(list_id: int, ranges: list[list[int]]) -> str:
    return rematch.rematch_entries(list_id, ranges)


def queue_rematch(list_id: int, entry_ids: list[int]) -> None:
    """Queue the re-match of open cases against these entries (in the caller's
    transaction, so it is stored with the change or not at all)."""
    ranges = rematch.id_ranges(entry_ids)
    if ranges:
        rematch_entries_task.using(priority=REMATCH_PRIORITY).enqueue(list_id, ranges)
