"""Layout a person sees on the assessment side pages: the welfare settings' checkboxes
beside their words and help text that says what an empty limit means; the QA resolve
table as a table (no stacked cells under empty columns) with its differences in words;
and their error states pass the accessibility scan."""

import pytest
from django.test import override_settings
from playwright.sync_api import Locator, Page, expect

from openhotline.accounts.models import User
from tests.assessment.test_case_screen import GRADE_A
from tests.assessment.test_review import decided_case, review_grade
from tests.browser.conftest import assert_accessible, sign_in
from tests.conftest import verified_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return {"x": found["x"], "y": found["y"], "width": found["width"], "height": found["height"]}


def same_line(a: dict[str, float], b: dict[str, float]) -> bool:
    """Two boxes overlap vertically (one line of text), whatever their heights."""
    return a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_welfare_checkboxes_sit_beside_their_words_and_the_help_says_what_empty_means(
    page: Page, live_server, analyst: User
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/staff/assess/welfare/")
    sign_in(page, analyst)
    # WHEN the analyst saves a limit of 3 an hour, in greyscale
    page.get_by_label("Reveals per hour before a break is suggested").fill("3")
    page.get_by_label("Show media in greyscale").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your settings are saved")
    # THEN the field keeps 3 and its help says what an empty field would give
    hourly = page.get_by_label("Reveals per hour before a break is suggested")
    expect(hourly).to_have_value("3")
    expect(page.locator("main")).not_to_contain_text("empty: 3")
    expect(page.locator("#hourly-help")).to_have_text(
        "Leave empty for the hotline's usual limit (150 an hour)."
    )
    expect(hourly).to_have_accessible_description(
        "Leave empty for the hotline's usual limit (150 an hour)."
    )
    # …and each checkbox is on the line of its words, right before them
    for words in ("Show media in greyscale", "Play revealed videos automatically"):
        label = page.locator("label.check", has_text=words)
        checkbox = label.locator("input[type=checkbox]")
        text = box(label.locator("span"))
        square = box(checkbox)
        assert same_line(square, text), (words, square, text)
        gap = text["x"] - (square["x"] + square["width"])
        assert 0 <= gap < 24, (words, square, text)  # was the width of the page away
    expect(page.get_by_label("Show media in greyscale")).to_be_checked()
    assert_accessible(page)

    # An error is an alert holding a list (axe: no list items outside a list)
    page.get_by_label("Reveals per day before a break is suggested").fill("100001")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Reveals per day: Give a whole number")
    assert_accessible(page)


@override_settings(QA_SHARE_PERCENT=100)
def test_the_resolve_table_keeps_its_columns_and_names_the_differences_in_words(
    page: Page, live_server, analyst: User, qa_reviewer: User, manager: User
) -> None:
    # GIVEN a QA review that disagrees on one item's category and age band
    decision, leads = decided_case(analyst, [GRADE_A, {"grade": "adult"}])
    review = decision.review
    client = verified_client(qa_reviewer)
    client.post(f"/staff/qa/{review.pk}/start/")
    review_grade(client, review, leads[0], {"grade": "sexual_posing", "age_band": "11-13"})
    review_grade(client, review, leads[1], {"grade": "adult"})
    client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "yes"})

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/staff/qa/{review.pk}/resolve/")
    sign_in(page, manager)
    table = page.locator("main form table")
    expect(table).to_be_visible()
    # THEN the differences are in words, not field names
    expect(table.locator("tbody tr td").nth(1)).to_have_text("Category, Age band")
    expect(table).not_to_contain_text("age_band")
    # …and the row is a row: its four cells side by side, each under its heading
    headers = [box(h) for h in table.locator("thead th").all()]
    cells = [box(c) for c in table.locator("tbody tr").first.locator("td").all()]
    assert len(headers) == len(cells) == 4
    for heading, cell in zip(headers, cells, strict=True):
        assert abs(heading["x"] - cell["x"]) < 2, (headers, cells)
        assert cell["width"] > 40, cells  # no column left empty
    assert len({round(c["y"]) for c in cells}) == 1, cells
    assert_accessible(page)

    # Resolving without choosing a grade: the error list sits inside its alert
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose which grade stands")
    assert_accessible(page)
