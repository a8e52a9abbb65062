"""From a criminal decision to confirmed removal: trace, route, act, recheck, chase,
escalate. Each step is a function taking ids, safe to run twice; the tasks in `tasks.py`
are thin wrappers and the schedule is settings.

Removal is confirmed only by two rechecks at least RECHECK_CONFIRM_SECONDS apart, with no
live one between, that find the URL gone or none of the criminal media served any more
(`takedown.probe` says what counts as gone) — never by an inconclusive answer, never by a
mere change of page, and never by the host's word alone. A confirmed removal is checked
once more REMOVAL_VERIFY_SECONDS later; content found back reopens the case.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline import pipeline
from openhotline.assessment import holds
from openhotline.assessment.standing import standing_criminal_grades
from openhotline.audit.services import record
from openhotline.cases.models import Case, CaseState
from openhotline.cases.services import transition
from openhotline.evidence.models import CaptureItem
from openhotline.grading import severity_rank
from openhotline.takedown import notices, schedule, tasks
from openhotline.takedown.models import (
    Action,
    ActionKind,
    ActionState,
    Recheck,
    RecheckPlan,
    RecheckResult,
    Removal,
)
from openhotline.takedown.probe import probe
from openhotline.tracing.models import Route, Trace
from openhotline.tracing.routing import (
    ONION,
    Step,
    escalation_step,
    notice_step,
    plan_for,
    rule_for,
)
from openhotline.tracing.services import trace_case

_NOT_LIVE = frozenset({RecheckResult.GONE, RecheckResult.MEDIA_GONE})


def act_on(case_id: int) -> str:
    """Trace a case decided criminal and send the work where the rules say."""
    case = Case.objects.get(pk=case_id)
    if case.state != CaseState.AWAITING_ACTION:
        return f"case {case_id} is {case.state}: nothing to do"
    if holds.is_held(case):
        return f"case {case_id}: held until QA agrees"
    trace = trace_case(case)
    plan = plan_for(case.host, trace)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case_id)
        if locked.state != CaseState.AWAITING_ACTION:
            return f"case {case_id} is {locked.state}: nothing to do"
        # Nothing leaves while QA has not agreed with a held decision; the review's
        # release queues this step again.
        if why := holds.holding(locked, plan.rule):
            return f"case {case_id}: held until QA agrees ({why})"
        holds.list_url(locked)
        actions = [_create(locked, trace, step, plan.route) for step in plan.steps]
        actions += _media_host_notices(locked, plan.route)
        for action in actions:
            tasks.enqueue_send(action)
        transition(
            locked, CaseState.ACTIONED, actor=None, reason=f"{plan.route}: {plan.reason}"[:500]
        )
        record(
            "takedown.routed",
            actor=None,
            obj=locked,
            data={
                "route": plan.route,
                "reason": plan.reason,
                "trace": trace.pk,
                "actions": [a.reference for a in actions],
            },
        )
        if plan.route != ONION:
            # Round 0 moves to its exact time when the first notice goes out.
            schedule.plan_next_round(locked, 0)
            if any(a.kind in _CHASED for a in actions):
                tasks.schedule_chase(locked.pk, chase_hours(plan.rule, plan.route))
    return f"case {case_id}: {plan.route}, {len(actions)} action(s)"


# What gets chased when the content stays up: our notices, and referrals to partners.
_CHASED = frozenset({ActionKind.NOTICE, ActionKind.PARTNER_REFERRAL})


def chase_hours(rule: Any, route: str) -> float:
    """The rule's deadline; without a rule of the country's own, 24 h for a host and 72 h
    for a partner hotline (which works to its own procedures)."""
    if rule.pk:
        return float(rule.chase_after_hours)
    return 72.0 if route == Route.PARTNER else 24.0


def _media_host_notices(case: Case, route: str) -> list[Action]:
    """Criminal media served from other hosts (hotlinked image hosts): each such host is
    traced and noticed too (not for onion cases, which have no one to notify)."""
    if route == ONION:
        return []
    actions = []
    for host in sorted(criminal_media_hosts(case) - {case.host}):
        trace = trace_case(case, host)
        plan = plan_for(host, trace)
        if plan.route == ONION:
            continue
        actions.append(_create(case, trace, notice_step(trace), plan.route))
    return actions


def criminal_media_hosts(case: Case) -> set[str]:
    from urllib.parse import urlsplit

    criminal = [g.media_id for g in standing_criminal_grades(case)]
    urls = CaptureItem.objects.filter(capture__case=case, media_id__in=criminal).values_list(
        "url", flat=True
    )
    return {(urlsplit(u).hostname or "").lower() for u in urls} - {""}


def _create(case: Case, trace: Trace, step: Step, route: str, follows: Any = None) -> Action:
    state = ActionState.PENDING
    if step.not_before is not None:
        state = ActionState.WAITING
    if not step.recipient:
        state = ActionState.FAILED
    action = Action.objects.create(
        case=case,
        trace=trace,
        kind=step.kind,
        state=state,
        reference=notices.new_reference(),
        recipient=step.recipient,
        route=route,
        not_before=step.not_before,
        problem=step.problem[:500],
        follows=follows,
        fallbacks=[list(f) for f in step.fallbacks],
    )
    if state == ActionState.FAILED:
        notices.flag_needs_person(action, step.problem or "no contact")
    return action


def recheck(
    case_id: int, reason: str = "schedule", round_: int = 0, generation: int | None = None
) -> str:
    """Look again, record what was seen, and plan the one recheck that follows."""
    if generation is not None and not schedule.is_current(case_id, generation):
        return f"case {case_id}: recheck superseded"
    case = Case.objects.get(pk=case_id)
    verifying = case.state == CaseState.REMOVED and reason == "verify"
    if case.state != CaseState.ACTIONED and not verifying:
        return f"case {case_id} is {case.state}: no recheck"
    trace = trace_case(case)
    seen = probe(case)
    with transaction.atomic():
        previous = Recheck.objects.filter(case=case).order_by("-at", "-id").first()
        check = Recheck.objects.create(
            case=case, at=timezone.now(), result=seen.result, detail=seen.detail[:500],
            status_code=seen.status, criminal_media_seen=seen.served, trace=trace,
            reason=reason[:50],
        )  # fmt: skip
        if verifying:
            return _verified(case, check, trace)
        if trace.moved and seen.result == RecheckResult.LIVE:
            _renotice_after_move(case, trace)
        # The scheduled round still to come: this one if it ran for another reason.
        pending = round_ + 1 if reason == "schedule" else round_
        if seen.result in _NOT_LIVE:
            since, count = _not_live_run(case)
            confirm_at = since + timedelta(seconds=settings.RECHECK_CONFIRM_SECONDS)
            if count >= 2 and check.at >= confirm_at:
                return _confirm_removal(case, check)
            # A single look (or looks too close together) never decides.
            schedule.plan(case.pk, max(confirm_at, check.at), "confirm", pending)
        elif seen.result == RecheckResult.ERROR and not (
            previous is not None and previous.result == RecheckResult.ERROR
        ):
            later = check.at + timedelta(seconds=settings.RECHECK_CONFIRM_SECONDS)
            schedule.plan(case.pk, later, "retry (inconclusive)", pending)
        else:
            schedule.plan_next_round(case, pending, check.at)
    return f"case {case_id}: {seen.result} ({seen.detail})"


def _not_live_run(case: Case) -> tuple[datetime, int]:
    """When the current run of not-live answers began, and how many it holds:
    inconclusive answers neither break nor join it, a live answer ends it."""
    since, count = timezone.now(), 0
    rows = Recheck.objects.filter(case=case).order_by("-at", "-id").values_list("result", "at")
    for result, at in rows[:200]:
        if result == RecheckResult.ERROR:
            continue
        if result not in _NOT_LIVE:
            break
        since, count = at, count + 1
    return since, count


def _renotice_after_move(case: Case, trace: Trace) -> None:
    """The content moved to another host: notice the new host, and if it moved to
    another country, do what that country's rules add (a referral, police)."""
    plan = plan_for(case.host, trace)
    steps = [notice_step(trace)]
    previous = trace.previous
    if previous is None or previous.country != trace.country:
        steps += [s for s in plan.steps if s.kind != ActionKind.NOTICE]
    for step in steps:
        tasks.enqueue_send(_create(case, trace, step, plan.route))
    record(
        "takedown.moved",
        actor=None,
        obj=case,
        data={"trace": trace.pk, "to": trace.network, "country": trace.country},
    )


