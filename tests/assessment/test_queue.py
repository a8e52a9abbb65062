"""The queue: priority from data, exclusive claims that lapse, skips with reasons."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from openhotline.assessment import queue
from openhotline.assessment.models import Claim, Skip
from openhotline.audit.models import AuditEvent
from openhotline.cases.models import Case, CaseKind, CaseState, Priority
from openhotline.evidence.models import Capture, CaptureState
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def case(
    n: int, *, priority: int = 0, reports: int = 1, age_hours: int = 0, state: str = "captured"
) -> Case:
    return Case.objects.create(
        kind=CaseKind.URL, url=f"http://q{n}.test/", host=f"q{n}.test", state=state,
        priority=priority, report_count=reports,
        created_at=timezone.now() - timedelta(hours=age_hours),
    )  # fmt: skip


def test_the_queue_puts_self_reports_and_victims_first_then_known_then_reports_then_age() -> None:
    old = case(1, age_hours=10)
    busy = case(2, reports=7)
    known = case(3, priority=Priority.KNOWN_MATCH)
    victim = case(4, priority=Priority.CONFIRMED_VICTIM)
    child = case(5, priority=Priority.CHILD_SELF_REPORT)
    new = case(6)
    assert list(queue.waiting()) == [child, victim, known, busy, old, new]


def test_the_order_is_configurable() -> None:
    old = case(1, age_hours=10)
    busy = case(2, reports=7)
    known = case(3, priority=Priority.KNOWN_MATCH)
    with override_settings(QUEUE_ORDER=["age"]):
        assert queue.waiting().first() == old
    with override_settings(QUEUE_ORDER=["reports", "priority"]):
        assert list(queue.waiting())[:2] == [busy, known]


def test_only_cases_ready_for_assessment_are_queued() -> None:
    ready = case(1)
    failed = case(2, state=CaseState.CAPTURE_FAILED)
    case(3, state=CaseState.RECEIVED)  # capture still to come
    case(4, state=CaseState.CLOSED)
    retrying = case(5, state=CaseState.CAPTURE_FAILED)
    Capture.objects.create(
        case=retrying, requested_url="http://q5.test/", state=CaptureState.PENDING
    )
    no_url = Case.objects.create(kind=CaseKind.OTHER)
    assert set(queue.waiting()) == {ready, failed, no_url}


def test_a_claim_is_exclusive_and_the_second_analyst_gets_the_next_case(analyst) -> None:
    first, second = case(1, reports=2), case(2)
    other = make_user("bob-analyst", "analyst")
    assert queue.claim_next(analyst) == first
    assert queue.claim_next(other) == second
    assert queue.claim_next(make_user("cy-analyst", "analyst")) is None
    # Asking again gives the analyst the case they hold, not another.
    assert queue.claim_next(analyst) == first
    with pytest.raises(queue.ClaimRefused, match="alice-analyst is assessing"):
        queue.claim_case(first, other)
    assert AuditEvent.objects.filter(action="case.claimed").count() == 2


def test_an_abandoned_claim_lapses_and_another_analyst_takes_the_case(analyst) -> None:
    only = case(1)
    assert queue.claim_next(analyst) == only
    Claim.objects.filter(case=only).update(expires_at=timezone.now() - timedelta(seconds=1))
    other = make_user("bob-analyst", "analyst")
    assert queue.claim_next(other) == only
    assert Claim.objects.get(case=only).analyst == other
    # The first analyst's old claim is gone: touching it fails.
    assert not queue.holds(only, analyst)


def test_skip_needs_a_reason_releases_and_is_not_offered_again(analyst) -> None:
    first, second = case(1, reports=2), case(2)
    assert queue.claim_next(analyst) == first
    with pytest.raises(ValueError, match="Say why"):
        queue.skip(first, analyst, "   ")
    queue.skip(first, analyst, "I know the site owner")
    assert Skip.objects.get().reason == "I know the site owner"
    assert not Claim.objects.filter(case=first).exists()
    assert queue.claim_next(analyst) == second
    # Someone else is offered the skipped case.
    assert queue.claim_next(make_user("bob-analyst", "analyst")) == first


def test_release_puts_the_case_back(analyst) -> None:
    only = case(1)
    queue.claim_next(analyst)
    assert queue.release(only, analyst)
    assert list(queue.waiting()) == [only]
    assert AuditEvent.objects.filter(action="case.released").exists()
