"""QA reviewers' and managers' pages: open reviews, the blind review screen, resolving a
disagreement, agreement figures and each analyst's QA regime."""

from datetime import datetime, time

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openhotline.accounts.models import Role, User
from openhotline.assessment import review as qa
from openhotline.assessment import views
from openhotline.assessment.access import managers_only, reviewers_only
from openhotline.assessment.agreement import by_analyst
from openhotline.assessment.blinding import recuse as recuse_from
from openhotline.assessment.decisions import DecisionErrors
from openhotline.assessment.groups import groups_for
from openhotline.assessment.models import ClosureReason, Review, ReviewState, Stage
from openhotline.assessment.views import screen_context
from openhotline.assessment.welfare import profile_for
from openhotline.assessment.workspace import open_workspace
from openhotline.audit.services import record


@reviewers_only
@require_GET
def reviews(request: HttpRequest) -> HttpResponse:
    mine = Review.objects.filter(state=ReviewState.IN_PROGRESS, reviewer_id=request.user.pk)
    disputed = None
    if request.user.role == Role.MANAGER:  # type: ignore[union-attr]
        disputed = Review.objects.filter(state=ReviewState.DISPUTED).select_related(
            "decision__case", "decision__analyst", "reviewer"
        )
    return render(
        request,
        "assessment/reviews.html",
        {
            "open": qa.open_reviews(request.user)[:100],
            "mine": mine.select_related("decision__case"),
            "disputed": disputed,
        },
    )


@reviewers_only
@require_POST
def start_review(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(Review.objects.select_related("decision"), pk=review_id)
    try:
        qa.start(review, request.user)
    except qa.ReviewRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("assessment:reviews")
    return redirect("assessment:review", review_id=review.pk)


@reviewers_only
@require_POST
def recuse(request: HttpRequest, review_id: int) -> HttpResponse:
    """Open a case's record while its review waits, giving up that review (audited)."""
    review = get_object_or_404(Review.objects.select_related("decision"), pk=review_id)
    if not recuse_from(request.user, review):
        messages.error(request, "Finish your review first: the case opens when you submit it.")
        return redirect("assessment:review", review_id=review.pk)
    return redirect("cases:detail", case_id=review.decision.case_id)


@reviewers_only
@never_cache
@require_GET
def review_screen(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(Review.objects.select_related("decision__case"), pk=review_id)
    if review.state == ReviewState.DISPUTED and request.user.role == Role.MANAGER:  # type: ignore[union-attr]
        return redirect("assessment:resolve", review_id=review.pk)
    if not qa.reviewing(review, request.user):
        return _not_yours(request, review)
    ws = open_workspace(request.user, review.decision.case_id, review.pk)
    return render(request, "assessment/case.html", screen_context(request, ws))


def _not_yours(request: HttpRequest, review: Review) -> HttpResponse:
    """A review someone else is doing, or not waiting: say so, offer to start it."""
    can_start = (
        review.state == ReviewState.PENDING and review.decision.analyst_id != request.user.pk
    )
    return render(
        request,
        "assessment/review_not_yours.html",
        {"review": review, "can_start": can_start},
        status=409,
    )


@reviewers_only
@require_POST
def submit_review(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(Review.objects.select_related("decision__case"), pk=review_id)
    ws = open_workspace(request.user, review.decision.case_id, review.pk)
    verdict = request.POST.get("criminal", "")
    try:
        if verdict not in ("yes", "no"):
            raise DecisionErrors({"criminal": "Say whether the case is criminal."})
        done = qa.submit(review, request.user, verdict == "yes", groups_for(ws.case))
    except DecisionErrors as bad:
        context = screen_context(request, ws, decision_errors=bad.errors, posted=request.POST)
        return render(request, "assessment/case.html", context, status=422)
    except qa.ReviewRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("assessment:reviews")
    if done.state == ReviewState.AGREED:
        messages.success(request, "Review submitted: you agree with the first assessment.")
    else:
        messages.warning(request, "Review submitted: the grades differ; a manager will resolve it.")
    return redirect("assessment:reviews")


@managers_only
@never_cache
@require_http_methods(["GET", "POST"])
def resolve(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(
        Review.objects.select_related("decision__case", "decision__analyst", "reviewer"),
        pk=review_id,
    )
    if review.state != ReviewState.DISPUTED:
        return _not_yours(request, review)
    ws = open_workspace(request.user, review.decision.case_id, review.pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        choices = {
            d["media"]: request.POST.get(f"media-{d['media']}", "")
            for d in review.differences
            if "media" in d
        }
        try:
            qa.resolve(
                review,
                request.user,
                choices,
                request.POST.get("final_criminal") == "yes",
                closure_reason=request.POST.get("closure_reason", ""),
                notes=request.POST.get("notes", ""),
            )
        except DecisionErrors as bad:
            errors = bad.errors
        except qa.ReviewRefused as refusal:
            errors = {"review": str(refusal)}
        else:
            messages.success(request, f"Review {review.pk} resolved.")
            return redirect("assessment:reviews")
    first = {g.media_id: g for g in review.decision.grades.filter(stage=Stage.FIRST)}
    second = {g.media_id: g for g in review.grades.filter(stage=Stage.QA)}
    rows = [
        {"d": d, "first": first.get(d["media"]), "second": second.get(d["media"])}
        for d in review.differences
        if "media" in d
    ]
    verdict_difference = next((d for d in review.differences if "case" in d), None)
    return render(
        request,
        "assessment/resolve.html",
        {
            "ws": ws,
            "review": review,
            "decision": review.decision,
            "rows": rows,
            "verdict_difference": verdict_difference,
            "closure_reasons": ClosureReason.choices,
            "errors": errors,
            "posted": request.POST,
        },
        status=422 if errors else 200,
    )


@managers_only
@require_GET
def agreement(request: HttpRequest) -> HttpResponse:
    analysts = User.objects.filter(role__in=[Role.ANALYST, Role.QA_REVIEWER, Role.MANAGER])
    return render(
        request,
        "assessment/agreement.html",
        {
            "rows": by_analyst(),
            "analysts": [(a, profile_for(a)) for a in analysts.order_by("username")],
        },
    )


@managers_only
@require_POST
def qa_regime(request: HttpRequest, user_id: int) -> HttpResponse:
    """A manager puts an analyst in or out of training, or under full QA until a date."""
    analyst = get_object_or_404(User, pk=user_id)
    profile = profile_for(analyst)
    raw_until = request.POST.get("full_qa_until", "").strip()
    until = None
    if raw_until:
        try:
            day = datetime.fromisoformat(raw_until).date()
        except ValueError:
            messages.error(request, f"{raw_until!r} is not a date (YYYY-MM-DD).")
            return redirect("assessment:agreement")
        until = timezone.make_aware(datetime.combine(day, time.max))
    profile.in_training = request.POST.get("in_training") in ("1", "on")
    profile.full_qa_until = until
    profile.save(update_fields=["in_training", "full_qa_until"])
    record(
        "assessment.qa_regime",
        actor=request.user,
        obj=analyst,
        data={"in_training": profile.in_training, "full_qa_until": raw_until},
    )
    messages.success(request, f"QA for {analyst.get_username()} updated.")
    return redirect("assessment:agreement")


# A reviewer reveals and grades through the analyst's views, within their review.
review_reveal = reviewers_only(views.reveal)
review_grade = reviewers_only(views.grade)
