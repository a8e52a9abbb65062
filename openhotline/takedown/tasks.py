"""Background steps of takedown: thin wrappers that take ids, and the schedule helpers
(deferred tasks with `run_after` drive rechecks, chase-ups and retries; no scheduler).
When rechecks come is `takedown.schedule`."""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

# The steps queue their own next runs (a recheck plans the next; a send retries), so
# services and schedule import this module: both sides import modules, never names, and
# either may load first.
from openhotline.takedown import notices, services
from openhotline.takedown.models import Action, ActionState

# New work first: a batch of due rechecks must not hold back a fresh decision's notice
# (the database backend otherwise runs any due scheduled task before an unscheduled one).
URGENT = 50


@task(queue_name="default")
def act_on_task(case_id: int) -> str:
    return services.act_on(case_id)


@task(queue_name="default")
def send_task(action_id: int, attempt: int = 1) -> str:
    try:
        return notices.send(action_id)
    except notices.Redirected as exc:
        # Refused for good: the next contact at once, with a fresh count of attempts.
        send_task.using(priority=URGENT).enqueue(action_id, 1)
        return str(exc)
    except notices.NotSent as exc:
        delays = settings.SEND_RETRY_DELAYS
        if attempt > len(delays):
            Action.objects.filter(pk=action_id).update(state=ActionState.FAILED)
            action = Action.objects.get(pk=action_id)
            notices.flag_needs_person(action, f"not sent after {attempt} attempts: {exc}")
            return f"gave up after {attempt} attempts: {exc}"
        later = timezone.now() + timedelta(seconds=delays[attempt - 1])
        send_task.using(run_after=later, priority=URGENT).enqueue(action_id, attempt + 1)
        return f"{exc}; trying again at {later.isoformat()}"


@task(queue_name="default")
def send_watchdog_task(action_id: int) -> str:
    """A worker that died while sending leaves the action `sending` or `pending` with no
    task to finish it: queue the send again (it sends only what was not accepted)."""
    action = Action.objects.filter(pk=action_id).first()
    if action is None or action.state not in (ActionState.SENDING, ActionState.PENDING):
        return "nothing to do"
    send_task.using(priority=URGENT).enqueue(action_id)
    return f"{action.reference} was {action.state}: sending again"


@task(queue_name="default")
def recheck_task(
    case_id: int, reason: str = "schedule", round_: int = 0, generation: int | None = None
) -> str:
    """`generation`: the case's RecheckPlan this task was queued for (None: run anyway,
    e.g. queued by hand or by the benchmark)."""
    return services.recheck(case_id, reason, round_, generation)


@task(queue_name="default")
def chase_task(case_id: int) -> str:
    return services.chase(case_id)


def enqueue_send(action: Action) -> None:
    """Queue the action's send (at its not-before time) and a watchdog behind it."""
    if action.state == ActionState.FAILED:
        return
    at = action.not_before or timezone.now()
    send_task.using(run_after=at, priority=URGENT).enqueue(action.pk)
    watch = at + timedelta(seconds=settings.SEND_STALL_SECONDS)
    send_watchdog_task.using(run_after=watch).enqueue(action.pk)


def schedule_chase(case_id: int, hours: float) -> None:
    later = timezone.now() + timedelta(hours=hours)
    chase_task.using(run_after=later).enqueue(case_id)


def enqueue_act_on(case_id: int) -> None:
    act_on_task.using(priority=URGENT).enqueue(case_id)
