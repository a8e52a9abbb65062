"""Many people reporting the same address at once make one case with every report on it."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from openhotline.cases.models import Case
from openhotline.evidence.models import Capture
from openhotline.intake.models import ReportItem

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_reports_of_one_url_meet_on_one_case() -> None:
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def send(n: int) -> None:
        barrier.wait()
        try:
            response = Client().post(
                "/api/v1/reports",
                json.dumps({"urls": ["http://same.test/page", f"http://own.test/{n}"]}),
                content_type="application/json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 6
    case = Case.objects.get(url="http://same.test/page")
    assert case.report_count == 6 and ReportItem.objects.filter(case=case).count() == 6
    assert Case.objects.count() == 7
    # Exactly one capture was queued for the shared case.
    assert Capture.objects.filter(case=case).count() == 1
    assert case.transitions.count() == 1


def test_reports_naming_urls_in_opposite_orders_do_not_deadlock() -> None:
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def send(n: int) -> None:
        urls = [f"http://a-{n % 2}.test/x", "http://b.test/x", "http://c.test/x"]
        barrier.wait()
        try:
            response = Client().post(
                "/api/v1/reports",
                json.dumps({"urls": urls if n % 2 else list(reversed(urls))}),
                content_type="application/json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 8
    assert Case.objects.get(url="http://b.test/x").report_count == 8
    # Positions still follow what each reporter typed.
    first = ReportItem.objects.filter(position=1).values_list("case__url", flat=True)
    assert set(first) <= {"http://a-0.test/x", "http://a-1.test/x", "http://c.test/x"}
