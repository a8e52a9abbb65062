"""Staff views of evidence: media previews (blurred and grey unless revealed), recapture.
They live in assessment, above evidence, because what a person may see is assessment's
(`welfare`: reveals, blur strength); their URLs keep the "evidence" names.

Every media request, blurred or original, writes an audit event: who, which, which variant.
An original is served only against a fresh reveal of that person's (made, counted and
audited on the assessment screen), never by typing its address.

A blurred preview is made from the media's sealed preview base (made at capture), never
by decoding the original here; media captured before bases existed get theirs on first
view, decoded within the budget in another process, then kept.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from openhotline.accounts.access import staff_required
from openhotline.assessment.welfare import profile_for, reveal_for
from openhotline.audit.services import record
from openhotline.cases.models import Case
from openhotline.evidence import decoding, store
from openhotline.evidence.media import blur_base
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
    media = get_object_or_404(Media.objects.select_related("blob", "preview_blob"), pk=media_id)
    # Media over the decode budget is kept and may be revealed, as a download only.
    viewable = {MediaCheck.OK, MediaCheck.OVER_BUDGET} if variant == "original" else {MediaCheck.OK}
    if media.status not in viewable:
        raise Http404("This media could not be decoded; there is nothing to show")
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
    if variant == "blurred":
        base = _preview_base(media)
        if base is None:
            raise Http404("No preview could be made of this media")
        # Blurred on the server, in the person's own strength: unblurred pixels never
        # reach the browser without a reveal.
        profile = profile_for(request.user)
        blurred = blur_base(base, blur=float(profile.blur_strength), greyscale=profile.greyscale)
        response = HttpResponse(blurred, "image/png")
    else:
        response = HttpResponse(store.get(media.blob), content_type=media.mime)
    # Never cached, never sniffed, never run as a document if opened on its own.
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    undecoded = media.status != MediaCheck.OK
    response["Content-Disposition"] = "attachment" if undecoded else "inline"
    return response


def _preview_base(media: Media) -> bytes | None:
    """The media's sealed preview base, made now (and kept) if it has none yet."""
    if media.preview_blob is not None:
        return store.get(media.preview_blob)
    examined = decoding.examine(store.get(media.blob), hashes=False)
    if examined.preview_base is None:
        # Its status stays as assessed at capture (it may be graded from a reveal); each
        # such view costs at most the budget, in the decoding worker.
        return None
    preview_blob = store.put(examined.preview_base)
    Media.objects.filter(pk=media.pk).update(preview_blob=preview_blob)
    return examined.preview_base


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
        capture = request_capture(case, referrer=referrer, user_agent=user_agent, immediate=True)
        record(
            "capture.requested",
            actor=request.user,
            obj=case,
            data={"capture": capture.pk, "referrer": referrer, "user_agent": user_agent},
        )
    messages.success(request, f"Capture {capture.pk} queued.")
    return redirect("cases:detail", case_id=case.pk)
