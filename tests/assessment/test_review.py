"""Quality assurance: blind review, disagreement, a manager's resolution, agreement."""

import re

import pytest
from django.test import Client, override_settings

from openhotline.assessment.agreement import by_analyst, kappa, percent
from openhotline.assessment.models import AssessorProfile, Decision, MediaGrade, Review
from openhotline.audit.models import AuditEvent
from openhotline.cases.models import CaseState
from openhotline.signals.models import ListEntry
from tests.assessment.factory import make_case, picture
from tests.assessment.test_case_screen import DECIDE, GRADE_A, HTMX, claim, lead_ids, reveal
from tests.conftest import make_user, verified_client
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db


def decided_case(analyst, grades: list[dict], notes: str = "") -> tuple[Decision, list[int]]:
    case = make_case([picture(10 + i) for i in range(len(grades))])
    client = verified_client(analyst)
    claim(client)
    leads = lead_ids(client, case.pk)
    for lead, data in zip(leads, grades, strict=True):
        reveal(client, case.pk, lead)
        client.post(f"/staff/assess/cases/{case.pk}/media/{lead}/grade/", data, headers=HTMX)
    response = client.post(f"/staff/assess/cases/{case.pk}/decide/", {**DECIDE, "notes": notes})
    assert response.status_code == 302, response.content
    return Decision.objects.get(case=case), leads


def review_grade(client: Client, review: Review, lead: int, data: dict) -> None:
    base = f"/staff/qa/{review.pk}/cases/{review.decision.case_id}/media/{lead}"
    assert client.post(f"{base}/reveal/", headers=HTMX).status_code == 200
    assert client.post(f"{base}/grade/", data, headers=HTMX).status_code == 200


@override_settings(QA_SHARE_PERCENT=0)
def test_an_analyst_in_training_has_every_decision_reviewed(analyst) -> None:
    AssessorProfile.objects.create(user=analyst, in_training=True)
    decision, _ = decided_case(analyst, [GRADE_A])
    assert decision.qa == "training" and decision.review.state == "pending"


@override_settings(QA_SHARE_PERCENT=100)
def test_blind_review_that_agrees_confirms_the_grades(analyst, qa_reviewer) -> None:
    decision, leads = decided_case(analyst, [GRADE_A])
    review = decision.review
    # Nobody reviews their own decision.
    own = verified_client(analyst).post(f"/staff/qa/{review.pk}/start/")
    assert own.status_code == 403  # analysts are not reviewers at all
    client = verified_client(qa_reviewer)
    assert client.post(f"/staff/qa/{review.pk}/start/").status_code == 302
    page = client.get(f"/staff/qa/{review.pk}/").content.decode()
    # Blind: the first grade is not on the page.
    assert "Graded:" not in page and "Blind QA review" in page
    review_grade(client, review, leads[0], GRADE_A)
    response = client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "yes"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == "agreed" and review.differences == []
    run_due_tasks("assessment")
    assert ListEntry.objects.filter(hash_list__name="own-grading").count() == 1


@override_settings(QA_SHARE_PERCENT=100)
def test_a_disagreement_goes_to_a_manager_and_both_grades_are_kept(
    analyst, qa_reviewer, manager
) -> None:
    decision, leads = decided_case(analyst, [GRADE_A, {"grade": "adult"}])
    review = decision.review
    client = verified_client(qa_reviewer)
    client.post(f"/staff/qa/{review.pk}/start/")
    review_grade(client, review, leads[0], {"grade": "sexual_posing", "age_band": "11-13"})
    review_grade(client, review, leads[1], {"grade": "adult"})
    client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "yes"})
    review.refresh_from_db()
    assert review.state == "disputed"
    assert review.differences == [
        {
            "media": leads[0],
            "fields": ["category", "age_band"],
            "first": "UK A · Penetrative sexual activity · 7-10",
            "second": "UK C · Sexual posing or focus on genitals · 11-13",
        }
    ]
    # The QA reviewer cannot resolve their own disagreement; a manager can.
    assert client.get(f"/staff/qa/{review.pk}/resolve/").status_code == 403
    boss = verified_client(manager)
    page = boss.get(f"/staff/qa/{review.pk}/resolve/").content.decode()
    assert "UK A · Penetrative" in page and "UK C · Sexual posing" in page
    missing = boss.post(f"/staff/qa/{review.pk}/resolve/", {"final_criminal": "yes"})
    assert missing.status_code == 422 and b"Choose which grade stands" in missing.content
    done = boss.post(
        f"/staff/qa/{review.pk}/resolve/",
        {f"media-{leads[0]}": "qa", "final_criminal": "yes", "notes": "posing, older child"},
    )
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.state == "resolved" and review.resolved_by == manager
    stages = MediaGrade.objects.filter(media_id=leads[0]).values_list("stage", "uk_category")
    assert sorted(stages) == [("first", "A"), ("qa", "C"), ("resolved", "C")]
    run_due_tasks("assessment")
    entry = ListEntry.objects.get(hash_list__name="own-grading")
    assert entry.uk_category == "C" and entry.age_band == "11-13"
    assert AuditEvent.objects.filter(action="assessment.resolved").exists()


