"""The analyst's day in the browser, from the keyboard: claim, reveal one item (and only
that one), grade three items, confirm a known hash without a reveal, decide; then a blind
QA review that disagrees, and the manager who resolves it."""

import pytest
from playwright.sync_api import Browser, Page, expect

from openhotline.accounts.models import User
from openhotline.assessment.models import AssessorProfile, MediaGrade, Reveal, Review
from openhotline.audit.models import AuditEvent
from openhotline.cases.models import CaseState
from openhotline.signals import pdq_store
from tests.assessment.factory import known_list, make_case, picture
from tests.browser.conftest import ARGS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fresh_index(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    pdq_store.forget()
    yield
    pdq_store.forget()


def group(page: Page, n: int):
    return page.locator("li.group").nth(n)


def keys_ready(page: Page) -> None:
    """The keyboard script has run (it is deferred; a visible page may not have it yet)."""
    expect(page.locator("body[data-keys=ready]")).to_have_count(1)


def test_an_analyst_grades_by_keyboard_and_qa_disagrees_and_a_manager_resolves(
    page: Page,
    browser: Browser,
    live_server,
    analyst: User,
    qa_reviewer: User,
    manager: User,
    fresh_index,
) -> None:
    # GIVEN a case with three unknown pictures and one a police list knows (grade B, 3-6),
    # and an analyst in training, so the decision goes to QA.
    known_list([picture(40)], grade="non_penetrative", age_band="3-6")
    case = make_case([picture(41), picture(42), picture(43), picture(40)])
    AssessorProfile.objects.create(user=analyst, in_training=True)

    page.goto(f"{live_server.url}/staff/assess/")
    sign_in(page, analyst)
    page.get_by_role("button", name="Claim the next case").click()
    expect(page.get_by_role("heading", name=f"Case #{case.pk}")).to_be_visible()
    expect(page.locator("li.group")).to_have_count(4)
    known = page.locator("li.group[data-known]")
    expect(known).to_contain_text("pre-graded, no reveal needed")
    keys_ready(page)

    # WHEN the analyst moves to the first item and reveals it
    page.keyboard.press("j")
    first = group(page, 0)
    expect(first).to_be_focused()
    page.keyboard.press("v")
    # THEN the original is shown there, and nowhere else
    expect(first.locator(".viewer img.revealed-media")).to_be_visible()
    expect(page.locator(".revealed-media")).to_have_count(1)
    expect(page.locator("#counters")).to_contain_text("Reveals: 1 of 150 in the last hour")
    # …and leaving the item blurs it again (the original leaves the page).
    page.keyboard.press("j")
    expect(page.locator(".revealed-media")).to_have_count(0)
    page.keyboard.press("k")

    # Three unknown items graded by keys: reveal, activity, age band.
    grades = [("5", "4"), ("5", "5"), ("1", "2")]  # posing 11-13, posing 14-15, penetrative 3-6
    for n, (activity, age) in enumerate(grades):
        item = group(page, n)
        expect(item).to_be_focused()
        page.keyboard.press("v")
        expect(item.locator(".revealed-media")).to_be_visible()
        page.keyboard.press(activity)
        page.keyboard.press(age)
        expect(group(page, n)).to_have_class("group graded")
    # The known item: focus went to it; Enter confirms without a reveal.
    expect(known).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("li.group.graded")).to_have_count(4)
    expect(known).to_contain_text("Confirmed from a known hash, no reveal")
    expect(page.locator("li.group").nth(2)).to_contain_text("UK category A")

    # The counters and the audit log show exactly the four reveals made.
    assert Reveal.objects.filter(user=analyst).count() == 4
    assert AuditEvent.objects.filter(action="media.revealed", actor=analyst.username).count() == 4
    page.reload()
    expect(page.locator("#counters")).to_contain_text("Reveals: 4 of")
    keys_ready(page)

    # Decide from the keyboard: "d", then Enter on the pre-selected verdict.
    page.keyboard.press("d")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Case #{case.pk} decided (criminal")
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_ACTION
    review = Review.objects.get(decision__case=case)
    assert review.decision.qa == "training"

    # A QA reviewer grades blind and disagrees about one item.
    qa_context = browser.new_context(locale="en-GB")
    qa_page = qa_context.new_page()
    qa_page.set_default_timeout(10_000)
    qa_page.goto(f"{live_server.url}/staff/qa/")
    sign_in(qa_page, qa_reviewer)
    qa_page.get_by_role("button", name=f"Review case #{case.pk}").click()
    expect(qa_page.get_by_role("heading", name="Blind QA review")).to_be_visible()
    expect(qa_page.locator(".graded-as")).to_have_count(0)  # blind
    keys_ready(qa_page)
    qa_page.keyboard.press("j")
    for n, (activity, age) in enumerate([("5", "4"), ("5", "5"), ("5", "2")]):
        # The third differs: posing (UK C) where the analyst saw penetrative (UK A).
        item = group(qa_page, n)
        expect(item).to_be_focused()
        qa_page.keyboard.press("v")
        expect(item.locator(".revealed-media")).to_be_visible()
        qa_page.keyboard.press(activity)
        qa_page.keyboard.press(age)
        expect(group(qa_page, n)).to_have_class("group graded")
    expect(qa_page.locator("li.group[data-known]")).to_be_focused()
    qa_page.keyboard.press("Enter")
    expect(qa_page.locator("li.group.graded")).to_have_count(4)
    qa_page.get_by_role("button", name="Submit review").click()
    expect(qa_page.get_by_role("status")).to_contain_text("a manager will resolve it")
    qa_context.close()
    review.refresh_from_db()
    assert review.state == "disputed" and len(review.differences) == 1

    # The manager sees both grades and lets the QA grade stand.
    boss_context = browser.new_context(locale="en-GB")
    boss = boss_context.new_page()
    boss.set_default_timeout(10_000)
    boss.goto(f"{live_server.url}/staff/qa/")
    sign_in(boss, manager)
    boss.get_by_role("link", name=f"Resolve review {review.pk}").click()
    expect(boss.get_by_text("UK A · Penetrative sexual activity · 3-6")).to_be_visible()
    boss.get_by_label("UK C · Sexual posing or focus on genitals · 3-6").check()
    boss.get_by_role("button", name="Resolve").click()
    expect(boss.get_by_role("status")).to_contain_text(f"Review {review.pk} resolved")
    boss_context.close()
    review.refresh_from_db()
    assert review.state == "resolved"
    resolved = MediaGrade.objects.get(review=review, stage="resolved")
    assert resolved.uk_category == "C"
    assert ARGS  # the same Chromium flags for every context


