"""Background steps of the evidence app: thin wrappers that take ids."""

from django.tasks import task

# A capture queues its own retries and watchdog (capture.py and services.py import this
# module): they import each other as modules, never names, so any may load first.
from openhotline.evidence import capture


@task(queue_name="default")
def capture_task(capture_id: int) -> str:
    return capture.run_capture(capture_id)


@task(queue_name="default")
def capture_watchdog_task(capture_id: int, started_at: str) -> str:
    return capture.restart_if_stalled(capture_id, started_at)
