"""Analysts claiming at the same moment never get the same case (run on SQLite and on
PostgreSQL; `.ci/run` runs both)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from openhotline.assessment import queue
from openhotline.assessment.models import Claim
from openhotline.cases.models import Case, CaseKind, CaseState
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)

ANALYSTS = 8
CASES = 20


def test_simultaneous_claims_hand_out_each_case_once() -> None:
    """GIVEN 20 waiting cases and 8 analysts
    WHEN all claim at the same instant, each then finishing and claiming again until the
         queue is empty
    THEN every case was handed out exactly once."""
    for n in range(CASES):
        Case.objects.create(
            kind=CaseKind.URL, url=f"http://c{n}.test/", host=f"c{n}.test",
            state=CaseState.CAPTURED,
        )  # fmt: skip
    users = [make_user(f"analyst-{n}", "analyst") for n in range(ANALYSTS)]
    barrier = threading.Barrier(ANALYSTS)
    handed: list[int] = []
    failures: list[BaseException] = []

    def work(user: object) -> None:
        try:
            barrier.wait()
            while True:
                case = queue.claim_next(user)
                if case is None:
                    return
                handed.append(case.pk)
                # "Decide" it: the case leaves the queue and the claim goes.
                Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED)
                Claim.objects.filter(case=case).delete()
        except BaseException as exc:  # report in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    counts = Counter(handed)
    assert sorted(counts) == sorted(Case.objects.values_list("pk", flat=True))
    assert set(counts.values()) == {1}


def test_simultaneous_claims_of_one_named_case_let_exactly_one_in() -> None:
    case = Case.objects.create(
        kind=CaseKind.URL, url="http://one.test/", host="one.test", state=CaseState.CAPTURED
    )
    users = [make_user(f"analyst-{n}", "analyst") for n in range(ANALYSTS)]
    barrier = threading.Barrier(ANALYSTS)
    outcomes: list[str] = []

    def work(user: object) -> None:
        try:
            barrier.wait()
            queue.claim_case(case, user)
            outcomes.append("won")
        except queue.ClaimRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * (ANALYSTS - 1) + ["won"]
    assert Claim.objects.filter(case=case).count() == 1
