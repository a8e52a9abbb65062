"""Background steps of the evidence app: thin wrappers that take ids."""

from django.tasks import task

from openhotline.evidence.capture import run_capture


@task(queue_name="default")
def capture_task(capture_id: int) -> str:
    return run_capture(capture_id)
