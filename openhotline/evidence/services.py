"""The evidence app's interface for other apps: ask for a capture, look at media."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from openhotline.cases.models import Case
from openhotline.evidence import tasks
from openhotline.evidence.models import Capture


def request_capture(
    case: Case,
    *,
    referrer: str = "",
    user_agent: str = "",
    attempt: int = 1,
    delay_seconds: int = 0,
    immediate: bool = False,
) -> Capture:
    """Create a pending capture of the case's URL and enqueue it (with the caller's
    transaction: both are stored, or neither).

    The first capture of a case waits a random FIRST_CAPTURE_DELAY_SECONDS (off by
    default): a visit moments after a report would tell the operator of a link given to
    one person who reported it. `immediate` (a person asked for it) never waits.
    """
    if not case.url:
        raise ValueError("only cases with a URL can be captured")
    if not (immediate or delay_seconds or attempt > 1) and not case.captures.exists():
        delay_seconds = first_capture_delay()
    capture = Capture.objects.create(
        case=case,
        requested_url=case.url,
        referrer=referrer,
        user_agent=user_agent or settings.CAPTURE_USER_AGENT,
        accept_language=settings.CAPTURE_ACCEPT_LANGUAGE,
        attempt=attempt,
    )
    task = tasks.capture_task
    if delay_seconds:
        task = tasks.capture_task.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    # The database task backend writes the task row in the caller's transaction.
    task.enqueue(capture.pk)
    return capture


def first_capture_delay() -> int:
    """Seconds, uniformly from FIRST_CAPTURE_DELAY_SECONDS, unpredictable to a site."""
    low, high = settings.FIRST_CAPTURE_DELAY_SECONDS
    return low + secrets.randbelow(high - low + 1)
