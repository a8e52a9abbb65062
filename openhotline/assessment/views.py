"""The analyst's pages: the queue, the case screen (reveal, grade, decide) and welfare.

The case screen is one server-rendered page: a grid of media groups and one grading
panel for the focused group. Reveals and grades are htmx posts that return the one group
they changed, with the counters beside it swapped out of band. Everything also works as
plain forms: each group links to `?group=<id>`, which renders the panel for it.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openhotline import grading
from openhotline.assessment import holds, queue, welfare
from openhotline.assessment.access import REVIEWERS, assessors_only
from openhotline.assessment.blinding import blinded_for
from openhotline.assessment.decisions import DecisionErrors, decide, parse_decision
from openhotline.assessment.grades import (
    FLAG_LABELS,
    GradeErrors,
    GradeRefused,
    draft_grades,
    grade_group,
    parse_grade,
)
from openhotline.assessment.groups import Group, group_of, groups_for
from openhotline.assessment.models import (
    AssessorProfile,
    Claim,
    ClosureReason,
    Decision,
    Mapping,
    MediaGrade,
    Sex,
    SiteType,
    Stage,
)
from openhotline.assessment.review import open_reviews
from openhotline.assessment.workspace import Workspace, open_workspace
from openhotline.audit.services import record
from openhotline.cases.models import Case
from openhotline.evidence.models import Media

# The keyboard map, shown on the screen and read by assess.js from the same markup.
ACTIVITY_ROWS = [
    (code, label, str(n)) for n, (code, label) in enumerate(grading.ACTIVITIES.items(), start=1)
]
NOT_CSAM_ROWS = [
    (code, grading.NOT_CSAM[code], key)
    for code, key in (("adult", "a"), ("innocent", "i"), ("off_remit", "o"))
]
AGE_ROWS = [
    (code, label, str(n)) for n, (code, label) in enumerate(grading.AGE_BANDS.items(), start=1)
]
FLAG_KEYS = {
    "self_generated": "s",
    "sextortion": "x",
    "ai_generated": "g",
    "non_photographic": "n",
    "collage": "c",
}
FLAG_ROWS = [(name, label, FLAG_KEYS[name]) for name, label in FLAG_LABELS.items()]


@assessors_only
@require_GET
def queue_page(request: HttpRequest) -> HttpResponse:
    held = queue.held_by(request.user)
    waiting = list(queue.waiting().select_related("latest_report")[:25])
    return render(
        request,
        "assessment/queue.html",
        {
            "held": held,
            "waiting": waiting,
            "waiting_count": queue.waiting().count(),
            "counters": welfare.counters(request.user),
            "reviews": open_reviews(request.user).count() if _reviews(request) else None,
        },
    )


def _reviews(request: HttpRequest) -> bool:
    return getattr(request.user, "role", "") in REVIEWERS


@assessors_only
@require_POST
def claim_next(request: HttpRequest) -> HttpResponse:
    case = queue.claim_next(request.user)
    if case is None:
        messages.info(request, "Nothing is waiting for you in the queue.")
        return redirect("assessment:queue")
    return redirect("assessment:case", case_id=case.pk)


@assessors_only
@require_POST
def claim(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        queue.claim_case(case, request.user)
    except queue.ClaimRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("assessment:queue")
    return redirect("assessment:case", case_id=case.pk)


@assessors_only
@require_POST
def release(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    if queue.release(case, request.user):
        messages.success(request, f"Case #{case.pk} is back in the queue.")
    return redirect("assessment:queue")


@assessors_only
@require_POST
def skip(request: HttpRequest, case_id: int) -> HttpResponse:
    ws = open_workspace(request.user, case_id)
    try:
        queue.skip(ws.case, request.user, request.POST.get("reason", ""))
    except ValueError as problem:
        messages.error(request, str(problem))
        return redirect("assessment:case", case_id=case_id)
    messages.success(request, f"Case #{case_id} skipped; it goes to someone else.")
    return redirect("assessment:queue")


@assessors_only
@never_cache
@require_GET
def case_screen(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    if not queue.holds(case, request.user):
        # A person blind to the case's QA review learns only that it is under review: its
        # state, or who holds it, would give the first assessment away.
        blinded = blinded_for(request.user, case) is not None
        claim_row = (
            None if blinded else Claim.objects.filter(case=case).select_related("analyst").first()
        )
        return render(
            request,
            "assessment/not_held.html",
            {
                "case": case,
                "blinded": blinded,
                "claim": claim_row,
                "assessable": not blinded and queue.assessable().filter(pk=case.pk).exists(),
            },
            status=409,
        )
    return render(
        request, "assessment/case.html", screen_context(request, Workspace(case, Stage.FIRST))
    )


def screen_context(request: HttpRequest, ws: Workspace, **extra: Any) -> dict[str, Any]:
    """Everything the case screen shows, for an analyst, a reviewer or a resolver."""
    case = ws.case
    groups = groups_for(case)
    grades = draft_grades(case, ws.stage, ws.review) if ws.can_grade else {}
    revealed = welfare.revealed_media(request.user, case)
    profile = welfare.profile_for(request.user)
    captures = list(case.captures.all()[:1])
    suggested_criminal = any(g.is_csam for g in grades.values())
    group_views = [_group_view(ws, g, grades, revealed) for g in groups]
    return {
        "ws": ws,
        "case": case,
        "groups": group_views,
        "focus": _focused(group_views, request.GET.get("group", "")),
        "graded_count": graded_count(groups, grades),
        "capture": captures[0] if captures else None,
        "items": case.report_items.select_related("report").order_by("-report__created_at")[:50],
        "profile": profile,
        "counters": welfare.counters(request.user, profile),
        **keys_context(),
        "site_types": SiteType.choices,
        "closure_reasons": ClosureReason.choices,
        "mappings": Mapping.choices,
        "home_mapping": settings.HOME_MAPPING,
        "suggested_criminal": suggested_criminal,
        "tor": case.host.endswith(".onion"),
        **extra,
    }


def graded_count(groups: list[Group], grades: dict[int, MediaGrade]) -> int:
    return sum(1 for g in groups if all(m in grades for m in g.media_ids))


def _focused(views: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    """The group the grading panel is for: the one asked for (`?group=`, the no-script
    way to choose), else the first still to grade, else the first."""
    for view in views:
        if str(view["lead"].pk) == wanted:
            return view
    return next((v for v in views if v["grade"] is None), views[0] if views else None)


def _group_view(
    ws: Workspace,
    group: Group,
    grades: dict[int, MediaGrade],
    revealed: set[int],
    posted: Any = None,
) -> dict[str, Any]:
    lead = group.lead
    grade = grades.get(lead.media.pk)
    complete = grade is not None and all(m in grades for m in group.media_ids)
    return {
        "group": group,
        "lead": lead.media,
        "size": len(group.items),
        "suggestion": group.suggestion,
        "similar": group.similar,
        "grade": grade if complete else None,
        "meaning_text": meaning_text(grade) if complete and grade is not None else "",
        "initial": _initial(grade if complete else None, group, posted),
        "seen": bool(revealed & set(group.media_ids)),
        "ws": ws,
    }


def meaning_text(grade: MediaGrade) -> str:
    """What the grade means under each law, home law first."""
    if not grade.is_csam:
        return "not criminal under any mapping"
    uk = (
        f"UK category {grade.uk_category}"
        if grade.uk_category != "prohibited"
        else ("UK prohibited image")
    )
    baseline = {True: "INTERPOL baseline", False: "not INTERPOL baseline", None: ""}[
        grade.interpol_baseline
    ]
    vics = f"VICS {grade.vics_category}" if grade.vics_category is not None else ""
    return " · ".join(part for part in (uk, baseline, vics) if part)


def _initial(grade: MediaGrade | None, group: Group, posted: Any) -> dict[str, Any]:
    """What the grade form shows: what was just posted (with errors), the grade given,
    or the known hash's suggestion."""
    if posted:
        return {
            "grade": posted.get("grade", ""),
            "age_band": posted.get("age_band", ""),
            "children": posted.get("children", ""),
            "sex": posted.get("sex", ""),
            "flags": {name for name in FLAG_LABELS if posted.get(name)},
        }
    if grade is not None:
        return {
            "grade": grade.grade,
            "age_band": grade.age_band,
            "children": grade.children,
            "sex": grade.sex,
            "flags": {name for name in FLAG_LABELS if getattr(grade, name)},
        }
    if group.suggestion is not None:
        flags = {"non_photographic"} if group.suggestion.non_photographic else set()
        return {
            "grade": group.suggestion.grade,
            "age_band": group.suggestion.age_band,
            "children": None,
            "sex": "",
            "flags": flags,
        }
    return {"grade": "", "age_band": "", "children": None, "sex": "", "flags": set()}


