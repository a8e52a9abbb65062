"""Error pages a visitor may meet, in the visitor's language, each saying what to do next.

The language is the one LocaleMiddleware chose for the request (cookie, Accept-Language).
The 500 page and the CSRF failure page are rendered without context processors: they must
work when the database (which the signed-in user's lookup needs) is what failed.
"""

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.shortcuts import render
from django.template import loader
from django.utils import translation


def _bare(template: str) -> str:
    """Render without the request, so that nothing can fail again while rendering."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return loader.get_template(template).render(
        {"HOTLINE_NAME": settings.HOTLINE_NAME, "LANGUAGE_CODE": language}
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _no_store(HttpResponseBadRequest(_bare("400.html")))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _no_store(render(request, "403.html", status=HttpResponseForbidden.status_code))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _no_store(render(request, "404.html", status=HttpResponseNotFound.status_code))


def server_error(request: HttpRequest) -> HttpResponse:
    return _no_store(HttpResponseServerError(_bare("500.html")))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from a page left open too long (or without cookies): say so and how to retry."""
    return _no_store(HttpResponseForbidden(_bare("403_csrf.html")))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
