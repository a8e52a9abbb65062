"""Quality assurance: a blind second grading of a sampled decision, the comparison, and a
manager's resolution of any disagreement. Both grades are always kept."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from openhotline import pipeline
from openhotline.assessment import holds, tasks
from openhotline.assessment.decisions import DecisionErrors, criminal_under
from openhotline.assessment.groups import Group
from openhotline.assessment.models import (
    ClosureReason,
    Decision,
    MediaGrade,
    Review,
    ReviewState,
    Stage,
    Via,
)
from openhotline.audit.services import record
from openhotline.cases.models import CaseState
from openhotline.cases.services import transition

COMPARED = ("category", "age_band")


class ReviewRefused(Exception):
    """This person cannot do this to this review now; the message says why."""


def open_reviews(user: Any) -> QuerySet[Review]:
    """Reviews waiting for a reviewer, never the reviewer's own decisions."""
    return (
        Review.objects.filter(state=ReviewState.PENDING)
        .exclude(decision__analyst=user)
        .exclude(recusals__user_id=user.pk)
        .select_related("decision__case", "decision__analyst")
    )


def start(review: Review, user: Any) -> None:
    if review.decision.analyst_id == user.pk:
        record("assessment.refused", actor=user, obj=review, data={"why": "own decision"})
        raise ReviewRefused("You cannot review your own decision.")
    if review.state == ReviewState.IN_PROGRESS and review.reviewer_id == user.pk:
        return
    if review.recusals.filter(user_id=user.pk).exists():
        record("assessment.refused", actor=user, obj=review, data={"why": "recused"})
        raise ReviewRefused(
            "You opened this case's record while its review was waiting, so you are not "
            "blind to it: someone else reviews it."
        )
    taken = Review.objects.filter(pk=review.pk, state=ReviewState.PENDING).update(
        state=ReviewState.IN_PROGRESS, reviewer=user, started_at=timezone.now()
    )
    if not taken:
        raise ReviewRefused("This review is not waiting any more.")
    review.refresh_from_db()
    record("assessment.review_started", actor=user, obj=review, data={})


def reviewing(review: Review, user: Any) -> bool:
    return review.state == ReviewState.IN_PROGRESS and review.reviewer_id == user.pk


def compared_label(grade: MediaGrade, mapping: str, field: str) -> str:
    if field == "category":
        if not criminal_under(grade, mapping):
            return "not criminal"
        if mapping == "uk":
            return grade.uk_category
        if mapping == "vics":
            return str(grade.vics_category)
        return "baseline"
    return grade.age_band if grade.is_csam else ""


def differences(
    mapping: str, first: Mapping[int, MediaGrade], second: Mapping[int, MediaGrade]
) -> list[dict[str, Any]]:
    found = []
    for media_id in sorted(first):
        a, b = first[media_id], second.get(media_id)
        if b is None:
            continue
        fields = [
            f for f in COMPARED if compared_label(a, mapping, f) != compared_label(b, mapping, f)
        ]
        if fields:
            found.append(
                {"media": media_id, "fields": fields, "first": a.summary(), "second": b.summary()}
            )
    return found


def submit(review: Review, user: Any, criminal: bool, groups: list[Group]) -> Review:
    """Close the reviewer's blind grading and compare it with the first."""
    with transaction.atomic():
        locked = Review.objects.select_for_update().select_related("decision").get(pk=review.pk)
        if not reviewing(locked, user):
            raise ReviewRefused("You are not reviewing this case.")
        mine = {g.media_id: g for g in locked.grades.filter(stage=Stage.QA)}
        ungraded = [g for g in groups if any(m not in mine for m in g.media_ids)]
        if ungraded:
            raise DecisionErrors(
                {"grades": f"{len(ungraded)} item group(s) are not graded yet; grade every item."}
            )
        decision = locked.decision
        criminal_items = [g for g in mine.values() if criminal_under(g, decision.mapping)]
        if criminal_items and not criminal:
            raise DecisionErrors(
                {
                    "criminal": f"{len(criminal_items)} item(s) are graded criminal; "
                    "the case cannot be judged not criminal."
                }
            )
        first = {g.media_id: g for g in decision.grades.filter(stage=Stage.FIRST)}
        found = differences(decision.mapping, first, mine)
        if criminal != decision.criminal:
            found.append({"case": "criminal", "first": decision.criminal, "second": criminal})
        locked.criminal = criminal
        locked.differences = found
        locked.reviewed_at = timezone.now()
        locked.state = ReviewState.DISPUTED if found else ReviewState.AGREED
        locked.save()
        record(
            "assessment.reviewed",
            actor=user,
            obj=locked,
            data={"state": locked.state, "differences": len(found)},
        )
        if not found:
            tasks.confirm_grades_task.enqueue(decision.pk)
            if holds.release(decision, user, f"QA review {locked.pk} agreed"):
                _follow_released(decision)
    return locked