def test_an_analyst_closes_a_case_from_the_keyboard_and_arrows_change_the_verdict(
    page: Page, live_server, analyst: User, fresh_index
) -> None:
    case = make_case([picture(50), picture(51)])
    page.goto(f"{live_server.url}/staff/assess/")
    sign_in(page, analyst)
    expect(page.get_by_role("button", name="Claim the next case")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Case #{case.pk}")).to_be_visible()
    keys_ready(page)
    page.keyboard.press("j")
    for n, key in enumerate(["a", "i"]):
        expect(group(page, n)).to_be_focused()
        page.keyboard.press("v")
        expect(group(page, n).locator(".revealed-media")).to_be_visible()
        page.keyboard.press(key)
        expect(group(page, n)).to_have_class("group graded")
    # Nothing criminal: the verdict and the likeliest reason are chosen for the analyst.
    page.keyboard.press("d")
    expect(page.get_by_label("Not criminal")).to_be_focused()
    expect(page.get_by_label("Not criminal")).to_be_checked()
    expect(page.locator('select[name="closure_reason"]')).to_have_value("not_csam")
    # Arrows move between the verdict's choices (not between items) and back.
    page.keyboard.press("ArrowUp")
    expect(page.get_by_label("Criminal", exact=True)).to_be_checked()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Not criminal")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Case #{case.pk} decided (closed)")
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.decisions.get().closure_reason == "not_csam"
