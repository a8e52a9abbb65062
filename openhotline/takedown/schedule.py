"""When a case is rechecked.

Scheduled rechecks come RECHECK_DELAYS seconds after the first notice sent since the case
was (re)actioned, then every RECHECK_DAILY_SECONDS after the last of those; rounds missed
while no worker ran are made up by one recheck, not a burst. Each case has one
`RecheckPlan` row: planning a recheck replaces it (and queues a task carrying its new
generation), so the host's link, confirmations and the schedule never make two chains.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.cases.models import Case, CaseState, CaseTransition
from openhotline.takedown import tasks
from openhotline.takedown.models import Action, ActionKind, ActionState, RecheckPlan


def offset(round_: int) -> float:
    """Seconds from the first notice to scheduled recheck number `round_` (from 0)."""
    delays = settings.RECHECK_DELAYS
    if round_ < len(delays):
        return float(delays[round_])
    last = delays[-1] if delays else 0
    return float(last + (round_ - len(delays) + 1) * settings.RECHECK_DAILY_SECONDS)


def _last_due(elapsed: float) -> int:
    """The highest round due `elapsed` seconds after the first notice (-1: none yet)."""
    delays = settings.RECHECK_DELAYS
    best = max((i for i, d in enumerate(delays) if d <= elapsed), default=-1)
    last = delays[-1] if delays else 0
    daily = int((elapsed - last) // settings.RECHECK_DAILY_SECONDS)
    if daily >= 1:
        best = max(best, len(delays) - 1 + daily)
    return best


def next_round(anchor: datetime, pending: int, now: datetime) -> tuple[int, datetime]:
    """The scheduled round to run next, at or after `pending`, and when: overdue rounds
    collapse into the latest of them, run now."""
    round_ = max(pending, _last_due((now - anchor).total_seconds()))
    return round_, max(anchor + timedelta(seconds=offset(round_)), now)


def actioned_at(case: Case) -> datetime | None:
    """When the case last became actioned (a re-upload reopens it)."""
    return (
        CaseTransition.objects.filter(case=case, to_state=CaseState.ACTIONED)
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )


def first_notice_at(case: Case) -> datetime | None:
    """When the first notice or referral went out since the case was last actioned
    (police notifications ask nobody to remove anything)."""
    sent = Action.objects.filter(case=case, state=ActionState.SENT, sent_at__isnull=False).exclude(
        kind=ActionKind.POLICE_NOTIFICATION
    )
    since = actioned_at(case)
    if since is not None:
        sent = sent.filter(sent_at__gte=since)
    return sent.order_by("sent_at").values_list("sent_at", flat=True).first()


def anchor_of(case: Case, now: datetime) -> datetime:
    return first_notice_at(case) or actioned_at(case) or now


def plan(case_id: int, due_at: datetime, reason: str, round_: int) -> RecheckPlan:
    """Make this the case's one pending recheck; any other queued one will do nothing."""
    with transaction.atomic():
        row = RecheckPlan.objects.select_for_update().filter(case_id=case_id).first()
        if row is None:
            row = RecheckPlan(case_id=case_id, generation=0)
        row.due_at, row.reason, row.round = due_at, reason[:50], round_
        row.generation += 1
        row.save()
        tasks.recheck_task.using(run_after=due_at).enqueue(
            case_id, reason[:50], round_, row.generation
        )
    return row


def forget(case_id: int) -> None:
    """No more rechecks for this case."""
    RecheckPlan.objects.filter(case_id=case_id).delete()


def is_current(case_id: int, generation: int) -> bool:
    return RecheckPlan.objects.filter(case_id=case_id, generation=generation).exists()


def plan_next_round(case: Case, pending: int, now: datetime | None = None) -> RecheckPlan:
    now = now or timezone.now()
    round_, due = next_round(anchor_of(case, now), pending, now)
    return plan(case.pk, due, "schedule", round_)


def notice_sent(action: Action) -> None:
    """The first notice since the case was actioned went out: the schedule counts from
    now, so round 0 (planned when the case was routed) moves to its exact time."""
    if action.kind == ActionKind.POLICE_NOTIFICATION:
        return
    case = action.case
    if case.state != CaseState.ACTIONED or first_notice_at(case) != action.sent_at:
        return
    pending = RecheckPlan.objects.filter(case=case).first()
    if pending is None or (pending.reason == "schedule" and pending.round == 0):
        plan_next_round(case, 0)
