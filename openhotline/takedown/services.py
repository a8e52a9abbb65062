"""From a criminal decision to confirmed removal: trace, route, act, recheck, chase,
escalate. Each step is a function taking ids, safe to run twice; the tasks in `tasks.py`
are thin wrappers and the schedule is settings.

Removal is confirmed only by two consecutive rechecks that find the URL gone (DNS
failure, 404/410, connection refused) or none of the criminal media served any more
(compared by hash) — never by a mere change of page, and never by the host's word alone.
"""

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.audit.services import record
from openhotline.cases.models import Case, CaseState
from openhotline.cases.services import transition
from openhotline.evidence.net.fetcher import SafeFetcher
from openhotline.evidence.net.resolver import ErrorKind
from openhotline.takedown.models import (
    Action,
    ActionKind,
    ActionState,
    Recheck,
    RecheckResult,
    Removal,
)
from openhotline.takedown.notices import new_reference
from openhotline.tracing.models import Route, Trace
from openhotline.tracing.routing import ONION, Step, notice_step, plan_for, rule_for
from openhotline.tracing.services import trace_case

_GONE_ERRORS = frozenset(
    {ErrorKind.DNS_NXDOMAIN, ErrorKind.DNS_NO_ADDRESS, ErrorKind.CONNECTION_REFUSED}
)
_NOT_LIVE = frozenset({RecheckResult.GONE, RecheckResult.MEDIA_GONE})


def act_on(case_id: int) -> str:
    """Trace a case decided criminal and send the work where the rules say."""
    from openhotline.takedown import tasks

    case = Case.objects.get(pk=case_id)
    if case.state != CaseState.AWAITING_ACTION:
        return f"case {case_id} is {case.state}: nothing to do"
    trace = trace_case(case)
    plan = plan_for(case.host, trace)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case_id)
        if locked.state != CaseState.AWAITING_ACTION:
            return f"case {case_id} is {locked.state}: nothing to do"
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
            tasks.schedule_recheck(locked.pk, 0)
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

    from openhotline.assessment.decisions import standing_criminal_grades
    from openhotline.evidence.models import CaptureItem

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
    return Action.objects.create(
        case=case,
        trace=trace,
        kind=step.kind,
        state=state,
        reference=new_reference(),
        recipient=step.recipient,
        route=route,
        not_before=step.not_before,
        problem=step.problem,
        follows=follows,
    )


def probe(case: Case) -> tuple[str, str, int | None, int]:
    """(result, detail, status, criminal media still served) for the case's URL now."""
    fetcher = SafeFetcher()
    page = fetcher.fetch(case.url or "")
    if page.refused:
        return RecheckResult.ERROR, f"refused: {page.refused}", None, 0
    if page.error_kind in _GONE_ERRORS:
        return RecheckResult.GONE, page.error or "", None, 0
    if page.error:
        return RecheckResult.ERROR, page.error, None, 0
    if page.status in (404, 410):
        return RecheckResult.GONE, f"HTTP {page.status}", page.status, 0
    if page.status is None or page.status >= 400:
        return RecheckResult.ERROR, f"HTTP {page.status}", page.status, 0
    served = _criminal_media_served(case, fetcher)
    if served == 0:
        return RecheckResult.MEDIA_GONE, "page answers; none of the criminal media", page.status, 0
    return RecheckResult.LIVE, f"{served} criminal item(s) still served", page.status, served


def _criminal_media_served(case: Case, fetcher: SafeFetcher) -> int:
    """How many criminal media items are still served at the URLs they were captured
    from, compared by SHA-256 of the bytes (a changed page with the same images is live)."""
    from openhotline.assessment.decisions import standing_criminal_grades
    from openhotline.evidence.models import CaptureItem
    from openhotline.signals.services import hashes_by_media

    criminal = [g.media_id for g in standing_criminal_grades(case)]
    if not criminal:
        return 0
    wanted = {
        values["sha256"]: media_id
        for media_id, values in hashes_by_media(criminal, ["sha256"]).items()
    }
    urls = CaptureItem.objects.filter(capture__case=case, media_id__in=criminal).values_list(
        "url", "media_id"
    )
    still: set[int] = set()
    for url, media_id in urls:
        if media_id in still:
            continue
        got = fetcher.fetch(url, max_bytes=settings.FETCH_MAX_MEDIA_BYTES)
        served = got.ok and got.status == 200 and not got.truncated
        if served and wanted.get(hashlib.sha256(got.body).hexdigest()) == media_id:
            still.add(media_id)
    return len(still)


