"""An analyst opens a captured case and sees blurred greyscale previews; each is audited."""

import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.audit.models import AuditEvent
from openhotline.cases.models import Case
from openhotline.evidence.capture import run_capture
from openhotline.simnet.runner import Simnet
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_sees_blurred_previews_and_the_views_are_audited(
    page: Page, live_server, analyst: User, on_simnet: Simnet
) -> None:
    Client().post("/report/", {"urls": on_simnet.url("gallery-one.test", "/albums/sunrise")})
    case = Case.objects.get()
    run_capture(case.captures.get().pk)
    stored = case.captures.get().items.filter(media__isnull=False).count()
    assert stored >= 2
    page.goto(f"{live_server.url}/staff/cases/{case.pk}/")
    sign_in(page, analyst)
    expect(page.get_by_role("heading", name=f"Case #{case.pk}")).to_be_visible()
    expect(page.get_by_text("Captured").first).to_be_visible()
    previews = page.locator(".media-grid img")
    expect(previews).to_have_count(stored)
    for index in range(stored):
        preview = previews.nth(index)
        preview.scroll_into_view_if_needed()
        expect(preview).to_have_attribute("src", re.compile(r"/staff/media/\d+/blurred/$"))
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
        )
    # Each preview the browser loaded is one audited view of the blurred variant, no more.
    views = AuditEvent.objects.filter(action="media.viewed", actor=analyst.username)
    assert views.count() == stored
    assert set(views.values_list("data__variant", flat=True)) == {"blurred"}
