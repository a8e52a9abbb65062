"""Holding a criminal decision's follow-on work until QA agrees.

A decision of an analyst in training is held from the start; a decision sampled for QA is
held when the country's routing rule says `hold_for_qa` (known only once the case is
traced, so `takedown.services.act_on` asks). While held, the case stays "awaiting action"
and nothing leaves: no notice or referral, no URL List entry, no outcome to reporters.
The review that agrees, or a manager's resolution, releases the hold; a resolution that
finds the case not criminal closes it with nothing ever sent."""

from typing import Any

from django.utils import timezone

from openhotline import pipeline
from openhotline.assessment.models import Decision, QaReason, Review, ReviewState
from openhotline.assessment.standing import standing_criminal_grades
from openhotline.audit.services import record
from openhotline.cases.models import Case
from openhotline.grading import severity_rank

TRAINING = "decision of an analyst in training"

# Reviews in these states have had their say: nothing waits for them any more.
SETTLED = frozenset({ReviewState.AGREED, ReviewState.RESOLVED})


def held_from_the_start(decision: Decision) -> str:
    """Why a new criminal decision waits for QA before anything follows, or ""."""
    if decision.criminal and decision.qa == QaReason.TRAINING:
        return TRAINING
    return ""


def latest_decision(case: Case) -> Decision | None:
    return Decision.objects.filter(case=case).order_by("-decided_at", "-id").first()


def holding(case: Case, rule: Any) -> str:
    """Called by act_on with the case locked: why its work must wait for QA, or "" to go
    ahead. A hold found here (the routing rule) is recorded on the decision once."""
    decision = latest_decision(case)
    if decision is None or not decision.criminal:
        return ""
    review = Review.objects.filter(decision=decision).first()
    if review is None or review.state in SETTLED:
        return ""
    if decision.held_for_qa:
        return decision.hold_reason
    if decision.released_at is None and getattr(rule, "hold_for_qa", False):
        why = f"routing rule for {rule.country or 'any other country'}"
        Decision.objects.filter(pk=decision.pk).update(held_for_qa=True, hold_reason=why)
        record(
            "assessment.actions_held",
            actor=None,
            obj=case,
            data={"decision": decision.pk, "why": why},
        )
        return why
    return ""


def is_held(case: Case) -> bool:
    """Whether the case's work waits for QA (for screens: the reporters' status follows
    the case only once this is False)."""
    decision = latest_decision(case)
    return decision is not None and decision.held_for_qa


def release(decision: Decision, actor: Any, why: str) -> bool:
    """End the hold (inside the caller's transaction); False if there was none."""
    released = Decision.objects.filter(pk=decision.pk, held_for_qa=True).update(
        held_for_qa=False, released_at=timezone.now()
    )
    if released:
        decision.held_for_qa = False
        record(
            "assessment.actions_released",
            actor=actor,
            obj=decision.case,
            data={"decision": decision.pk, "why": why, "held_because": decision.hold_reason},
        )
    return bool(released)


def list_url(case: Case) -> None:
    """Put a criminal case's URL on the URL List with its most severe standing grade
    (idempotent: the same data twice changes nothing)."""
    worst = max(
        (g.uk_category for g in standing_criminal_grades(case) if g.uk_category),
        key=severity_rank,
        default="",
    )
    pipeline.start("list_url", case, worst)
