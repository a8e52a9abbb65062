"""Error pages a visitor meets (styled, in the visitor's language, saying what to do next),
and the sign-in page members meet (which does not call itself the staff's)."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from openhotline import urls as site_urls

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_error_pages")]


def crashes(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a fault in a view")


def refuses(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def is_suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("a malformed request")


# The site's own URLs and handlers, plus views that fail on purpose.
urlpatterns = [
    path("test-crash/", crashes),
    path("test-refuse/", refuses),
    path("test-suspicious/", is_suspicious),
    path("", include(site_urls)),
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


def body(response: Any) -> str:
    return response.content.decode()


def is_styled_page(page: str) -> bool:
    return "/static/openhotline/site.css" in page and 'class="site-header"' in page


@pytest.fixture(autouse=True)
def _debug_off(settings) -> None:
    settings.DEBUG = False


def test_a_missing_page_is_styled_and_says_what_to_do(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = body(response)
    assert is_styled_page(page)
    assert "Page not found" in page and "Check the address and try again." in page
    assert 'href="/report/"' in page
    assert response["Cache-Control"] == "no-store"


def test_a_missing_page_speaks_the_visitors_language(client: Client) -> None:
    response = client.get("/no-such-page/", headers={"accept-language": "fr"})
    page = body(response)
    assert response.status_code == 404 and 'lang="fr"' in page
    assert "Page introuvable" in page and "Vérifiez l'adresse et réessayez." in page


def test_a_server_error_is_styled_translated_and_leaks_nothing() -> None:
    client = Client(raise_request_exception=False, headers={"accept-language": "fr"})
    response = client.get("/test-crash/")
    assert response.status_code == 500
    page = body(response)
    assert is_styled_page(page) and 'lang="fr"' in page
    assert "Une erreur s'est produite de notre côté" in page
    assert "Réessayez dans quelques minutes." in page
    assert "a fault in a view" not in page and "RuntimeError" not in page


def test_a_refusal_is_styled_and_points_to_sign_in(client: Client) -> None:
    response = client.get("/test-refuse/")
    assert response.status_code == 403
    page = body(response)
    assert is_styled_page(page)
    assert "You cannot open this page" in page and 'href="/staff/sign-in/"' in page


def test_a_bad_request_is_styled(client: Client) -> None:
    response = client.get("/test-suspicious/")
    assert response.status_code == 400
    page = body(response)
    assert is_styled_page(page) and "We could not read this request" in page
    assert "a malformed request" not in page


def test_an_expired_form_says_nothing_was_sent_and_how_to_retry() -> None:
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "fr"})
    response = client.post("/report/", {"urls": "http://gallery-one.test/"})
    assert response.status_code == 403
    page = body(response)
    assert is_styled_page(page) and 'lang="fr"' in page
    assert "Ce formulaire a expiré" in page and "Rien n'a été envoyé." in page


def test_members_never_see_staff_sign_in(client: Client, member) -> None:
    response = client.get("/members/", follow=True)
    page = body(response)
    assert response.redirect_chain and "Sign in" in page
    assert "Staff sign-in" not in page and "staff sign-in" not in page.lower()
