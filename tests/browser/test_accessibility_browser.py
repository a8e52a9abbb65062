"""axe-core over the pages people use: no serious or critical violation anywhere."""

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from tests.browser.conftest import assert_accessible, axe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_empty_report_form_and_its_error_list(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/report/")
    assert_accessible(page)
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".errors").first).to_be_visible()
    assert_accessible(page)


def test_sign_out_is_readable_on_staff_pages(page: Page, live_server, analyst: User) -> None:
    page.goto(f"{live_server.url}/staff/")
    sign_in(page, analyst)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    ids = [v["id"] for v in axe_violations(page)]
    assert "color-contrast" not in ids
    assert_accessible(page)
