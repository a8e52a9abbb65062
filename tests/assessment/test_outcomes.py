"""Outcome mail to reporters: sent once per report and decision, retried when the mail
server refuses, and never lost."""

import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from openhotline.assessment.followups import tell_reporters
from openhotline.assessment.models import Decision, OutcomeMessage
from openhotline.assessment.tasks import tell_reporters_task
from openhotline.cases.models import Case
from openhotline.intake.models import ReportItem
from tests.assessment.factory import make_case, picture

pytestmark = pytest.mark.django_db


def decided_case_with_two_reporters(analyst) -> Decision:
    for address in ("one@example.org", "two@example.org"):
        Client().post("/report/", {"urls": "http://told.test/x", "contact": address})
    Client().post("/report/", {"urls": "http://told.test/x"})  # no contact: told nothing
    reported = Case.objects.get(url="http://told.test/x")
    case = make_case([picture(9)], url="http://told-captured.test/")
    ReportItem.objects.filter(case=reported).update(case=case)
    return Decision.objects.create(
        case=case, analyst=analyst, criminal=False, mapping="uk",
        closure_reason="unavailable", site_type="website",
    )  # fmt: skip


def test_a_refusing_mail_server_is_retried_later_and_nobody_is_told_twice(analyst) -> None:
    decision = decided_case_with_two_reporters(analyst)
    Case.objects.filter(pk=decision.case_id).update(state="closed")
    real_send = mail.send_mail
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(*args, **kwargs)

    with mock.patch("openhotline.assessment.followups.send_mail", flaky):
        result = tell_reporters_task.call(decision.pk)
    assert "trying again" in result
    assert len(mail.outbox) == 1
    failed = OutcomeMessage.objects.get(sent_at__isnull=True)
    assert "connection lost" in failed.problem
    retry = DBTaskResult.objects.get(task_path__endswith="tell_reporters_task")
    assert retry.args_kwargs["args"] == [decision.pk, 2] and retry.run_after is not None
    # The retry tells only the one who was not told.
    assert tell_reporters(decision.pk) == "1 outcome message(s) sent"
    assert sorted(m.to[0] for m in mail.outbox) == ["one@example.org", "two@example.org"]
    assert "could no longer be found" in mail.outbox[1].body
    assert tell_reporters(decision.pk) == "0 outcome message(s) sent"
    assert len(mail.outbox) == 2
