"""The first capture of a new case may wait a random time, so a site's operator cannot
tell from an immediate visit who reported a link only they received.

GIVEN OPENHOTLINE_FIRST_CAPTURE_DELAY_SECONDS=600,900
WHEN  a report opens a case
THEN  its capture task is due between 10 and 15 minutes later, not at once; a person's
      recapture and a retry keep their own timing.
"""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from openhotline.cases.models import Case
from openhotline.evidence.services import first_capture_delay, request_capture
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def report(url: str) -> Case:
    response = Client().post(
        "/api/v1/reports", json.dumps({"urls": [url]}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return Case.objects.get(report_items__report__reference=response.json()["reference"])


def due_of(capture_id: int) -> datetime | None:
    """When the capture's task may run; None for "at once" (the backend stores 9999)."""
    run_after: datetime = DBTaskResult.objects.get(args_kwargs__args=[capture_id]).run_after
    return None if run_after.year == 9999 else run_after


def test_the_first_capture_of_a_new_case_waits_a_random_time_in_the_range(settings) -> None:
    settings.FIRST_CAPTURE_DELAY_SECONDS = (600, 900)
    before = timezone.now()
    cases = [report(f"http://gallery-one.test/albums/{n}") for n in range(8)]
    after = timezone.now()
    dues = [due_of(case.captures.get().pk) for case in cases]
    for due in dues:
        assert due is not None
        assert before + timedelta(seconds=600) <= due <= after + timedelta(seconds=900)
    assert len({due for due in dues}) > 1  # random, not one fixed offset


def test_by_default_the_first_capture_is_queued_at_once() -> None:
    case = report("http://gallery-one.test/albums/now")
    assert due_of(case.captures.get().pk) is None


def test_a_persons_recapture_and_a_retry_keep_their_own_timing(settings, analyst) -> None:
    settings.FIRST_CAPTURE_DELAY_SECONDS = (600, 900)
    case = Case.objects.create(kind="url", url="http://gallery-one.test/albums/old")
    response = verified_client(analyst).post(f"/staff/cases/{case.pk}/recapture/", {})
    assert response.status_code == 302
    assert due_of(case.captures.get().pk) is None  # asked for by a person: at once
    retry = request_capture(case, attempt=2, delay_seconds=60)
    due = due_of(retry.pk)
    assert due is not None and due <= timezone.now() + timedelta(seconds=60)


def test_the_delay_is_drawn_within_its_bounds(settings) -> None:
    settings.FIRST_CAPTURE_DELAY_SECONDS = (5, 7)
    assert {first_capture_delay() for _ in range(200)} == {5, 6, 7}
    settings.FIRST_CAPTURE_DELAY_SECONDS = (0, 0)
    assert first_capture_delay() == 0


@pytest.mark.parametrize("value", ["900,60", "ten,20", "5", "1,2,3", "-5,10"])
def test_a_bad_range_stops_the_platform_with_a_reason(value: str) -> None:
    env = {**os.environ, "OPENHOTLINE_FIRST_CAPTURE_DELAY_SECONDS": value}
    result = subprocess.run(
        [sys.executable, "-c", "import openhotline.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "OPENHOTLINE_FIRST_CAPTURE_DELAY_SECONDS" in result.stderr
    assert "min,max" in result.stderr
