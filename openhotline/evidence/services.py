"""The evidence app's interface for other apps: ask for a capture, look at media."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from openhotline.cases.models import Case
from openhotline.evidence.models import Capture


def request_capture(
    case: Case,
    *,
    referrer: str = "",
    user_agent: str = "",
    attempt: int = 1,
    delay_seconds: int = 0,
) -> Capture:
    """Create a pending capture of the case's URL and enqueue it (with the caller's
    transaction: both are stored, or neither)."""
    from openhotline.evidence.tasks import capture_task

    if not case.url:
        raise ValueError("only cases with a URL can be captured")
    capture = Capture.objects.create(
        case=case,
        requested_url=case.url,
        referrer=referrer,
        user_agent=user_agent or settings.CAPTURE_USER_AGENT,
        accept_language=settings.CAPTURE_ACCEPT_LANGUAGE,
        attempt=attempt,
    )
    task = capture_task
    if delay_seconds:
        task = capture_task.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    # The database task backend writes the task row in the caller's transaction.
    task.enqueue(capture.pk)
    return capture