def _media_in_case(ws: Workspace, media_id: int) -> tuple[list[Group], Group]:
    groups = groups_for(ws.case)
    group = group_of(groups, media_id)
    if group is None:
        raise PermissionDenied("That item is not part of this case.")
    return groups, group


@assessors_only
@require_POST
def reveal(
    request: HttpRequest, case_id: int, media_id: int, review_id: int | None = None
) -> HttpResponse:
    ws = open_workspace(request.user, case_id, review_id)
    _groups, group = _media_in_case(ws, media_id)
    media = get_object_or_404(Media, pk=media_id)
    profile = welfare.profile_for(request.user)
    counters = welfare.counters(request.user, profile)
    if counters.over_limit and request.POST.get("anyway") != "1":
        return render(
            request,
            "assessment/_break.html",
            {"ws": ws, "media": media, "counters": counters, "post_url": request.path},
        )
    shown = welfare.reveal(request.user, ws.case, media)
    return render(
        request,
        "assessment/_reveal_response.html",
        {
            "media": media,
            "reveal": shown,
            "profile": profile,
            "counters": welfare.counters(request.user, profile),
            # The group's "reveal before grading" line and any refusal shown for it are
            # out of date now: both are swapped out of band.
            "lead_id": group.lead.media.pk,
            "ws": ws,
        },
    )


