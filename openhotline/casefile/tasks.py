"""Background steps of the reporters' outcome: thin wrappers that take ids."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from openhotline.assessment.models import Decision
from openhotline.casefile.reporter_updates import reports_to_tell, tell_reporters_of_case

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


def tell_reporters(decision_id: int) -> str:
    """A decision (or its release by QA) was made: tell the case's reporters who left
    contact details where it stands now (`reporter_updates`: once per stage, in their
    language). Raises RuntimeError after trying everyone if a send failed."""
    case_id = Decision.objects.values_list("case_id", flat=True).get(pk=decision_id)
    return tell_reporters_of_case(case_id)


@task(queue_name="default")
def tell_reporters_task(decision_id: int, attempt: int = 1) -> str:
    """A decision was made or released: its case's reporters hear where it stands."""
    return _with_retries(tell_reporters, tell_reporters_task, decision_id, attempt)


@task(queue_name="default")
def tell_case_reporters_task(case_id: int, attempt: int = 1) -> str:
    """The case moved on (notice sent, removal confirmed, verdict corrected)."""
    return _with_retries(tell_reporters_of_case, tell_case_reporters_task, case_id, attempt)


def queue_tell_reporters(decision_id: int) -> None:
    """The hand-off "tell_reporters" (`openhotline.pipeline`): queued in the caller's
    transaction, so the decision is never stored without it."""
    tell_reporters_task.enqueue(decision_id)


def queue_updates(case_id: int) -> None:
    """The case moved (a notice out, a removal confirmed, a verdict corrected): tell its
    reporters a little later, in the caller's transaction (the hand-off
    "tell_case_reporters" of `openhotline.pipeline`)."""
    if not reports_to_tell(case_id):
        return
    later = timezone.now() + timedelta(seconds=settings.REPORTER_UPDATE_DELAY_SECONDS)
    tell_case_reporters_task.using(run_after=later).enqueue(case_id)
