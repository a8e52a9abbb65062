"""axe-core over the pages people use: no serious or critical violation anywhere.

Each sweep visits a person's pages and collects every page's violations before failing, so
one run names them all.
"""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import Organisation, OrganisationKind, User
from openhotline.assessment.models import AssessorProfile
from openhotline.feeds.models import Licence, Membership
from openhotline.intake.models import Portal, Report
from openhotline.signals.models import ListEntry, Match
from tests.assessment.factory import known_list, make_case, picture
from tests.assessment.test_case_screen import GRADE_A
from tests.assessment.test_review import decided_case
from tests.browser.conftest import assert_accessible, axe_violations, describe_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Sweep:
    """Visits pages and keeps each one's serious and critical violations."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.found: dict[str, str] = {}

    def visit(self, path: str, expect_status: int = 200) -> None:
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None and response.status == expect_status, (path, response)
        self.check(path)

    def check(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        violations = axe_violations(self.page)
        if violations:
            self.found[name] = describe_violations(violations)

    def assert_clean(self) -> None:
        report = "\n".join(f"{name}:\n{text}" for name, text in self.found.items())
        assert not self.found, report


def test_the_empty_report_form_and_its_error_list(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/report/")
    assert_accessible(page)
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".errors").first).to_be_visible()
    # The error list is a list to assistive technology (role=alert on the list hid it).
    assert "listitem" not in [v["id"] for v in axe_violations(page)]
    assert_accessible(page)


def test_sign_out_is_readable_on_staff_pages(page: Page, live_server: Any, analyst: User) -> None:
    page.goto(f"{live_server.url}/staff/")
    sign_in(page, analyst)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert "color-contrast" not in [v["id"] for v in axe_violations(page)]
    assert_accessible(page)


def test_public_pages_are_accessible(page: Page, live_server: Any) -> None:
    partner = Organisation.objects.create(
        name="Partenaire Sénégal", kind=OrganisationKind.PORTAL_PARTNER, country="SN"
    )
    Portal.objects.create(
        slug="senegal", name="Portail du Sénégal", country="SN", languages=["fr", "en"],
        organisation=partner, welcome_text={"fr": "Bienvenue."},
    )  # fmt: skip
    sweep = Sweep(page, live_server.url)
    sweep.visit("/report/")
    sweep.visit("/portal/senegal/")
    sweep.visit("/portal/senegal/?lang=en")
    page.get_by_role("button", name="Send report").click()
    sweep.check("/portal/senegal/ with errors")
    page.get_by_label("Web addresses (one per line)").fill("http://forum-nl.test/thread")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".reference")).to_have_text(Report.objects.get().reference)
    sweep.check("thank-you page")
    page.goto(page.url.replace("?new=1", ""))
    sweep.check("status page")
    sweep.visit("/report/status/R-0000-0000/not-a-secret/", expect_status=404)
    sweep.visit("/no-such-page/", expect_status=404)
    sweep.visit("/staff/sign-in/")
    sweep.assert_clean()


def test_staff_pages_are_accessible(
    page: Page, live_server: Any, analyst: User, manager: User, member: User
) -> None:
    AssessorProfile.objects.create(user=analyst, in_training=True)
    decision, _leads = decided_case(analyst, [GRADE_A])
    hash_list = known_list([picture(40)], grade="non_penetrative", age_band="3-6")
    case = make_case([picture(41), picture(40)])
    entry = ListEntry.objects.filter(hash_list=hash_list).first()
    match = Match.objects.first()
    org = member.organisation
    assert org is not None
    Licence.objects.create(organisation=org, feed="url-list")
    Membership.objects.create(organisation=org, can_match=True)

    page.goto(f"{live_server.url}/staff/")
    sign_in(page, manager)
    sweep = Sweep(page, live_server.url)
    for path in [
        "/staff/",
        f"/staff/cases/{case.pk}/",
        f"/staff/cases/{decision.case_id}/",
        "/staff/assess/",
        "/staff/assess/welfare/",
        "/staff/qa/",
        "/staff/qa/agreement/",
        "/staff/lists/",
        f"/staff/lists/{hash_list.name}/",
        "/staff/matches/",
        "/staff/routing/",
        "/staff/feeds/",
        "/staff/feeds/keyword-list/",
        "/staff/members/",
        f"/staff/members/{org.pk}/",
    ]:
        sweep.visit(path)
    sweep.visit(f"/staff/qa/{decision.review.pk}/", expect_status=409)  # not the manager's
    if entry is not None:
        sweep.visit(f"/staff/entries/{entry.pk}/")
    if match is not None:
        sweep.visit(f"/staff/matches/{match.pk}/")
    page.goto(f"{live_server.url}/staff/assess/")
    page.get_by_role("button", name="Claim the next case").click()
    expect(page.locator("li.group").first).to_be_visible()
    sweep.check("assessment screen")
    sweep.assert_clean()


def test_member_pages_are_accessible(page: Page, live_server: Any, member: User) -> None:
    org = member.organisation
    assert org is not None
    Licence.objects.create(organisation=org, feed="url-list")
    Membership.objects.create(organisation=org, can_match=True)
    page.goto(f"{live_server.url}/members/")
    sweep = Sweep(page, live_server.url)
    sweep.check("member sign-in")
    sign_in(page, member)
    expect(page).to_have_url(f"{live_server.url}/members/")
    sweep.check("/members/")
    sweep.assert_clean()


def test_qa_review_screen_is_accessible(
    page: Page, live_server: Any, analyst: User, qa_reviewer: User
) -> None:
    AssessorProfile.objects.create(user=analyst, in_training=True)
    decision, _leads = decided_case(analyst, [GRADE_A])
    page.goto(f"{live_server.url}/staff/cases/{decision.case_id}/")
    sign_in(page, qa_reviewer)
    sweep = Sweep(page, live_server.url)
    sweep.check("case record waiting for review")
    page.get_by_role("button", name=f"Start the review of case #{decision.case_id}").click()
    expect(page.locator("body[data-keys=ready]")).to_have_count(1)
    sweep.check("blind review screen")
    sweep.visit("/staff/qa/")
    sweep.assert_clean()


def test_pages_showing_a_message_are_accessible(
    page: Page, live_server: Any, analyst: User, manager: User, qa_reviewer: User
) -> None:
    """A message after an action sits in a status region around its list (a <ul> with
    role=status is no list to assistive technology: axe's listitem rule)."""
    from django.test import override_settings

    from openhotline.assessment.review import start
    from openhotline.tracing.models import PartnerHotline

    PartnerHotline.objects.update_or_create(country="NL", defaults={"name": "Offlimits"})
    hash_list = known_list([picture(42)], grade="non_penetrative", age_band="3-6")
    with override_settings(QA_SHARE_PERCENT=100):  # sampled for QA: a waiting review
        decision, _leads = decided_case(analyst, [GRADE_A])
    case = make_case([picture(43)], url="http://needs-person.test/")
    type(case).objects.filter(pk=case.pk).update(needs_person="the host's desk bounced")

    page.goto(f"{live_server.url}/staff/routing/")
    sign_in(page, manager)
    sweep = Sweep(page, live_server.url)

    def shown(message: str, name: str) -> None:
        expect(page.get_by_role("status").filter(has_text=message)).to_have_count(1)
        sweep.check(name)  # every page's violations are named together at the end

    # The routing page after saving
    page.get_by_text("Edit NL").click()
    page.locator("details[open] input[name$='-email']").fill("referrals@offlimits.test")
    page.get_by_role("button", name="Save NL").click()
    shown("Offlimits (NL) saved", "routing page after saving")
    # A hash list's page after its settings are saved
    page.goto(f"{live_server.url}/staff/lists/{hash_list.name}/")
    page.get_by_role("button", name="Save settings").click()
    shown("Settings saved", "hash list page after saving its settings")
    # A feed's entries page after adding one
    page.goto(f"{live_server.url}/staff/feeds/keyword-list/")
    page.get_by_label("Term").fill("Cheese Pizza")
    page.get_by_label("Language").fill("en")
    page.get_by_role("button", name="Add to the Keyword List").click()
    shown("is added to the Keyword List", "feed entries page after adding an entry")
    # The QA reviews list saying a review was taken meanwhile
    page.goto(f"{live_server.url}/staff/qa/")
    start(decision.review, qa_reviewer)  # someone else starts it first
    page.get_by_role("button", name=f"Review case #{decision.case_id}").click()
    shown("This review is not waiting any more", "QA reviews list with a message")
    # The agreement page after a manager changes an analyst's QA
    page.goto(f"{live_server.url}/staff/qa/agreement/")
    page.get_by_role("button", name=f"Save for {analyst.get_username()}").click()
    shown(f"QA for {analyst.get_username()} updated", "QA agreement page after saving")
    # The case record after a manager has seen to what needed a person
    page.goto(f"{live_server.url}/staff/cases/{case.pk}/")
    page.get_by_role("button", name="Seen to").click()
    shown(f"Case {case.pk}: marked as seen to", "case record with a message")
    sweep.assert_clean()
