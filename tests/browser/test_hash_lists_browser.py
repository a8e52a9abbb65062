"""A manager creates a hash list and allow-lists a hash; a match found on capture shows
on the case with its suggested grade, and the analyst follows it to "why did this match"."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from openhotline.accounts.models import User
from openhotline.cases.models import Case
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import Media, MediaCheck
from openhotline.evidence.services import request_capture
from openhotline.signals import pdq_store
from openhotline.signals.lists import import_records
from openhotline.signals.models import AllowedHash, HashList, MediaHash
from openhotline.signals.records import build_record
from openhotline.simnet.runner import Simnet
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_a_list_and_allow_lists_a_hash(
    page: Page, live_server, manager: User
) -> None:
    page.goto(f"{live_server.url}/staff/lists/")
    sign_in(page, manager)
    expect(page.get_by_role("heading", name="Hash lists")).to_be_visible()
    page.get_by_label("Name (letters, digits, hyphens)").fill("bad name!")
    page.get_by_role("button", name="Create list").click()
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.get_by_label("Name (letters, digits, hyphens)")).to_have_attribute(
        "aria-invalid", "true"
    )
    page.get_by_label("Name (letters, digits, hyphens)").fill("logos")
    page.get_by_label("Source").select_option("own")
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("heading", name="Hash list logos")).to_be_visible()
    page.get_by_label("Hash", exact=True).fill("ab" * 32)
    page.get_by_label("Why it must never match").fill("the site's logo")
    page.get_by_role("button", name="Add to allow-list").click()
    expect(page.get_by_role("status")).to_contain_text("Added to the allow-list")
    expect(page.locator("table.allowed")).to_contain_text("the site's logo")
    assert AllowedHash.objects.get().hash_list == HashList.objects.get(name="logos")


def test_a_manager_shares_a_police_list_only_after_typing_its_name(
    page: Page, live_server, manager: User
) -> None:
    HashList.objects.create(name="caid", source="police")
    page.goto(f"{live_server.url}/staff/lists/caid/")
    sign_in(page, manager)
    expect(page.locator("dl.summary")).to_contain_text("not shared: nothing of it goes to members")
    page.get_by_role("link", name="share with members…").click()
    expect(page.get_by_role("heading", name="Share caid with members")).to_be_visible()
    expect(page.get_by_text("This is a police list")).to_be_visible()
    page.get_by_role("button", name="Share with members").click()
    expect(page.locator("#confirm-error")).to_contain_text("type the list's name, caid")
    expect(page.get_by_label("Type the list's name to confirm")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert HashList.objects.get(name="caid").share_with_members is False
    page.get_by_label("Type the list's name to confirm").fill("caid")
    page.get_by_role("button", name="Share with members").click()
    expect(page.get_by_role("status")).to_contain_text("Shared")
    expect(page.locator("dl.summary")).to_contain_text("shared: live entries go to members")
    assert HashList.objects.get(name="caid").share_with_members is True


def test_an_analyst_follows_a_known_match_from_the_case_to_why_it_matched(
    page: Page, live_server, analyst: User, on_simnet: Simnet, settings, tmp_path
) -> None:
    settings.VAR_DIR = tmp_path
    pdq_store.forget()
    Client().post("/report/", {"urls": on_simnet.url("gallery-one.test", "/albums/sunrise")})
    case = Case.objects.get()
    run_capture(case.captures.get().pk)
    media = Media.objects.filter(
        sightings__capture__case=case, status=MediaCheck.OK,
        hashes__hash_type="pdq", hashes__usable_for_matching=True,
    ).first()  # fmt: skip
    assert media is not None
    pdq = MediaHash.objects.get(media=media, hash_type="pdq").value
    near = f"{int(pdq, 16) ^ 0b1011:064x}"
    caid = HashList.objects.create(name="caid", source="police")
    record = build_record(
        {"pdq": near, "grade": "sexual_posing", "provenance": "CAID test release"}
    )
    import_records(caid, iter([("line 2", record, [])]), source="test")
    run_capture(request_capture(case).pk)

    page.goto(f"{live_server.url}/staff/cases/{case.pk}/")
    sign_in(page, analyst)
    expect(page.locator(".suggestion")).to_contain_text("suggested grade: sexual_posing (UK C)")
    page.get_by_role("link", name="Known: caid").first.click()
    expect(page.get_by_role("heading", name="Why did match")).to_be_visible()
    expect(page.locator(".verdict")).to_contain_text("distance 3")
    expect(page.locator("td.differs")).to_have_count(3)
    expect(page.get_by_text("CAID test release")).to_be_visible()
    pdq_store.forget()