def _confirm_removal(case: Case, check: Recheck) -> str:
    started = schedule.first_notice_at(case)
    seconds = (check.at - started).total_seconds() if started is not None else None
    Removal.objects.create(
        case=case,
        confirmed_at=check.at,
        first_action_at=started,
        seconds_to_removal=seconds,
        how=check.get_result_display(),
    )
    Action.objects.filter(case=case, state__in=[ActionState.PENDING, ActionState.WAITING]).update(
        state=ActionState.CANCELLED, problem="removal confirmed"
    )
    transition(case, CaseState.REMOVED, actor=None, reason=f"recheck {check.pk}: {check.detail}")
    pipeline.start("unlist_url", case, "removal confirmed")
    # Once more later: content put back after a removal is common.
    verify_at = check.at + timedelta(seconds=settings.REMOVAL_VERIFY_SECONDS)
    schedule.plan(case.pk, verify_at, "verify", 0)
    record("takedown.removed", actor=None, obj=case, data={"seconds": seconds})
    pipeline.start("tell_case_reporters", case.pk)  # "removed on <date>"
    return f"case {case.pk}: removal confirmed after {seconds} s"


def _verified(case: Case, check: Recheck, trace: Trace) -> str:
    """The verification recheck after a confirmed removal."""
    removal = Removal.objects.filter(case=case).order_by("-confirmed_at", "-id").first()
    if check.result == RecheckResult.LIVE:
        return _reopen(case, check, trace, removal)
    if check.result == RecheckResult.ERROR:
        later = check.at + timedelta(seconds=settings.RECHECK_DAILY_SECONDS)
        schedule.plan(case.pk, later, "verify", 0)
        return f"case {case.pk}: verification inconclusive ({check.detail}); again later"
    if removal is not None:
        Removal.objects.filter(pk=removal.pk).update(verified_at=check.at)
    schedule.forget(case.pk)
    record("takedown.removal_verified", actor=None, obj=case, data={"recheck": check.pk})
    return f"case {case.pk}: removal verified ({check.detail})"


