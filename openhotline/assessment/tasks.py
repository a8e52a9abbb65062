"""Background steps of assessment: thin wrappers that take ids."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.tasks import task
from django.utils import timezone

from openhotline.assessment.followups import confirm_grades, tell_reporters
from openhotline.assessment.reporter_updates import tell_reporters_of_case

# A mail server that refuses now is tried again after these many seconds.
OUTCOME_RETRY_DELAYS = [60, 600, 3600, 6 * 3600, 24 * 3600]


def _with_retries(step: Callable[[int], str], again: Any, key: int, attempt: int) -> str:
    """Run a reporters' step; if a send failed, queue `again` later (those told are never
    told again, so a retry only reaches who was missed)."""
    try:
        return step(key)
    except RuntimeError as exc:
        if attempt > len(OUTCOME_RETRY_DELAYS):
            return f"gave up after {attempt} attempts: {exc}"
        later = timezone.now() + timedelta(seconds=OUTCOME_RETRY_DELAYS[attempt - 1])
        again.using(run_after=later).enqueue(key, attempt + 1)
        return f"{exc}; trying again at {later.isoformat()}"


@task(queue_name="default")
def tell_reporters_task(decision_id: int, attempt: int = 1) -> str:
    """A decision was made or released: its case's reporters hear where it stands."""
    return _with_retries(tell_reporters, tell_reporters_task, decision_id, attempt)


@task(queue_name="default")
def tell_case_reporters_task(case_id: int, attempt: int = 1) -> str:
    """The case moved on (notice sent, removal confirmed, verdict corrected)."""
    return _with_retries(tell_reporters_of_case, tell_case_reporters_task, case_id, attempt)


@task(queue_name="default")
def confirm_grades_task(decision_id: int) -> str:
    return confirm_grades(decision_id)
