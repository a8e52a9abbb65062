"""A member finds the API documentation from the portal: the API reference shows the feed
and matching calls with their parameters and errors, and the two guides open as text. The
page (Swagger UI) passes the accessibility scan in every state a member brings it to, and
works from the keyboard."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.feeds.models import Licence
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DELTA = "/api/v1/feeds/{name}/delta"


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


def test_the_api_documentation_passes_the_accessibility_scan_as_a_member_uses_it(
    page: Page, live_server: Any
) -> None:
    """Swagger UI as served had no page language, method badges, version stamp, address and
    buttons at 2.0-3.5:1, links inside the operations' expand buttons (nested-interactive),
    unnamed lists of allowed values, an unnamed close button and unnamed schema toggles, and
    a scrollable example the keyboard could not reach. Each state here failed the scan."""
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text(DELTA, exact=True).first).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)

    # One operation open, tried out, with the server's answer (401: no member key given).
    page.get_by_text(DELTA, exact=True).first.click()
    expect(page.get_by_text("X-Feed-Manifest").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Try it out").click()
    page.get_by_label("name", exact=True).select_option("url-list")
    page.get_by_label("cursor", exact=True).fill("0")
    page.get_by_role("button", name="Execute").click()
    expect(page.get_by_text("Server response")).to_be_visible()
    expect(page.locator(".live-responses-table tr.response .response-col_status")).to_have_text(
        "401"
    )
    assert_accessible(page)

    # The Authorize dialog, with the member key scheme.
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("memberKey").first).to_be_visible()
    assert_accessible(page)
    dialog.get_by_role("button", name="Close dialog").click()
    expect(dialog).to_have_count(0)

    # The member calls' schemas, each opened, with their properties' toggles.
    for schema in ("FeedManifest", "FeedChange", "MatchResponse", "Problem", "CaseStateEnum"):
        page.get_by_role("button", name=schema, exact=True).click()
    expect(page.locator("#model-FeedManifest tr.property-row").first).to_be_visible()
    assert_accessible(page)


def test_the_api_documentation_works_from_the_keyboard(page: Page, live_server: Any) -> None:
    """The operation's path is text inside its expand button now, not a link: the button
    still opens and closes it from the keyboard, opening still puts the operation's address
    in the location bar, and that address opens it again."""
    page.goto(f"{live_server.url}/api/docs/")
    summary = page.locator("#operations-Member_feeds-feed_delta .opblock-summary-control")
    expect(summary).to_have_attribute("aria-expanded", "false")
    expect(summary.locator("a[href]")).to_have_count(0)
    summary.focus()
    page.keyboard.press("Enter")
    expect(summary).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_text("X-Feed-Manifest").first).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/api/docs/#/Member%20feeds/feed_delta")
    page.keyboard.press("Space")
    expect(summary).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_text("X-Feed-Manifest")).to_have_count(0)

    # The tag headings keep their links; an operation's address opens it. (A tag with a
    # space, "Member feeds", makes Swagger UI log a deprecation error on opening: Matching.)
    expect(page.get_by_role("link", name="Member feeds", exact=True)).to_be_visible()
    page.goto("about:blank")
    page.goto(f"{live_server.url}/api/docs/#/Matching/match")
    match = page.locator("#operations-Matching-match .opblock-summary-control")
    expect(match).to_have_attribute("aria-expanded", "true")

    # "Try it out" and the Authorize dialog from the keyboard; the dialog closes by name.
    page.get_by_role("button", name="Try it out").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Execute")).to_be_visible()
    page.get_by_role("button", name="Authorize").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_text("ohk_<key id>_<secret>").first).to_be_visible()
    page.get_by_role("button", name="Close dialog").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("button", name="Authorize").first.press("Enter")
    expect(page.get_by_role("dialog", name="Available authorizations")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
