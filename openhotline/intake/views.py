"""Public reporting pages: the report form, country portals and private status links."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from openhotline import pipeline
from openhotline.core.throttle import seconds_until_allowed
from openhotline.intake.forms import ReportForm
from openhotline.intake.models import Channel, Portal, Report
from openhotline.intake.services import REFERENCE_PATTERN, accept_report, secret_matches
from openhotline.intake.validation import check_report

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


@never_cache
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    return _report_page(request, portal=None, offered=LANGUAGE_CODES)


@never_cache
@require_http_methods(["GET", "POST"])
def portal_report(request: HttpRequest, slug: str) -> HttpResponse:
    portal = get_object_or_404(Portal, slug=slug, is_active=True)
    offered = [code for code in portal.languages if code in LANGUAGE_CODES] or LANGUAGE_CODES
    return _report_page(request, portal=portal, offered=offered)


def _choose_language(request: HttpRequest, offered: list[str], default: str) -> str:
    asked = request.POST.get("lang") or request.GET.get("lang")
    if asked in offered:
        return str(asked)
    current = translation.get_language() or default
    return current if current in offered and default not in offered else default


def _report_page(
    request: HttpRequest, *, portal: Portal | None, offered: list[str]
) -> HttpResponse:
    default = portal.default_language if portal else (translation.get_language() or "en")
    language = _choose_language(request, offered, default if default in offered else offered[0])
    with translation.override(language):
        form = ReportForm(request.POST or None)
        status = 200
        if request.method == "POST" and form.is_valid():
            outcome = _handle_submission(request, form, portal, language)
            if isinstance(outcome, str):
                return redirect(outcome)
            status = outcome
        context = {
            "form": form,
            "portal": portal,
            "welcome": portal.welcome_for(language) if portal else "",
            "languages": [(code, translation.get_language_info(code)) for code in offered],
            "language": language,
        }
        return render(request, "intake/report.html", context, status=status)


def _handle_submission(
    request: HttpRequest, form: ReportForm, portal: Portal | None, language: str
) -> str | int:
    """The status page to go to, or the HTTP status to show the form again with."""
    data = form.cleaned_data
    if data["website"]:
        form.add_error(None, _("The field “Leave this field empty” must be left empty."))
        return 400
    checked = check_report(data["urls"].splitlines(), data["description"], data["contact"])
    for name, messages in checked.errors.items():
        for message in messages:
            form.add_error(name, message)
    if checked.errors:
        return 400
    wait = seconds_until_allowed(request, "report", settings.REPORT_RATE)
    if wait:
        form.add_error(
            None,
            _(
                "We have received many reports from your connection. Please try again in "
                "%(minutes)d minutes; nothing you typed has been lost."
            )
            % {"minutes": max(1, (wait + 59) // 60)},
        )
        return 429
    accepted = accept_report(
        checked,
        channel=Channel.PORTAL if portal else Channel.WEB,
        portal=portal,
        language=language,
    )
    return status_path(accepted.report.reference, accepted.status_secret) + "?new=1"


def status_path(reference: str, secret: str) -> str:
    return reverse("intake:status", args=[reference, secret])


@never_cache
@require_http_methods(["GET"])
def status(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    found = (
        Report.objects.filter(reference=reference).first()
        if REFERENCE_PATTERN.fullmatch(reference)
        else None
    )
    # One answer for "no such report" and "wrong secret": references cannot be probed.
    if found is None or not secret_matches(found, secret):
        return status_not_found(request)
    items = found.items.select_related("case").order_by("position")
    with translation.override(found.language or settings.LANGUAGE_CODE):
        outcomes = []
        for item in items:
            outcome = pipeline.ask("public_outcome", item.case)
            outcomes.append(
                {"position": item.position, "outcome": outcome.text, "stage": outcome.stage}
            )
        response = render(
            request,
            "intake/status.html",
            {
                "report": found,
                "outcomes": outcomes,
                "is_new": request.GET.get("new") == "1",
                # The thank-you page keeps the portal's branding, and shows the link to copy.
                "portal": found.portal,
                "status_link": request.build_absolute_uri(request.path),
                "report_again": (
                    reverse("intake:portal", args=[found.portal.slug])
                    if found.portal and found.portal.is_active
                    else reverse("intake:report")
                ),
            },
        )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def status_not_found(request: HttpRequest) -> HttpResponse:
    """A status link that leads nowhere, in the visitor's language, with what to do next."""
    response = render(request, "intake/status_not_found.html", status=404)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
