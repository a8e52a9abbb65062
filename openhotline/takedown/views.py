"""The host's "removed" link from a notice (public, no sign-in: the secret in the link is
the key), and staff actions on takedown (police clearance)."""

import hashlib
import hmac
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from openhotline.accounts.access import role_required
from openhotline.accounts.models import Role
from openhotline.assessment.models import Decision
from openhotline.audit.services import record
from openhotline.cases.models import Case
from openhotline.cases.services import clear_needs_person
from openhotline.takedown import package, services
from openhotline.takedown.models import Action, ActionKind, ActionState

managers_only = role_required(
    frozenset({Role.MANAGER}), refusal="takedown.refused", who="Hotline managers"
)
police_only = role_required(
    frozenset({Role.POLICE_LIAISON}), refusal="takedown.refused", who="Police liaisons"
)


def _action_for(reference: str, secret: str) -> Action:
    action = Action.objects.filter(reference=reference[:32]).select_related("case").first()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    # One answer for "no such notice" and "wrong secret": references cannot be probed.
    if (
        action is None
        or not action.removed_link_digest
        or not hmac.compare_digest(action.removed_link_digest, digest)
    ):
        raise Http404("No such notice")
    return action


@never_cache
@require_http_methods(["GET", "POST"])
def removed(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    """GET shows a button (link scanners must not trigger a recheck); POST asks for one."""
    action = _action_for(reference, secret)
    done = False
    if request.method == "POST":
        services.host_says_removed(action)
        done = True
    response = render(request, "takedown/removed.html", {"action": action, "done": done})
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@managers_only
@require_POST
def police_cleared(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_object_or_404(Action, pk=action_id)
    if action.state != ActionState.WAITING:
        messages.error(request, f"{action.reference} is not waiting for police clearance.")
    else:
        services.police_cleared(action, request.user)
        messages.success(request, f"{action.reference}: cleared, sending now.")
    return redirect("cases:detail", case_id=action.case_id)


def police_case(case: Any) -> bool:
    """Whether police need this case's package: a `.onion` host, or the work went to the
    police (an intelligence package, a referral or a notification). Other criminal cases
    are the host's and partners' to remove; their media do not leave the hotline."""
    if case.host.endswith(".onion"):
        return True
    return (
        Action.objects.filter(case=case, kind__in=POLICE_KINDS)
        .exclude(state=ActionState.CANCELLED)
        .exists()
    )


POLICE_KINDS = frozenset(
    {ActionKind.INTELLIGENCE, ActionKind.POLICE_REFERRAL, ActionKind.POLICE_NOTIFICATION}
)


@police_only
@never_cache
@require_http_methods(["GET", "POST"])
def intelligence_package(request: HttpRequest, case_id: int) -> HttpResponse:
    """The signed package of a criminal case routed to police. GET shows what can be
    downloaded; the download is a POST (CSRF-protected, never a link a scanner or a
    prefetch could follow), `media=1` adds the criminal media themselves, and each
    download is audited."""
    case = get_object_or_404(Case, pk=case_id)
    if not Decision.objects.filter(case=case, criminal=True).exists():
        raise Http404("No criminal decision on this case")
    if not police_case(case):
        record("takedown.package_refused", actor=request.user, obj=case, data={})
        return render(
            request, "takedown/package.html", {"case": case, "eligible": False}, status=409
        )
    if request.method == "GET":
        return render(request, "takedown/package.html", {"case": case, "eligible": True})
    with_media = request.POST.get("media") == "1"
    data = package.build(case, with_media=with_media)
    record(
        "takedown.media_downloaded" if with_media else "takedown.package_downloaded",
        actor=request.user,
        obj=case,
        data={"bytes": len(data), "with_media": with_media},
    )
    response = HttpResponse(data, content_type="application/zip")
    suffix = "-with-media" if with_media else ""
    response["Content-Disposition"] = f'attachment; filename="case-{case.pk}{suffix}.zip"'
    response["Cache-Control"] = "no-store, private"
    return response


@managers_only
@require_POST
def needs_person_cleared(request: HttpRequest, case_id: int) -> HttpResponse:
    """A manager has dealt with what the software could not do (audited)."""
    case = get_object_or_404(Case, pk=case_id)
    clear_needs_person(case, request.user)
    messages.success(request, f"Case {case.pk}: marked as seen to.")
    return redirect("cases:detail", case_id=case.pk)
