"""Reporting and staff work in a real browser (Chromium through Playwright)."""

import re

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from openhotline.accounts.models import User
from openhotline.cases.models import Case
from openhotline.intake.models import Portal, Report
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_reports_with_the_form_and_sees_the_status(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/report/")
    page.get_by_label("Web addresses (one per line)").fill(
        "http://gallery-one.test/\nhttp://pics-us.test/page"
    )
    page.get_by_label("What did you see? (optional)").fill("In a forum thread")
    page.get_by_role("button", name="Send report").click()
    expect(
        page.get_by_role("heading", name="Thank you. We have received your report.")
    ).to_be_visible()
    reference = Report.objects.get().reference
    expect(page.locator(".reference")).to_have_text(reference)
    expect(page.locator(".outcomes li")).to_have_count(2)
    # The status link works later, from a fresh browser visit.
    status_url = page.url.replace("?new=1", "")
    page.goto(status_url)
    expect(page.get_by_role("heading", name="Report status")).to_be_visible()
    expect(page.locator(".outcomes li").first).to_contain_text("one of our analysts will assess it")


def test_a_rejected_address_is_shown_next_to_the_field_and_kept(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/report/")
    field = page.get_by_label("Web addresses (one per line)")
    field.fill("http://fine.test/\njavascript:alert(1)")
    page.keyboard.press("Tab")
    page.get_by_role("button", name="Send report").press("Enter")
    expect(page.locator("#id_urls_error")).to_contain_text(
        "Address 2 (javascript:alert(1)): only web addresses"
    )
    expect(page.get_by_label("Web addresses (one per line)")).to_have_value(
        "http://fine.test/\njavascript:alert(1)"
    )
    assert Report.objects.count() == 0


def test_a_portal_reports_in_french(page: Page, live_server) -> None:
    Portal.objects.create(
        slug="senegal", name="Portail du Sénégal", country="SN", languages=["fr", "en"],
        welcome_text={"fr": "Bienvenue sur le portail du Sénégal."},
    )  # fmt: skip
    page.goto(f"{live_server.url}/portal/senegal/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_text("Bienvenue sur le portail du Sénégal.")).to_be_visible()
    page.get_by_label("Adresses web (une par ligne)").fill("http://forum-nl.test/thread")
    page.get_by_role("button", name="Envoyer le signalement").click()
    expect(
        page.get_by_role("heading", name="Merci. Nous avons bien reçu votre signalement.")
    ).to_be_visible()
    report = Report.objects.get()
    assert report.portal is not None and report.portal.slug == "senegal"
    assert report.language == "fr"


def test_staff_sign_in_with_totp_and_filter_the_inbox(
    page: Page, live_server, analyst: User
) -> None:
    Client().post("/report/", {"urls": "http://gallery-one.test/\nhttp://pics-us.test/x"})
    Client().post("/report/", {"description": "Shared in a chat app"})
    page.goto(f"{live_server.url}/staff/")
    expect(page).to_have_url(re.compile(r"/staff/sign-in/\?next=/staff/"))
    sign_in(page, analyst)
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(3)
    # htmx swaps only the rows when a filter changes, and the address bar follows.
    # (htmx loads deferred: wait until it has taken over the form.)
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    page.get_by_label("Kind").select_option("other")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Other (no web address)")
    expect(page).to_have_url(re.compile(r"kind=other"))
    case = Case.objects.get(url="http://gallery-one.test/")
    page.get_by_label("Kind").select_option("")
    page.get_by_role("link", name=f"#{case.pk}").click()
    expect(page.get_by_role("heading", name=f"Case #{case.pk}")).to_be_visible()
    expect(page.locator("ol.transitions")).to_contain_text("Received")


def test_the_api_docs_page_renders_under_the_content_security_policy(
    page: Page, live_server
) -> None:
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("OpenHotline API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/reports").first).to_be_visible()


def test_an_administrator_edits_a_portal_in_the_admin(
    page: Page, live_server, administrator: User
) -> None:
    page.goto(f"{live_server.url}/staff/admin/intake/portal/add/")
    expect(page).to_have_url(re.compile(r"/staff/sign-in/"))
    sign_in(page, administrator)
    expect(page.get_by_role("heading", name="Add portal")).to_be_visible()
    page.get_by_label("Slug").fill("nepal")
    page.get_by_label("Name").fill("Nepal reporting portal")
    page.get_by_label("Country").fill("NP")
    page.get_by_label("Languages").fill('["en"]')
    page.get_by_label("Welcome text").fill('{"en": "Report safely."}')
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was added successfully")).to_be_visible()
    assert Portal.objects.get(slug="nepal").welcome_for("en") == "Report safely."


def test_the_thank_you_page_keeps_the_portal_and_copies_the_status_link(
    page: Page, live_server
) -> None:
    from openhotline.accounts.models import Organisation, OrganisationKind

    partner = Organisation.objects.create(
        name="Association Jeunesse Sénégal", kind=OrganisationKind.PORTAL_PARTNER, country="SN"
    )
    Portal.objects.create(
        slug="senegal", name="Portail du Sénégal", country="SN", languages=["fr", "en"],
        organisation=partner,
    )  # fmt: skip
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/portal/senegal/")
    expect(
        page.get_by_text("Ce portail est géré avec Association Jeunesse Sénégal.")
    ).to_be_visible()
    expect(
        page.get_by_role("heading", name="Ce qui se passe après votre signalement")
    ).to_be_visible()
    page.get_by_label("Adresses web (une par ligne)").fill("http://forum-nl.test/thread")
    page.get_by_role("button", name="Envoyer le signalement").click()

    # The thank-you page keeps the portal's name and language…
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".site-header")).to_contain_text("Portail du Sénégal")
    # …and shows the private link as text, with a button that copies it.
    link = page.get_by_label("Votre lien de suivi privé")
    status_url = page.url.replace("?new=1", "")
    expect(link).to_have_value(status_url)
    page.get_by_role("button", name="Copier le lien").click()
    expect(page.get_by_role("status").filter(has_text="Copié")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == status_url
    assert_accessible(page)

    # The link copied works in a fresh visit; "make another report" leads back to the portal.
    page.goto(status_url)
    expect(page.get_by_role("heading", name="Suivi du signalement")).to_be_visible()
    page.get_by_role("link", name="Faire un autre signalement").click()
    expect(page).to_have_url(f"{live_server.url}/portal/senegal/")


def test_a_mistyped_status_link_says_what_to_do_in_french(browser: Browser, live_server) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    response = page.goto(f"{live_server.url}/report/status/R-AAAA-AAAA-AAAA/wrong/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Nous ne trouvons pas ce signalement")).to_be_visible()
    page.get_by_role("link", name="Signaler des contenus d'abus sexuels sur enfants").click()
    expect(
        page.get_by_role("heading", name="Signaler des contenus d'abus sexuels sur enfants")
    ).to_be_visible()
    assert_accessible(page)
    context.close()


