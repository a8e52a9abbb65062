"""A QA reviewer in the browser: the case record of a decision waiting for review shows
nothing of it; the review screen shows no case state; a trainee's criminal decision sends
nothing until the reviewer agrees; after submission the record shows everything."""

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.assessment.models import AssessorProfile, Decision
from openhotline.takedown.models import Action
from tests.assessment.test_case_screen import GRADE_A
from tests.assessment.test_review import decided_case
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTES = "trainee-notes-51c"


def test_a_reviewer_stays_blind_until_they_submit_and_the_trainees_work_waits(
    page: Page, live_server, analyst: User, qa_reviewer: User
) -> None:
    # GIVEN an analyst in training who decided a case criminal, with notes
    AssessorProfile.objects.create(user=analyst, in_training=True)
    decision, _leads = decided_case(analyst, [GRADE_A], notes=NOTES)
    case_id = decision.case_id
    assert decision.held_for_qa and not Action.objects.exists()

    # WHEN the QA reviewer opens the case record
    page.goto(f"{live_server.url}/staff/cases/{case_id}/")
    sign_in(page, qa_reviewer)
    # THEN it says only that the case waits for a blind review they could take
    status = page.get_by_role("status")
    expect(status).to_contain_text("waiting for a blind QA review that you could take")
    main = page.locator("main")
    for giveaway in ("criminal", "alice-analyst", NOTES, "awaiting action"):
        expect(main).not_to_contain_text(giveaway, ignore_case=True)
    assert_accessible(page)

    # WHEN they start the review from there
    page.get_by_role("button", name=f"Start the review of case #{case_id}").click()
    expect(page.get_by_role("heading", name=f"Blind QA review of case #{case_id}")).to_be_visible()
    # THEN the screen shows no state of the case, nor any grade given
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("under your blind review")
    expect(summary).not_to_contain_text("awaiting action", ignore_case=True)
    expect(page.locator(".graded-as")).to_have_count(0)

    # They grade blind from the keyboard (reveal; penetrative, 7-10) and agree.
    expect(page.locator("body[data-keys=ready]")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("v")
    expect(page.locator(".revealed-media")).to_be_visible()
    page.keyboard.press("1")
    page.keyboard.press("3")
    expect(page.locator("li.group.graded")).to_have_count(1)
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_role("status")).to_contain_text("you agree with the first assessment")

    # THEN the record shows the decision, and the trainee's hold has been released
    page.goto(f"{live_server.url}/staff/cases/{case_id}/")
    decisions = page.locator("ul.decisions")
    expect(decisions).to_contain_text("alice-analyst")
    expect(decisions).to_contain_text(NOTES)
    expect(decisions).to_contain_text("Held for QA (decision of an analyst in training) until")
    decision = Decision.objects.get(pk=decision.pk)
    assert not decision.held_for_qa and decision.released_at is not None
    page.wait_for_load_state("networkidle")  # the previews finish before the database goes
