"""The case screen as an analyst meets it: four pictures fit in about one screenful
(a grid of tiles and one grading panel for the focused tile, not a form under each), the
counters and the "reveal before grading" line change without a reload, and a decision
opens the next case."""

import os

import pytest
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.assessment.models import MediaGrade
from openhotline.cases.models import CaseState
from openhotline.signals import pdq_store
from tests.assessment.factory import make_case, picture
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where a person can look at the screens these tests see (set while changing the layout).
SHOTS = os.environ.get("OPENHOTLINE_TEST_SCREENSHOTS", "")


@pytest.fixture
def fresh_index(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    pdq_store.forget()
    yield
    pdq_store.forget()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def keys_ready(page: Page) -> None:
    expect(page.locator("body[data-keys=ready]")).to_have_count(1)


def tile(page: Page, n: int):
    return page.locator("li.group").nth(n)


def claim_first_case(page: Page, url: str, analyst: User) -> None:
    page.goto(f"{url}/staff/assess/")
    sign_in(page, analyst)
    page.get_by_role("button", name="Claim the next case").click()
    keys_ready(page)


def lead(page: Page, n: int) -> str:
    value = tile(page, n).get_attribute("data-lead")
    assert value is not None
    return value


def test_four_pictures_fit_one_screenful_with_one_grading_panel_that_follows_focus(
    page: Page, live_server, analyst: User, fresh_index
) -> None:
    # GIVEN a case with four pictures, on a common laptop screen
    page.set_viewport_size({"width": 1280, "height": 800})
    make_case([picture(60), picture(61), picture(62), picture(63)])
    claim_first_case(page, live_server.url, analyst)
    expect(page.locator("li.group")).to_have_count(4)
    page.wait_for_load_state("networkidle")  # the blurred previews have their size
    shot(page, "case-screen")

    # THEN the page is about one screenful (the form under each picture made it ~3,000 px)
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 1200, height
    # …with the tiles side by side, and one grading form on the page
    tops = []
    for n in range(4):
        box = tile(page, n).bounding_box()
        assert box is not None
        tops.append(box["y"])
    assert max(tops) - min(tops) < 2, tops  # one row
    expect(page.locator("form.grade")).to_have_count(1)
    panel = page.locator("#grade-panel")
    form = panel.locator("form.grade")
    expect(panel).to_contain_text(f"Grade item #{lead(page, 0)}")
    expect(tile(page, 0)).to_have_attribute("aria-current", "true")
    assert_accessible(page)

    # WHEN the analyst clicks the third tile, THEN the panel grades that group
    tile(page, 2).locator(".meta").click()
    expect(panel).to_contain_text(f"Grade item #{lead(page, 2)}")
    third_url = f"/staff/assess/cases/{_case_id(page)}/media/{lead(page, 2)}/grade/"
    expect(form).to_have_attribute("hx-post", third_url)
    expect(form).to_have_attribute("action", third_url)
    expect(tile(page, 2)).to_have_attribute("aria-current", "true")
    expect(tile(page, 0)).not_to_have_attribute("aria-current", "true")
    # …by the keyboard: arrows and Tab move it too
    page.keyboard.press("ArrowRight")
    expect(tile(page, 3)).to_be_focused()
    expect(panel).to_contain_text(f"Grade item #{lead(page, 3)}")
    page.keyboard.press("Shift+Tab")  # back over the tile's Reveal button…
    page.keyboard.press("Shift+Tab")  # …to the third tile
    expect(panel).to_contain_text(f"Grade item #{lead(page, 2)}")

    # WHEN it is revealed and graded from the panel with the pointer
    tile(page, 2).get_by_role("button", name="Reveal").click()
    expect(tile(page, 2).locator(".revealed-media")).to_be_visible()
    form.get_by_label("Sexual posing or focus on genitals").check()
    # (choosing in the panel does not leave the item: the original stays shown)
    expect(tile(page, 2).locator(".revealed-media")).to_be_visible()
    form.get_by_label("11-13").check()
    form.get_by_role("button", name="Save grade").click()
    # THEN that group (and only it) is graded, and the panel moves on to one still to grade
    expect(tile(page, 2)).to_have_class("group graded")
    expect(page.locator("li.group.graded")).to_have_count(1)
    saved = MediaGrade.objects.get()
    assert str(saved.media_id) == lead(page, 2) and saved.uk_category == "C"
    expect(tile(page, 3)).to_be_focused()
    expect(panel).to_contain_text(f"Grade item #{lead(page, 3)}")
    # …with the form cleared for it (the grade given is not carried to another item)
    expect(form.locator('input[name="grade"]:checked')).to_have_count(0)


def _case_id(page: Page) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_the_counter_and_the_reveal_line_change_without_a_reload(
    page: Page, live_server, analyst: User, fresh_index
) -> None:
    make_case([picture(64), picture(65)])
    claim_first_case(page, live_server.url, analyst)
    page.evaluate("() => { window.sameDocument = 'yes'; }")  # gone if the page reloads
    count = page.locator("#graded-count")
    expect(count).to_have_text("0 of 2 groups graded")
    first = tile(page, 0)
    expect(first.locator(".status")).to_have_text("Reveal before grading")

    # WHEN the analyst grades before looking
    page.keyboard.press("j")
    page.keyboard.press("a")
    # THEN the refusal shows in the panel (an alert), and nothing is saved
    errors = page.locator("#grade-errors")
    expect(errors).to_contain_text("Reveal the item before grading it")
    assert not MediaGrade.objects.exists()
    assert_accessible(page)  # the error list inside its alert, not an alert list
    shot(page, "case-screen-refused")

    # WHEN they reveal it, THEN the line and the refusal change in place
    page.keyboard.press("v")
    expect(first.locator(".revealed-media")).to_be_visible()
    expect(first.locator(".status")).to_have_text("Revealed · ready to grade")
    expect(errors).to_be_empty()
    # …and after grading, the counter follows
    page.keyboard.press("a")
    expect(first).to_have_class("group graded")
    expect(count).to_have_text("1 of 2 groups graded")
    assert page.evaluate("() => window.sameDocument") == "yes"


def test_a_decision_opens_the_next_case_and_the_last_one_the_queue(
    page: Page, live_server, analyst: User, fresh_index
) -> None:
    first = make_case([picture(66)])
    second = make_case([picture(67)])
    claim_first_case(page, live_server.url, analyst)
    expect(page.get_by_role("heading", name=f"Case #{first.pk}")).to_be_visible()

    # A decision refused shows its errors in one alert (and the scan passes with them)
    page.get_by_role("button", name="Decide").click()
    expect(page.locator("#decision-errors")).to_contain_text("Say why the case is closed")
    assert_accessible(page)
    keys_ready(page)

    page.keyboard.press("j")
    page.keyboard.press("v")
    expect(tile(page, 0).locator(".revealed-media")).to_be_visible()
    page.keyboard.press("i")
    expect(tile(page, 0)).to_have_class("group graded")
    page.keyboard.press("d")
    page.keyboard.press("Enter")
    # THEN the next case is open, claimed, with word of the last one and a way back
    expect(page.get_by_role("heading", name=f"Case #{second.pk}")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Case #{first.pk} decided (closed)")
    first.refresh_from_db()
    assert first.state == CaseState.CLOSED
    page.get_by_role("link", name="Back to the queue").click()
    expect(page.get_by_role("heading", name="Assessment queue")).to_be_visible()
    page.get_by_role("button", name=f"Continue with case #{second.pk}").click()
    keys_ready(page)

    page.keyboard.press("j")
    page.keyboard.press("v")
    expect(tile(page, 0).locator(".revealed-media")).to_be_visible()
    page.keyboard.press("i")
    expect(tile(page, 0)).to_have_class("group graded")
    page.keyboard.press("d")
    page.keyboard.press("Enter")
    # THEN with nothing left, the queue says so
    expect(page.get_by_role("heading", name="Assessment queue")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Nothing else is waiting")
