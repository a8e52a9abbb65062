"""Background steps of assessment: thin wrappers that take ids."""

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from openhotline.assessment.followups import confirm_grades, tell_reporters

# A mail server that refuses now is tried again after these many seconds.
OUTCOME_RETRY_DELAYS = [60, 600, 3600, 6 * 3600, 24 * 3600]


@task(queue_name="default")
def tell_reporters_task(decision_id: int, attempt: int = 1) -> str:
    try:
        return tell_reporters(decision_id)
    except RuntimeError as exc:
        if attempt > len(OUTCOME_RETRY_DELAYS):
            return f"gave up after {attempt} attempts: {exc}"
        later = timezone.now() + timedelta(seconds=OUTCOME_RETRY_DELAYS[attempt - 1])
        tell_reporters_task.using(run_after=later).enqueue(decision_id, attempt + 1)
        return f"{exc}; trying again at {later.isoformat()}"


@task(queue_name="default")
def confirm_grades_task(decision_id: int) -> str:
    return confirm_grades(decision_id)