@override_settings(QA_SHARE_PERCENT=100)
def test_a_resolution_that_finds_nothing_criminal_closes_the_case(
    analyst, qa_reviewer, manager
) -> None:
    decision, leads = decided_case(analyst, [GRADE_A])
    review = decision.review
    client = verified_client(qa_reviewer)
    client.post(f"/staff/qa/{review.pk}/start/")
    review_grade(client, review, leads[0], {"grade": "innocent"})
    client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "no"})
    boss = verified_client(manager)
    boss.post(
        f"/staff/qa/{review.pk}/resolve/",
        {f"media-{leads[0]}": "qa", "final_criminal": "no", "closure_reason": "not_csam"},
    )
    decision.refresh_from_db()
    assert decision.case.state == CaseState.CLOSED and decision.closure_reason == "not_csam"


def test_kappa_and_percent_agreement() -> None:
    assert kappa([]) is None and percent([]) is None
    assert kappa([("A", "A"), ("B", "B")]) == 1.0
    assert kappa([("A", "A"), ("A", "A")]) == 1.0
    # Textbook example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → kappa 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert kappa(pairs) == pytest.approx(0.4)
    assert percent(pairs) == pytest.approx(70.0)


@override_settings(QA_SHARE_PERCENT=100)
def test_agreement_figures_per_analyst_on_the_manager_page(analyst, qa_reviewer, manager) -> None:
    decision, leads = decided_case(analyst, [GRADE_A, {"grade": "adult"}])
    review = decision.review
    client = verified_client(qa_reviewer)
    client.post(f"/staff/qa/{review.pk}/start/")
    review_grade(client, review, leads[0], GRADE_A)
    review_grade(client, review, leads[1], {"grade": "innocent"})
    client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "yes"})
    (row,) = by_analyst()
    assert row.analyst == "alice-analyst" and row.reviews == 1
    assert row.category.n == 2 and row.category.percent == 100.0
    assert row.age_band.n == 1 and row.age_band.kappa == 1.0
    page = verified_client(manager).get("/staff/qa/agreement/").content.decode()
    assert re.search(r'data-analyst="alice-analyst"', page)
    assert "100.0%" in page
    assert verified_client(qa_reviewer).get("/staff/qa/agreement/").status_code == 403


def test_a_manager_sets_full_qa_for_a_period(manager, analyst) -> None:
    boss = verified_client(manager)
    response = boss.post(f"/staff/qa/analysts/{analyst.pk}/", {"full_qa_until": "2099-01-31"})
    assert response.status_code == 302
    until = AssessorProfile.objects.get(user=analyst).full_qa_until
    assert until is not None and until.year == 2099
    bad = boss.post(f"/staff/qa/analysts/{analyst.pk}/", {"full_qa_until": "next week"})
    assert bad.status_code == 302
    assert AssessorProfile.objects.get(user=analyst).full_qa_until == until
    assert make_user("x-analyst", "analyst") is not None


@override_settings(QA_SHARE_PERCENT=100)
def test_nobody_reviews_their_own_decision(manager, qa_reviewer) -> None:
    decision, _ = decided_case(manager, [GRADE_A])
    review = decision.review
    boss = verified_client(manager)
    # Not offered, and refused when asked for directly, with an audit event.
    assert f"Review case #{decision.case_id}" not in boss.get("/staff/qa/").content.decode()
    response = boss.post(f"/staff/qa/{review.pk}/start/")
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == "pending" and review.reviewer is None
    assert AuditEvent.objects.filter(action="assessment.refused", actor=manager.username).exists()
    assert (
        f"Review case #{decision.case_id}"
        in verified_client(qa_reviewer).get("/staff/qa/").content.decode()
    )