def _reopen(case: Case, check: Recheck, trace: Trace, removal: Removal | None) -> str:
    """The content is back: re-uploaded. The case is actioned again, the URL back on the
    URL List, the host noticed again, and rechecks and chase-ups start over."""
    if removal is not None:
        Removal.objects.filter(pk=removal.pk).update(reuploaded_at=check.at)
    transition(case, CaseState.ACTIONED, actor=None, reason=f"re-uploaded: recheck {check.pk}")
    worst = max(
        (g.uk_category for g in standing_criminal_grades(case) if g.uk_category),
        key=severity_rank,
        default="",
    )
    pipeline.start("list_url", case, worst)
    plan = plan_for(case.host, trace)
    notice = _create(case, trace, notice_step(trace, plan.rule), plan.route)
    tasks.enqueue_send(notice)
    schedule.plan_next_round(case, 0, check.at)
    tasks.schedule_chase(case.pk, chase_hours(plan.rule, plan.route))
    record(
        "takedown.reuploaded",
        actor=None,
        obj=case,
        data={"recheck": check.pk, "removal": removal.pk if removal else None,
              "notice": notice.reference},
    )  # fmt: skip
    return f"case {case.pk}: content back (re-uploaded); reopened, notice {notice.reference}"


def removal_statistics() -> dict[str, int]:
    """Counts for reports: removals confirmed, verified still gone, and re-uploaded."""
    removals = Removal.objects.all()
    return {
        "confirmed": removals.count(),
        "verified": removals.filter(verified_at__isnull=False).count(),
        "reuploaded": removals.filter(reuploaded_at__isnull=False).count(),
    }


