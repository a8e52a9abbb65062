"""Running queued background tasks inside a test, the way a worker would (due ones only)."""

from django_tasks_db.models import DBTaskResult


def run_due_tasks(path_contains: str = "", *, rounds: int = 5) -> list[str]:
    """Run every due task (and those they enqueue, for a few rounds); their results."""
    results: list[str] = []
    for _ in range(rounds):
        due = list(DBTaskResult.objects.ready().filter(task_path__contains=path_contains))
        if not due:
            break
        for row in due:
            row.claim("test")
            try:
                value = row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            except Exception as exc:
                row.set_failed(exc)
                raise
            row.set_successful(value)
            results.append(str(value))
    return results