@assessors_only
@require_POST
def grade(
    request: HttpRequest, case_id: int, media_id: int, review_id: int | None = None
) -> HttpResponse:
    ws = open_workspace(request.user, case_id, review_id)
    if not ws.can_grade:
        raise PermissionDenied("Resolving managers choose between grades; they do not grade.")
    groups, group = _media_in_case(ws, media_id)
    errors: dict[str, str] = {}
    try:
        given = parse_grade(request.POST)
        grade_group(ws.case, group, request.user, given, stage=ws.stage, review=ws.review)
    except GradeErrors as bad:
        errors = bad.errors
    except GradeRefused as refusal:
        errors = {"reveal": str(refusal)}
    if request.htmx:  # type: ignore[attr-defined]
        grades = draft_grades(ws.case, ws.stage, ws.review)
        revealed = welfare.revealed_media(request.user, ws.case)
        context = {
            "g": _group_view(ws, group, grades, revealed, request.POST if errors else None),
            "errors": errors,
            "graded_count": graded_count(groups, grades),
            "group_count": len(groups),
        }
        return render(request, "assessment/_graded.html", context, status=422 if errors else 200)
    for message in errors.values():
        messages.error(request, message)
    # Without script: back to the screen, the panel still on this group if it was refused.
    return redirect(_screen_url(ws) + (f"?group={group.lead.media.pk}" if errors else ""))


def keys_context() -> dict[str, Any]:
    return {
        "activity_rows": ACTIVITY_ROWS,
        "not_csam_rows": NOT_CSAM_ROWS,
        "age_rows": AGE_ROWS,
        "flag_rows": FLAG_ROWS,
        "sexes": Sex.choices,
    }


