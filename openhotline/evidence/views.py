"""Staff views of evidence: media previews (blurred and grey unless revealed), recapture.

Every media request, blurred or original, writes an audit event: who, which, which variant.
An original is served only against a fresh reveal of that person's (made, counted and
audited on the assessment screen), never by typing its address.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openhotline.accounts.access import staff_required
from openhotline.audit.services import record
from openhotline.cases.models import Case
from openhotline.evidence import store
from openhotline.evidence.media import preview
from openhotline.evidence.models import Media, MediaCheck
from openhotline.evidence.services import request_capture
from openhotline.urlnorm import UrlRejected, normalise_url

VARIANTS = {"blurred", "original"}


@staff_required
@never_cache
@require_GET
def media_view(request: HttpRequest, media_id: int, variant: str) -> HttpResponse:
    if variant not in VARIANTS:
        raise Http404("No such variant")
    media = get_object_or_404(Media.objects.select_related("blob"), pk=media_id)
    if media.status != MediaCheck.OK:
        raise Http404("This media could not be decoded; there is nothing to show")
    from openhotline.assessment.welfare import profile_for, reveal_for

    if variant == "original":
        shown = reveal_for(request.user, media.pk, request.GET.get("reveal", ""))
        if shown is None:
            record("media.refused", actor=request.user, obj=media, data={"variant": variant})
            raise PermissionDenied("Reveal the item on the case screen to see it unblurred.")
        record(
            "media.viewed",
            actor=request.user,
            obj=media,
            data={"variant": variant, "reveal": shown.pk},
        )
    else:
        record("media.viewed", actor=request.user, obj=media, data={"variant": variant})
    data = store.get(media.blob)
    if variant == "blurred":
        # Blurred on the server, in the person's own strength: unblurred pixels never
        # reach the browser without a reveal.
        profile = profile_for(request.user)
        blurred = preview(data, blur=float(profile.blur_strength), greyscale=profile.greyscale)
        response = HttpResponse(blurred, "image/png")
    else:
        response = HttpResponse(data, content_type=media.mime)
    # Never cached, never sniffed, never run as a document if opened on its own.
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Content-Disposition"] = "inline"
    return response


@staff_required
@require_POST
def recapture(request: HttpRequest, case_id: int) -> HttpResponse:
    """Capture again, optionally through another pathway (referrer, user agent), to find
    sites that show other content to visitors arriving from elsewhere."""
    case = get_object_or_404(Case, pk=case_id)
    referrer = request.POST.get("referrer", "").strip()
    user_agent = request.POST.get("user_agent", "").strip()[:500]
    if referrer:
        try:
            referrer = normalise_url(referrer)
        except UrlRejected as rejection:
            messages.error(request, f"Referrer not used: {rejection.message}")
            return redirect("cases:detail", case_id=case.pk)
    if not case.url:
        messages.error(request, "This case has no web address to capture.")
        return redirect("cases:detail", case_id=case.pk)
    with transaction.atomic():
        capture = request_capture(case, referrer=referrer, user_agent=user_agent)
        record(
            "capture.requested",
            actor=request.user,
            obj=case,
            data={"capture": capture.pk, "referrer": referrer, "user_agent": user_agent},
        )
    messages.success(request, f"Capture {capture.pk} queued.")
    return redirect("cases:detail", case_id=case.pk)