def _follow_released(decision: Decision) -> None:
    """What a held criminal decision would have started at once: the reporters' outcome
    and the action (which traces, routes, sends and lists the URL)."""
    pipeline.start("tell_reporters", decision.pk)
    pipeline.start("act_on_case", decision.case_id)


def resolve(
    review: Review,
    manager: Any,
    choices: Mapping[int, str],
    final_criminal: bool,
    closure_reason: str = "",
    notes: str = "",
) -> Review:
    """A manager picks the standing grade of each disputed item ("first" or "qa") and the
    final verdict; the case follows the verdict if it changed."""
    with transaction.atomic():
        locked = (
            Review.objects.select_for_update().select_related("decision__case").get(pk=review.pk)
        )
        decision = locked.decision
        if locked.state != ReviewState.DISPUTED:
            raise ReviewRefused("Only a disputed review can be resolved.")
        if manager.pk in (decision.analyst_id, locked.reviewer_id):
            raise ReviewRefused("A disagreement is resolved by a manager who graded neither side.")
        disputed = [d["media"] for d in locked.differences if "media" in d]
        errors = {
            f"media-{m}": "Choose which grade stands."
            for m in disputed
            if choices.get(m) not in ("first", "qa")
        }
        if not final_criminal and closure_reason not in ClosureReason.values:
            errors["closure_reason"] = "Say why the case is closed."
        if errors:
            raise DecisionErrors(errors)
        first = {g.media_id: g for g in decision.grades.filter(stage=Stage.FIRST)}
        second = {g.media_id: g for g in locked.grades.filter(stage=Stage.QA)}
        standing = dict(first)
        for media_id in disputed:
            chosen = first[media_id] if choices[media_id] == "first" else second[media_id]
            standing[media_id] = _copy_as_resolution(chosen, locked, manager)
        criminal_items = [g for g in standing.values() if criminal_under(g, decision.mapping)]
        if criminal_items and not final_criminal:
            raise DecisionErrors(
                {"final_criminal": "Items graded criminal stand; the case cannot be closed."}
            )
        locked.final_criminal = final_criminal
        locked.resolved_by = manager
        locked.resolved_at = timezone.now()
        locked.resolution_notes = notes.strip()[:5000]
        locked.state = ReviewState.RESOLVED
        locked.save()
        was_held = holds.release(decision, manager, f"QA review {locked.pk} resolved")
        if was_held and final_criminal == decision.criminal:
            _follow_released(decision)
        elif was_held:
            pipeline.start("tell_reporters", decision.pk)  # the case's outcome, now settled
        if final_criminal != decision.criminal:
            to_state = CaseState.AWAITING_ACTION if final_criminal else CaseState.CLOSED
            decision.closure_reason = "" if final_criminal else closure_reason
            decision.save(update_fields=["closure_reason"])
            transition(
                decision.case,
                to_state,
                actor=manager,
                reason=f"QA resolution of review {locked.pk}",
            )
            if not was_held:  # reporters were told the first verdict: tell the settled one
                pipeline.start("tell_reporters", decision.pk)
            if final_criminal:
                pipeline.start("list_url", decision.case)
                pipeline.start("act_on_case", decision.case_id)
            else:
                pipeline.start("unlist_url", decision.case, "QA resolution: not criminal")
                pipeline.start("cancel_actions", decision.case_id, "QA resolution: not criminal")
        record(
            "assessment.resolved",
            actor=manager,
            obj=locked,
            data={"choices": {str(k): v for k, v in choices.items()}, "criminal": final_criminal},
        )
        tasks.confirm_grades_task.enqueue(decision.pk)
    return locked


def _copy_as_resolution(chosen: MediaGrade, review: Review, manager: Any) -> MediaGrade:
    copy = MediaGrade.objects.get(pk=chosen.pk)
    copy.pk = None
    copy.stage = Stage.RESOLVED
    copy.grader = manager
    copy.review = review
    copy.decision = review.decision
    copy.via = Via.RESOLUTION
    copy.group_of = None
    copy.graded_at = timezone.now()
    copy.save()
    return copy
