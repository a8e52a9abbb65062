"""Blind QA stays blind: a person who is reviewing a decision, or who could still take its
waiting review, sees nothing of the case that gives the first assessment away (the
verdict, its grades and notes, who made it, the case's state after it, what followed)
until the review is submitted. Every staff view that shows a case asks `blinded_for`.

Someone who may review but needs the case record now (a manager clearing a problem) can
open it anyway: that is recorded as a recusal, audited, and they may no longer take the
review — so no review is ever done by a person who saw the first assessment."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from openhotline.assessment.access import REVIEWERS
from openhotline.assessment.models import Recusal, Review, ReviewState
from openhotline.audit.services import record
from openhotline.cases.models import Case


def blind_reviews(user: Any) -> QuerySet[Review]:
    """The reviews this person must stay blind to: the one they are doing, and every
    waiting one they could still take (not their own decision, not recused from)."""
    if getattr(user, "role", "") not in REVIEWERS:
        return Review.objects.none()
    doing = Q(state=ReviewState.IN_PROGRESS, reviewer_id=user.pk)
    could_take = Q(state=ReviewState.PENDING) & ~Q(decision__analyst_id=user.pk)
    return Review.objects.filter(doing | could_take).exclude(recusals__user_id=user.pk)


def blinded_for(user: Any, case: Case | int) -> Review | None:
    """The review that keeps this person blind to the case, or None: they may see it."""
    case_id = case if isinstance(case, int) else case.pk
    found = list(blind_reviews(user).filter(decision__case_id=case_id).select_related("decision"))
    doing = [r for r in found if r.state == ReviewState.IN_PROGRESS]
    return next(iter(doing or found), None)


def blinded_case_ids(user: Any) -> set[int]:
    """Every case this person is blind to, for lists (the inbox, the staff API)."""
    return set(blind_reviews(user).values_list("decision__case_id", flat=True))


def recuse(user: Any, review: Review) -> bool:
    """Give up a waiting review to see the case now; False if the person is doing it
    (finish it first) or was never blind to it."""
    if review.state != ReviewState.PENDING or review.decision.analyst_id == user.pk:
        return False
    try:
        with transaction.atomic():
            Recusal.objects.create(review=review, user=user)
            record(
                "assessment.recused",
                actor=user,
                obj=review,
                data={"case": review.decision.case_id},
            )
    except IntegrityError:
        return True  # already recused: the same outcome
    return True


def blind_page(request: HttpRequest, case: Case, review: Review) -> HttpResponse:
    """What a blinded person sees instead of a case's record: the case is under review,
    nothing more."""
    doing = review.state == ReviewState.IN_PROGRESS
    return render(
        request,
        "assessment/blinded_case.html",
        {"case": case, "review": review, "doing": doing},
    )


# What a blinded person is shown for a case's state, in lists and the API.
BLIND_STATE = "under_review"
BLIND_STATE_LABEL = "Under QA review"


def blinded_ids(request: HttpRequest) -> set[int]:
    """`blinded_case_ids` of the request's user, worked out once per request."""
    cached: set[int] | None = getattr(request, "_blinded_case_ids", None)
    if cached is None:
        cached = blinded_case_ids(request.user)
        request._blinded_case_ids = cached  # type: ignore[attr-defined]
    return cached


def without_blinded(queryset: QuerySet[Case], request: HttpRequest) -> QuerySet[Case]:
    """A list filtered by what follows a decision (state, outcome, notice, …) leaves out
    the cases the person is blind to: being in the result would give the verdict away."""
    blind = blinded_ids(request)
    return queryset.exclude(pk__in=blind) if blind else queryset
