"""The reporters' tasks moved from assessment.tasks to casefile.tasks (issue 16, layers):
tasks already queued under the old names would no longer load, so they are renamed."""

from django.db import migrations

MOVED = {
    f"openhotline.assessment.tasks.{name}": f"openhotline.casefile.tasks.{name}"
    for name in ("tell_reporters_task", "tell_case_reporters_task")
}


def rename(apps, schema_editor, moves=MOVED):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in moves.items():
        DBTaskResult.objects.filter(task_path=old).update(task_path=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0004_reporter_updates_per_stage"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
