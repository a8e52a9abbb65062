"""Background steps of the evidence app: thin wrappers that take ids."""

from django.tasks import task

from openhotline.evidence.capture import restart_if_stalled, run_capture


@task(queue_name="default")
def capture_task(capture_id: int) -> str:
    return run_capture(capture_id)


@task(queue_name="default")
def capture_watchdog_task(capture_id: int, started_at: str) -> str:
    return restart_if_stalled(capture_id, started_at)
