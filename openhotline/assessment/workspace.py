"""The one door to a case's media for assessment: who is looking, in which role, and
whether they may reveal and grade. Every assessment view goes through `open_workspace`."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from openhotline.accounts.models import Role
from openhotline.assessment import queue
from openhotline.assessment.models import Review, ReviewState, Stage
from openhotline.audit.services import record
from openhotline.cases.models import Case


@dataclass(frozen=True)
class Workspace:
    case: Case
    stage: str  # Stage.FIRST (analyst), Stage.QA (reviewer) or Stage.RESOLVED (manager)
    review: Review | None = None

    @property
    def can_grade(self) -> bool:
        return self.stage in (Stage.FIRST, Stage.QA)


def open_workspace(user: Any, case_id: int, review_id: int | None = None) -> Workspace:
    """The workspace, or PermissionDenied (audited) when the person holds no claim or
    review on the case."""
    case = get_object_or_404(Case, pk=case_id)
    if review_id is None:
        if queue.holds(case, user):
            return Workspace(case, Stage.FIRST)
        why = "no claim on the case"
    else:
        review = get_object_or_404(
            Review.objects.select_related("decision"), pk=review_id, decision__case=case
        )
        if review.state == ReviewState.IN_PROGRESS and review.reviewer_id == user.pk:
            return Workspace(case, Stage.QA, review)
        if (
            review.state == ReviewState.DISPUTED
            and user.role == Role.MANAGER
            and user.pk not in (review.decision.analyst_id, review.reviewer_id)
        ):
            return Workspace(case, Stage.RESOLVED, review)
        why = "not this review's reviewer or resolver"
    record("assessment.refused", actor=user, obj=case, data={"why": why})
    raise PermissionDenied(f"You cannot work on case #{case.pk} now: {why}.")