def recheck(case_id: int, reason: str = "schedule", round_: int = 0) -> str:
    from openhotline.takedown import tasks

    case = Case.objects.get(pk=case_id)
    if case.state != CaseState.ACTIONED:
        return f"case {case_id} is {case.state}: no recheck"
    trace = trace_case(case)
    result, detail, status, served = probe(case)
    with transaction.atomic():
        previous = Recheck.objects.filter(case=case).order_by("-at", "-id").first()
        check = Recheck.objects.create(
            case=case, result=result, detail=detail[:500], status_code=status,
            criminal_media_seen=served, trace=trace, reason=reason[:50],
        )  # fmt: skip
        if trace.moved and result == RecheckResult.LIVE:
            _renotice_after_move(case, trace)
        if result in _NOT_LIVE and previous is not None and previous.result in _NOT_LIVE:
            return _confirm_removal(case, check)
        if result in _NOT_LIVE or result == RecheckResult.ERROR:
            # Confirm (or rule out) soon: a single look never decides.
            tasks.schedule_recheck(case.pk, round_, delay=settings.RECHECK_CONFIRM_SECONDS)
        elif reason == "schedule":
            tasks.schedule_recheck(case.pk, round_ + 1)
    return f"case {case_id}: {result} ({detail})"


def _renotice_after_move(case: Case, trace: Trace) -> None:
    """The content moved to another host: notice the new host, and if it moved to
    another country, do what that country's rules add (a referral, police)."""
    from openhotline.takedown import tasks

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
    first = (
        Action.objects.filter(case=case, state=ActionState.SENT)
        .exclude(kind=ActionKind.POLICE_NOTIFICATION)
        .order_by("sent_at")
        .first()
    )
    started = first.sent_at if first is not None else None
    seconds = (check.at - started).total_seconds() if started is not None else None
    Removal.objects.get_or_create(
        case=case,
        defaults={
            "confirmed_at": check.at,
            "first_action_at": started,
            "seconds_to_removal": seconds,
            "how": check.get_result_display(),
        },
    )
    Action.objects.filter(case=case, state__in=[ActionState.PENDING, ActionState.WAITING]).update(
        state=ActionState.CANCELLED, problem="removal confirmed"
    )
    transition(case, CaseState.REMOVED, actor=None, reason=f"recheck {check.pk}: {check.detail}")
    from openhotline.feeds import url_list

    url_list.gone(case, "removal confirmed")
    record("takedown.removed", actor=None, obj=case, data={"seconds": seconds})
    return f"case {case.pk}: removal confirmed after {seconds} s"


def chase(case_id: int) -> str:
    """Past the route's deadline and still there: chase the notice; after the rule's
    number of chases, escalate once."""
    from openhotline.takedown import tasks

    case = Case.objects.get(pk=case_id)
    if case.state != CaseState.ACTIONED:
        return f"case {case_id} is {case.state}: no chase"
    notice = (
        Action.objects.filter(case=case, kind__in=_CHASED, state=ActionState.SENT)
        .order_by("-sent_at")
        .first()
    )
    if notice is None:
        return f"case {case_id}: no notice or referral sent yet"
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
        if Action.objects.filter(case=case, kind=ActionKind.ESCALATION).exists():
            return f"case {case_id}: already escalated"
        to = rule.escalate_to or rule.police_contact or settings.POLICE_CONTACT
        step = Step(ActionKind.ESCALATION, to, problem="" if to else "no escalation contact")
        action = _create(case, trace, step, notice.route, follows=notice)  # type: ignore[arg-type]
        tasks.enqueue_send(action)
    return f"case {case_id}: escalated to {to or 'nobody (no contact)'}"


def host_says_removed(action: Action) -> None:
    """The host used the link in the notice: recheck now (this never marks removal)."""
    from openhotline.takedown import tasks

    with transaction.atomic():
        Action.objects.filter(pk=action.pk).update(removed_reported_at=timezone.now())
        record("takedown.host_says_removed", actor=None, obj=action, data={})
        tasks.recheck_task.enqueue(action.case_id, "host link", 0)


def police_cleared(action: Action, actor: Any) -> None:
    """Police cleared a notice that waited for them: send it now."""
    from openhotline.takedown import tasks

    with transaction.atomic():
        Action.objects.filter(pk=action.pk, state=ActionState.WAITING).update(
            state=ActionState.PENDING, not_before=timezone.now() - timedelta(seconds=1)
        )
        record("takedown.police_cleared", actor=actor, obj=action, data={})
        action.refresh_from_db()
        tasks.enqueue_send(action)


def cancel_pending(case_id: int, why: str) -> int:
    """Stop what has not gone out yet (a decision reversed by QA)."""
    return Action.objects.filter(
        case_id=case_id, state__in=[ActionState.PENDING, ActionState.WAITING]
    ).update(state=ActionState.CANCELLED, problem=why[:500])