def _screen_url(ws: Workspace) -> str:
    from django.urls import reverse

    if ws.review is not None:
        return reverse("assessment:review", args=[ws.review.pk])
    return reverse("assessment:case", args=[ws.case.pk])


@assessors_only
@require_POST
def decide_case(request: HttpRequest, case_id: int) -> HttpResponse:
    ws = open_workspace(request.user, case_id)
    try:
        given = parse_decision(request.POST)
        decision = decide(ws.case, request.user, given, groups_for(ws.case))
    except DecisionErrors as bad:
        context = screen_context(request, ws, decision_errors=bad.errors, posted=request.POST)
        return render(request, "assessment/case.html", context, status=422)
    verdict = _verdict_said(decision)
    # Straight on to the next case (claimed now, so nobody else takes it meanwhile).
    following = queue.claim_next(request.user)
    if following is None:
        messages.success(request, f"Case #{case_id} decided ({verdict}). Nothing else is waiting.")
        return redirect("assessment:queue")
    messages.success(
        request,
        f"Case #{case_id} decided ({verdict}). Case #{following.pk} is next and claimed "
        "for you; release it if you are stopping here.",
    )
    return redirect("assessment:case", case_id=following.pk)


def _verdict_said(decision: Decision) -> str:
    """What the analyst is told their decision led to: nothing follows a held one yet."""
    if not decision.criminal:
        return "closed"
    if holds.is_held(decision.case):
        return "criminal: held until QA agrees"
    return "criminal: passed on for action"


@assessors_only
@require_http_methods(["GET", "POST"])
def welfare_settings(request: HttpRequest) -> HttpResponse:
    profile = welfare.profile_for(request.user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = _apply_welfare(profile, request.POST)
        if not errors:
            profile.save()
            record(
                "assessment.welfare_changed",
                actor=request.user,
                obj=profile,
                data={
                    "blur": profile.blur_strength,
                    "greyscale": profile.greyscale,
                    "autoplay": profile.autoplay,
                    "hourly": profile.hourly_reveal_limit,
                    "daily": profile.daily_reveal_limit,
                },
            )
            messages.success(request, "Your settings are saved.")
            return redirect("assessment:welfare")
    return render(
        request,
        "assessment/welfare.html",
        {
            "profile": profile,
            "errors": {WELFARE_FIELDS[name]: message for name, message in errors.items()},
            "counters": welfare.counters(request.user, profile),
            # What an empty limit means: the hotline's, never the person's own last one.
            "default_hourly": settings.REVEALS_PER_HOUR,
            "default_daily": settings.REVEALS_PER_DAY,
        },
        status=422 if errors else 200,
    )


# The welfare form's fields as its labels name them (errors say which, in words).
WELFARE_FIELDS = {
    "blur_strength": "Blur strength",
    "hourly_reveal_limit": "Reveals per hour",
    "daily_reveal_limit": "Reveals per day",
}


def _apply_welfare(profile: AssessorProfile, data: Any) -> dict[str, str]:
    errors: dict[str, str] = {}

    def number(name: str, low: int, high: int, *, optional: bool = False) -> int | None:
        raw = str(data.get(name, "")).strip()
        if not raw and optional:
            return None
        try:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError
        except ValueError:
            errors[name] = f"Give a whole number from {low} to {high}."
            return None
        return value

    blur = number("blur_strength", 4, 40)
    hourly = number("hourly_reveal_limit", 1, 10_000, optional=True)
    daily = number("daily_reveal_limit", 1, 100_000, optional=True)
    if errors:
        return errors
    profile.blur_strength = blur or profile.blur_strength
    profile.greyscale = str(data.get("greyscale", "")) in {"1", "on"}
    profile.autoplay = str(data.get("autoplay", "")) in {"1", "on"}
    profile.hourly_reveal_limit = hourly
    profile.daily_reveal_limit = daily
    return errors
