"""A member finds the API documentation from the portal: the API reference shows the feed
and matching calls with their parameters and errors, and the two guides open as text."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.feeds.models import Licence
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_opens_the_api_documentation_from_the_portal(
    page: Page, live_server: Any, member: User
) -> None:
    assert member.organisation is not None
    Licence.objects.create(organisation=member.organisation, feed="url-list")
    page.goto(f"{live_server.url}/staff/sign-in/")
    sign_in(page, member)
    expect(page).to_have_url(f"{live_server.url}/members/")
    docs = page.get_by_role("navigation", name="API documentation")
    expect(docs.get_by_role("link", name="Hash list columns and grade codes")).to_be_visible()
    expect(docs.get_by_role("link", name="Verifying feed signatures")).to_be_visible()

    docs.get_by_role("link", name="API documentation").click()
    expect(page).to_have_url(f"{live_server.url}/api/docs/")
    # The member calls are there, each under its tag, beside the staff API.
    for text in ("Member feeds", "Matching", "/api/v1/feeds/{name}/delta",
                 "/api/v1/feeds/{name}/snapshot", "/api/v1/match", "/api/v1/reports"):  # fmt: skip
        expect(page.get_by_text(text, exact=True).first).to_be_visible()
    page.get_by_text("/api/v1/feeds/{name}/delta", exact=True).first.click()
    expect(page.get_by_text("X-Feed-Manifest").first).to_be_visible()
    for parameter in ("cursor", "tag", "limit", "If-None-Match"):
        expect(page.locator(".parameters-col_name", has_text=parameter).first).to_be_visible()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("memberKey").first).to_be_visible()
    expect(page.get_by_text("ohk_<key id>_<secret>").first).to_be_visible()

    page.goto(f"{live_server.url}/members/")
    page.get_by_role("link", name="Verifying feed signatures").click()
    expect(page).to_have_url(f"{live_server.url}/api/docs/feed-signatures.md")
    expect(
        page.get_by_text("# Feed signatures: what is signed and how to verify it")
    ).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="Hash list columns and grade codes").click()
    expect(page.get_by_text("| `penetrative` | Penetrative sexual activity | A |")).to_be_visible()
