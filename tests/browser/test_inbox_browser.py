"""The inbox's search box in the browser (issue 15, item 11): a reporter phones in with a
reference, staff type it as heard, htmx swaps the rows, and the page says what it
searched for; the dates narrow it; hostile input gets a clear message."""

import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.cases.models import Case
from openhotline.intake.models import Report
from openhotline.tracing.models import Trace
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_find_a_case_by_what_a_caller_reads_out(
    page: Page, live_server, analyst: User
) -> None:
    for url in ("http://phoned-in.test/a", "http://unrelated.test/b"):
        assert Client().post("/report/", {"urls": url}).status_code == 302
    phoned = Case.objects.get(url="http://phoned-in.test/a")
    reference = Report.objects.get(items__case=phoned).reference
    Trace.objects.create(
        case=Case.objects.get(url="http://unrelated.test/b"), host="unrelated.test",
        network="127.77.1.0/24", addresses=[{"address": "127.77.1.20"}],
    )  # fmt: skip
    page.goto(f"{live_server.url}/staff/")
    sign_in(page, analyst)
    rows = page.locator("#case-rows table.cases tbody tr")
    expect(rows).to_have_count(2)

    search = page.get_by_role("searchbox", name="Search")
    search.fill(reference.lower().replace("-", " "))
    search.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"Searching by report reference {reference}")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("http://phoned-in.test/a")
    assert_accessible(page)
    expect(page).to_have_url(re.compile(r"[?&]q="))  # the search is in the address: shareable

    search.fill("127.77.1.0/24")
    search.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Searching by hosting network 127.77.1.0/24")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("http://unrelated.test/b")

    # The dates narrow whatever the box holds: nobody reported in 2001.
    search.fill("")
    page.get_by_label("Reported until").fill("2001-01-31")
    expect(page.locator("#case-rows")).to_contain_text("No cases match.")
    page.get_by_label("Reported until").fill("")
    page.get_by_label("Reported from").fill("2001-01-01")
    expect(rows).to_have_count(2)

    # Past the box's own limit (a pasted page, a crafted link): a clear message, no rows.
    page.goto(f"{live_server.url}/staff/?q=" + "A" * 5000)
    expect(page.get_by_role("alert")).to_have_text(
        "The search is too long (5,000 characters; at most 200)."
    )
    expect(rows).to_have_count(0)
    assert_accessible(page)