def test_a_member_signs_in_on_a_page_that_does_not_say_staff(
    page: Page, live_server, member: User
) -> None:
    page.goto(f"{live_server.url}/members/")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Staff sign-in")
    assert "staff" not in page.title().lower()
    assert_accessible(page)
    sign_in(page, member)
    expect(page).to_have_url(f"{live_server.url}/members/")


def test_the_status_page_follows_a_case_to_removal(page: Page, live_server, analyst) -> None:
    """Issue 15, item 1: the reporter's page said "being worked on" after a removal."""
    from datetime import datetime

    from django.utils import timezone

    from openhotline.assessment.models import Decision
    from openhotline.cases.models import CaseState
    from openhotline.takedown.models import Action, Removal
    from openhotline.tracing.models import Trace

    page.goto(f"{live_server.url}/report/?lang=fr")
    page.get_by_label("Adresses web (une par ligne)").fill("http://followed.test/page")
    page.get_by_role("button", name="Envoyer le signalement").click()
    status_url = page.url.replace("?new=1", "")
    outcome = page.locator(".outcomes li")
    expect(outcome).to_have_attribute("data-stage", "received")
    case = Case.objects.get()

    # Decided criminal: the reporter reads it, in French, on the next visit.
    Case.objects.filter(pk=case.pk).update(state=CaseState.AWAITING_ACTION)
    Decision.objects.create(
        case=case, analyst=analyst, criminal=True, mapping="uk", site_type="website"
    )
    page.goto(status_url)
    expect(outcome).to_have_attribute("data-stage", "criminal")
    expect(outcome).to_contain_text("Examiné : illégal, action en préparation")

    # A notice went to the host.
    Case.objects.filter(pk=case.pk).update(state=CaseState.ACTIONED)
    trace = Trace.objects.create(case=case, host="followed.test", country="GB")
    Action.objects.create(
        case=case, trace=trace, kind="notice", state="sent", sent_at=timezone.now(),
        reference="NBROWSER1", recipient="abuse@host.test",
    )  # fmt: skip
    page.goto(status_url)
    expect(outcome).to_have_attribute("data-stage", "action_taken")
    expect(outcome).to_contain_text("Nous avons envoyé une notification à l'entreprise")

    # Removal confirmed: the date, in French.
    Case.objects.filter(pk=case.pk).update(state=CaseState.REMOVED)
    when = timezone.make_aware(datetime(2026, 2, 14, 9, 30))
    Removal.objects.create(case=case, confirmed_at=when, how="Gone")
    page.goto(status_url)
    expect(outcome).to_have_attribute("data-stage", "removed")
    expect(outcome).to_contain_text("Nous avons constaté le 14 février 2026 qu'il a été retiré.")
    expect(page.locator("main")).not_to_contain_text("followed.test")
    assert_accessible(page)
