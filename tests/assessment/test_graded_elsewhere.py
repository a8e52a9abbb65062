"""Media graded in one case is never graded again in another (issue 15, item 2).

Through HTTP and the real database: an analyst decides case 1 (reveals and grades), the
decision's grades reach the own hash list, and case 2, which holds the same pictures (or
re-encoded near-duplicates), is pre-graded with "no reveal needed" and "graded in case
#1", and is decided with no reveal at all. The bug was for a case 2 captured *before*
case 1's decision: matching ran only at capture, when the list did not hold them yet.
"""

import io
import re

import pytest
from django.test import Client, override_settings
from PIL import Image

from openhotline.assessment.models import Decision, MediaGrade, Reveal, Via
from openhotline.cases.models import Case, CaseState, Priority
from openhotline.signals.models import ListEntry, Match
from tests.assessment.factory import known_list, make_case, picture
from tests.conftest import verified_client
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
GRADE = {"grade": "penetrative", "age_band": "7-10", "children": "1", "sex": "female"}
KNOWN = {"grade": "penetrative", "age_band": "7-10"}  # what Enter posts for a known grade
DECIDE = {"criminal": "yes", "mapping": "uk", "site_type": "image_host"}


def reencoded(seed: int) -> bytes:
    """The same picture saved again as PNG: other bytes (another SHA-256), same PDQ."""
    out = io.BytesIO()
    Image.open(io.BytesIO(picture(seed))).save(out, format="PNG")
    return out.getvalue()


def hold(client: Client, case: Case) -> None:
    response = client.post(f"/staff/assess/cases/{case.pk}/claim/")
    assert response.status_code == 302 and f"/cases/{case.pk}/" in response["Location"]


def screen(client: Client, case: Case) -> str:
    response = client.get(f"/staff/assess/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def groups(page: str) -> list[str]:
    """Each media group's markup on the case screen."""
    return re.findall(r'<li class="group.*?</li>', page, flags=re.S)


def lead_of(group: str) -> int:
    found = re.search(r'data-lead="(\d+)"', group)
    assert found is not None
    return int(found.group(1))


def decide_by_looking(client: Client, case: Case) -> None:
    """Case 1: the analyst reveals every group and grades it, then decides."""
    hold(client, case)
    for group in groups(screen(client, case)):
        lead = lead_of(group)
        url = f"/staff/assess/cases/{case.pk}/media/{lead}/"
        assert client.post(url + "reveal/", headers=HTMX).status_code == 200
        assert client.post(url + "grade/", GRADE, headers=HTMX).status_code == 200
    assert client.post(f"/staff/assess/cases/{case.pk}/decide/", DECIDE).status_code == 302


def decide_without_looking(client: Client, case: Case, graded_in: int) -> None:
    """Case 2: every group is pre-graded from case `graded_in`; Enter confirms each."""
    hold(client, case)
    page = screen(client, case)
    found = groups(page)
    assert found
    for group in found:
        assert 'data-known="1"' in group
        assert "pre-graded, no reveal needed" in group
        assert f'graded in <a href="/staff/cases/{graded_in}/"' in group
        assert f"case #{graded_in}</a>" in group
        assert "UK A" in group  # the grade travelled with the entry
        url = f"/staff/assess/cases/{case.pk}/media/{lead_of(group)}/grade/"
        assert client.post(url, KNOWN, headers=HTMX).status_code == 200
    assert client.post(f"/staff/assess/cases/{case.pk}/decide/", DECIDE).status_code == 302


def own_list_and_rematch() -> None:
    """What the worker does after a decision: confirm the grades, then re-match."""
    assert run_due_tasks("assessment")[-1].endswith("in own-grading")
    assert run_due_tasks("signals.tasks")


@override_settings(QA_SHARE_PERCENT=0)
def test_a_case_captured_before_the_decision_needs_no_reveal_afterwards(analyst) -> None:
    first = make_case([picture(31), picture(32)])
    # Captured before case 1 was decided: same first picture, a re-encoded second one.
    second = make_case([picture(31), reencoded(32)])
    assert not Match.objects.exists()
    client = verified_client(analyst)
    decide_by_looking(client, first)
    assert Reveal.objects.filter(case=first).count() == 2
    own_list_and_rematch()
    second.refresh_from_db()
    assert second.suggested_uk_category == "A"
    assert second.priority == Priority.KNOWN_MATCH
    assert second.matched_media_count == 2
    decide_without_looking(client, second, graded_in=first.pk)
    assert Reveal.objects.filter(case=second).count() == 0
    grades = MediaGrade.objects.filter(case=second)
    assert grades.count() == 2 and {g.via for g in grades} == {Via.KNOWN_MATCH}
    second.refresh_from_db()
    assert second.state == CaseState.AWAITING_ACTION
    assert Decision.objects.filter(case=second, criminal=True).exists()


@override_settings(QA_SHARE_PERCENT=0)
def test_a_case_captured_after_the_decision_says_where_it_was_graded(analyst) -> None:
    first = make_case([picture(33)])
    client = verified_client(analyst)
    decide_by_looking(client, first)
    own_list_and_rematch()
    entry = ListEntry.objects.get(hash_list__name="own-grading")
    # The entry carries the whole grade and where it came from (the case's number only).
    assert (entry.grade, entry.age_band, entry.uk_category) == ("penetrative", "7-10", "A")
    assert (entry.interpol_baseline, entry.vics_category) == (True, 1)
    assert entry.provenance.startswith(f"case {first.pk}, decision ")
    assert entry.source_media_id is not None
    second = make_case([reencoded(33)])
    decide_without_looking(client, second, graded_in=first.pk)
    assert Reveal.objects.filter(case=second).count() == 0


def test_an_imported_police_list_pre_grades_open_cases_at_once(analyst) -> None:
    case = make_case([picture(34), picture(35)])
    known_list([picture(34)], grade="non_penetrative", age_band="3-6")
    client = verified_client(analyst)
    hold(client, case)
    assert "pre-graded" not in screen(client, case)  # the worker has not run yet
    done = run_due_tasks("signals.tasks")
    assert done == ["police-known: 1 media of 1 open case(s) matched again"]
    case.refresh_from_db()
    assert (case.suggested_grade, case.priority) == ("non_penetrative", Priority.KNOWN_MATCH)
    page = screen(client, case)
    known = [g for g in groups(page) if 'data-known="1"' in g]
    assert len(known) == 1 and "Known: police-known" in known[0]
    assert "graded in" not in known[0]  # another source's entry names no case of ours
