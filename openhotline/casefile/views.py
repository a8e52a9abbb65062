"""Staff pages for cases: the inbox (htmx-filtered, keyset-paginated) and a case."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from openhotline.accounts.access import staff_required
from openhotline.assessment.blinding import blind_page, blinded_for, blinded_ids, without_blinded
from openhotline.assessment.models import Decision
from openhotline.casefile.api import filtered_cases
from openhotline.casefile.search import SearchError, search_cases
from openhotline.cases.models import Case, CaseKind, CaseState
from openhotline.intake.models import Channel, Portal
from openhotline.takedown.models import Removal

PAGE_SIZE = 50


@staff_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    # The box (q) and the dates are the search's; the selects are filtered_cases'.
    selects = request.GET.copy()
    for name in ("q", "from", "to"):
        selects.pop(name, None)
    try:
        found = search_cases(filtered_cases(selects), request.GET)
    except SearchError as problem:
        cases, understood, search_error = Case.objects.none(), None, str(problem)
    else:
        cases, understood, search_error = found.cases, found.understood, ""
    if any(request.GET.get(name) for name in ("state", "q")):
        # Found by what followed a decision: a case under this person's blind review
        # must not be in the list at all.
        cases = without_blinded(cases, request)
    page, next_cursor = _page(
        cases.order_by("-last_reported_at", "-id"), request.GET.get("before", "")
    )
    context = {
        "cases": page,
        "blinded": blinded_ids(request),
        "next_cursor": next_cursor,
        "understood": understood,
        "search_error": search_error,
        "filters": request.GET,
        "query": _query_without_cursor(request),
        "states": CaseState.choices,
        "kinds": CaseKind.choices,
        "channels": Channel.choices,
        "portals": Portal.objects.order_by("name"),
    }
    if request.htmx:  # type: ignore[attr-defined]
        template = "cases/_inbox_more.html" if "before" in request.GET else "cases/_inbox_rows.html"
        return render(request, template, context)
    return render(request, "cases/inbox.html", context)


def _page(cases: QuerySet[Case], cursor: str) -> tuple[list[Case], str]:
    """One page after the keyset cursor `<iso time>_<id>`: fast however deep."""
    if cursor:
        stamp, _, raw_id = cursor.rpartition("_")
        try:
            when, last_id = datetime.fromisoformat(stamp), int(raw_id)
        except ValueError:
            when, last_id = None, 0
        if when is not None:
            # The plain `<=` lets the database start the index scan at the cursor; the OR
            # alone would be a filter applied to every row before it.
            cases = cases.filter(last_reported_at__lte=when).filter(
                Q(last_reported_at__lt=when) | Q(id__lt=last_id)
            )
    page = list(cases[: PAGE_SIZE + 1])
    if len(page) <= PAGE_SIZE:
        return page, ""
    last = page[PAGE_SIZE - 1]
    return page[:PAGE_SIZE], f"{last.last_reported_at.isoformat()}_{last.pk}"


def _query_without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("before", None)
    return params.urlencode()


@staff_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case.objects.select_related("latest_report__portal"), pk=case_id)

    if (review := blinded_for(request.user, case)) is not None:
        return blind_page(request, case, review)
    items = case.report_items.select_related("report__portal").order_by("-report__created_at")
    transitions = case.transitions.select_related("actor")
    captures = case.captures.prefetch_related(
        "items__media__hashes", "items__media__matches__hash_list", "items__media__matches__entry"
    )
    decisions = Decision.objects.filter(case=case).select_related("analyst", "review")
    takedown = {
        "traces": case.traces.all()[:10],
        "actions": case.actions.select_related("follows").order_by("created_at", "id"),
        "rechecks": case.rechecks.all()[:20],
        "removal": Removal.objects.filter(case=case).first(),
    }
    return render(
        request,
        "cases/case.html",
        {
            "case": case,
            "items": items,
            "transitions": transitions,
            "captures": captures,
            "decisions": decisions,
            **takedown,
        },
    )
