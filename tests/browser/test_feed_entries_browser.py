"""An analyst keeps the hand-maintained feeds: adds a keyword and a virtual currency
address, is told at once when an address fails its checksum (with what they typed still
there), and removes an entry giving a reason."""

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.feeds.models import FeedItem
from tests.browser.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173's example
CORRUPTED = ADDRESS[:10] + "x" + ADDRESS[11:]


def test_an_analyst_adds_and_removes_feed_entries(page: Page, live_server, analyst: User) -> None:
    page.goto(f"{live_server.url}/staff/feeds/keyword-list/")
    sign_in(page, analyst)
    expect(page.get_by_role("heading", name="Keyword List")).to_be_visible()
    page.get_by_label("Term").fill("Cheese Pizza")
    page.get_by_label("Language").fill("en")
    page.get_by_role("button", name="Add to the Keyword List").click()
    expect(page.get_by_role("status")).to_contain_text("“cheese pizza” is added")
    expect(page.locator("table.entries")).to_contain_text("Cheese Pizza")

    page.get_by_role("link", name="Feeds kept by hand").click()
    page.get_by_role("link", name="Virtual Currency Alerts").click()
    page.get_by_label("Currency").select_option("BTC")
    page.get_by_label("Address").fill(CORRUPTED)
    page.get_by_label("Note (optional)").fill("payment page of a paywalled site")
    page.get_by_role("button", name="Add to the Virtual Currency Alerts").click()
    expect(page.locator("#id_address_error")).to_contain_text("The checksum does not match")
    expect(page.get_by_label("Address")).to_have_value(CORRUPTED)
    expect(page.get_by_label("Address")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Note (optional)")).to_have_value("payment page of a paywalled site")
    assert not FeedItem.objects.filter(feed__name="vc-alerts").exists()

    page.get_by_label("Address").fill(ADDRESS)
    page.get_by_role("button", name="Add to the Virtual Currency Alerts").click()
    expect(page.get_by_role("status")).to_contain_text(f"“BTC:{ADDRESS}” is added")
    row = page.locator("table.entries tbody tr", has_text=ADDRESS)
    expect(row).to_contain_text("payment page of a paywalled site")

    row.locator("summary").click()
    row.get_by_label("Reason for removing").fill("the paywall is gone")
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_contain_text(f"“BTC:{ADDRESS}” is removed")
    expect(page.locator("table.entries")).not_to_contain_text(ADDRESS)
    item = FeedItem.objects.get(feed__name="vc-alerts")
    assert item.key == f"BTC:{ADDRESS}" and item.removed_seq is not None
