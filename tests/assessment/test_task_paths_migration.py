"""Reporter tasks queued before issue 16 moved them (assessment.tasks → casefile.tasks)
still run after an upgrade: migration assessment 0005 renames their stored paths."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tasks_db.models import DBTaskResult

from openhotline.casefile.tasks import tell_case_reporters_task, tell_reporters_task


@pytest.mark.django_db(transaction=True)
def test_tasks_queued_under_the_old_names_are_renamed_and_load() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("assessment", "0004_reporter_updates_per_stage")])
    try:
        queued = [tell_reporters_task.enqueue(1).id, tell_case_reporters_task.enqueue(2).id]
        for row in DBTaskResult.objects.filter(id__in=queued):
            row.task_path = row.task_path.replace("casefile.tasks", "assessment.tasks")
            row.save(update_fields=["task_path"])
        executor = MigrationExecutor(connection)
        executor.migrate([("assessment", "0005_reporter_tasks_moved")])
        rows = DBTaskResult.objects.filter(id__in=queued).order_by("task_path")
        assert [r.task_path for r in rows] == [
            "openhotline.casefile.tasks.tell_case_reporters_task",
            "openhotline.casefile.tasks.tell_reporters_task",
        ]
        assert {r.task.name for r in rows} == {
            "tell_case_reporters_task",
            "tell_reporters_task",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