def chase(case_id: int) -> str:
    """Past the route's deadline and still there: chase the notice; after the rule's
    number of chases, escalate once. A notice nobody could be sent is escalated at once;
    one still waiting to go is chased later."""
    case = Case.objects.get(pk=case_id)
    if case.state != CaseState.ACTIONED:
        return f"case {case_id} is {case.state}: no chase"
    chased = Action.objects.filter(case=case, kind__in=_CHASED)
    notice = chased.filter(state=ActionState.SENT).order_by("-sent_at").first()
    if notice is None:
        failed = chased.filter(state=ActionState.FAILED).order_by("-created_at").first()
        waiting = chased.filter(
            state__in=[ActionState.PENDING, ActionState.SENDING, ActionState.WAITING]
        ).first()
        if waiting is not None:
            trace = waiting.trace
            rule = rule_for(trace.country if trace is not None else "")
            tasks.schedule_chase(case.pk, chase_hours(rule, waiting.route))
            return f"case {case_id}: {waiting.reference} not sent yet; chase later"
        if failed is None:
            return f"case {case_id}: no notice or referral"
        return _escalate(case, failed)
    trace = notice.trace
    rule = rule_for(trace.country if trace is not None else "")
    hours = chase_hours(rule, notice.route)
    chases = Action.objects.filter(case=case, kind=ActionKind.CHASE).count()
    with transaction.atomic():
        if chases < rule.chases_before_escalation:
            step = Step(ActionKind.CHASE, notice.recipient)
            action = _create(case, trace, step, notice.route, follows=notice)  # type: ignore[arg-type]
            tasks.enqueue_send(action)
            tasks.schedule_chase(case.pk, hours)
            return f"case {case_id}: chase {chases + 1} to {notice.recipient}"
    return _escalate(case, notice)


def _escalate(case: Case, notice: Action) -> str:
    if Action.objects.filter(case=case, kind=ActionKind.ESCALATION).exists():
        return f"case {case.pk}: already escalated"
    trace = notice.trace
    rule = rule_for(trace.country if trace is not None else "")
    step = escalation_step(rule)
    with transaction.atomic():
        action = _create(case, trace, step, notice.route, follows=notice)  # type: ignore[arg-type]
        tasks.enqueue_send(action)
    return f"case {case.pk}: escalated to {step.recipient or 'nobody (no contact)'}"


def host_says_removed(action: Action) -> bool:
    """The host used the link in the notice: bring the next recheck forward (this never
    marks removal). A recheck already due soon enough is not doubled, and a recheck that
    could confirm a removal is never brought nearer than RECHECK_CONFIRM_SECONDS after
    the first not-live answer. Returns whether a recheck was brought forward."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=action.case_id)
        now = timezone.now()
        Action.objects.filter(pk=action.pk).update(removed_reported_at=now)
        earliest = now
        last = Recheck.objects.filter(case=case).exclude(result=RecheckResult.ERROR).first()
        if last is not None and last.result in _NOT_LIVE:
            since, _count = _not_live_run(case)
            earliest = max(now, since + timedelta(seconds=settings.RECHECK_CONFIRM_SECONDS))
        pending = RecheckPlan.objects.filter(case=case).first()
        sooner = case.state == CaseState.ACTIONED and (pending is None or pending.due_at > earliest)
        if sooner:
            round_ = pending.round if pending is not None else 0
            schedule.plan(case.pk, earliest, "host link", round_)
        record(
            "takedown.host_says_removed",
            actor=None,
            obj=action,
            data={"recheck_at": earliest.isoformat() if sooner else None},
        )
    return sooner


def police_cleared(action: Action, actor: Any) -> None:
    """Police cleared a notice that waited for them: send it now."""
    with transaction.atomic():
        Action.objects.filter(pk=action.pk, state=ActionState.WAITING).update(
            state=ActionState.PENDING, not_before=timezone.now() - timedelta(seconds=1)
        )
        record("takedown.police_cleared", actor=actor, obj=action, data={})
        action.refresh_from_db()
        tasks.enqueue_send(action)


def cancel_pending(case_id: int, why: str) -> int:
    """Stop what has not gone out yet (a decision reversed by QA); the reporters hear
    the corrected outcome."""
    pipeline.start("tell_case_reporters", case_id)
    return Action.objects.filter(
        case_id=case_id, state__in=[ActionState.PENDING, ActionState.WAITING]
    ).update(state=ActionState.CANCELLED, problem=why[:500])
