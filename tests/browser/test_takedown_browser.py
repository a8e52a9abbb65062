"""Takedown screens in the browser: the routing page a manager edits, the case record's
hosting and takedown section with police clearance, and the host's "removed" page."""

import hashlib

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.cases.models import Case
from openhotline.takedown.models import Action
from openhotline.tracing.models import PartnerHotline, Trace
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sets_a_partners_referral_address(page: Page, live_server, manager: User) -> None:
    PartnerHotline.objects.update_or_create(country="NL", defaults={"name": "Offlimits"})
    page.goto(f"{live_server.url}/staff/routing/")
    sign_in(page, manager)
    expect(page.get_by_role("heading", name="Routing rules and partner hotlines")).to_be_visible()
    page.get_by_text("Edit NL").click()
    page.locator("details[open] input[name$='-country']").fill("N1")
    page.get_by_role("button", name="Save NL").click()
    # The form comes back open, with the error next to the field.
    expect(page.locator("details[open] .errorlist")).to_contain_text("alpha-2")
    page.locator("details[open] input[name$='-country']").fill("NL")
    page.locator("details[open] input[name$='-email']").fill("referrals@offlimits.test")
    page.get_by_role("button", name="Save NL").click()
    expect(page.get_by_role("status")).to_contain_text("Offlimits (NL) saved")
    expect(page.get_by_role("cell", name="referrals@offlimits.test")).to_be_visible()


def test_the_case_record_shows_the_trace_and_a_manager_clears_a_waiting_notice(
    page: Page, live_server, manager: User
) -> None:
    case = Case.objects.create(
        kind="url", url="http://photos-gb.test/gallery/beach", host="photos-gb.test",
        state="actioned",
    )  # fmt: skip
    trace = Trace.objects.create(
        case=case, host=case.host, country="GB", network="127.77.1.0/24", asn=64501,
        as_name="UK Hosting", network_abuse=["abuse@uk-hosting.test"],
        addresses=[{"address": "127.77.1.20", "country": "GB", "network": "127.77.1.0/24"}],
    )  # fmt: skip
    Action.objects.create(
        case=case, trace=trace, kind="notice", state="waiting", reference="NWAIT1",
        recipient="abuse@uk-hosting.test", route="home",
    )  # fmt: skip
    page.goto(f"{live_server.url}/staff/cases/{case.pk}/")
    sign_in(page, manager)
    expect(page.get_by_role("heading", name="Hosting and takedown")).to_be_visible()
    expect(page.locator("table.traces")).to_contain_text("AS64501 UK Hosting")
    expect(page.locator("table.actions")).to_contain_text("Waiting (police clearance)")
    page.get_by_role("button", name="Police cleared: send now").click()
    expect(page.get_by_role("status").first).to_contain_text("NWAIT1: cleared, sending now")
    assert Action.objects.get(reference="NWAIT1").state == "pending"


def test_the_hosts_removed_page_asks_before_it_acts(page: Page, live_server) -> None:
    case = Case.objects.create(kind="url", url="http://x.test/", host="x.test", state="actioned")
    secret = "s3cret-link"
    Action.objects.create(
        case=case, kind="notice", state="sent", reference="NLINK1", recipient="a@x.test",
        removed_link_digest=hashlib.sha256(secret.encode()).hexdigest(),
    )  # fmt: skip
    page.goto(f"{live_server.url}/notice/NLINK1/removed/{secret}/")
    expect(page.get_by_role("heading", name="Notice NLINK1")).to_be_visible()
    assert Action.objects.get(reference="NLINK1").removed_reported_at is None
    page.get_by_role("button", name="We have removed it").click()
    expect(page.get_by_role("status")).to_contain_text("We will check the address again now")
    assert Action.objects.get(reference="NLINK1").removed_reported_at is not None
