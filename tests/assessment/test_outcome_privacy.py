"""A mail server that refuses a reporter's address must not make us write it down: not in
the outcome row, not in the task's stored result, not in the log (issue 14, item 4)."""

import asyncio
import logging
import smtplib
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import serializers
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django_tasks_db.models import DBTaskResult

from openhotline.assessment.models import Decision, OutcomeMessage
from openhotline.casefile.tasks import tell_reporters_task
from openhotline.cases.models import Case
from openhotline.core.redaction import mail_failure_reason, redact
from openhotline.intake.models import ReportItem
from openhotline.simnet.smtp import _BoundController
from tests.assessment.factory import make_case, picture
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

REPORTER = "Jo.Reporter@private-mail.test"
LOCAL_PART = "jo.reporter"


class _RefuseEveryone:
    """Answers RCPT TO as a real exchanger does for an unknown user: with the address."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown ({address})"


@pytest.fixture
def refusing_smtp(settings: Any) -> Iterator[None]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    controller = _BoundController(
        sock, _RefuseEveryone(), server_hostname="mx.test", loop=asyncio.new_event_loop()
    )
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": sock.getsockname()[1], "timeout": 10},
        }
    }
    try:
        yield
    finally:
        controller.stop()
        sock.close()


def decided_case_with_a_reporter(analyst: Any) -> Decision:
    Client().post("/report/", {"urls": "http://refused.test/x", "contact": REPORTER})
    reported = Case.objects.get(url="http://refused.test/x")
    case = make_case([picture(11)], url="http://refused-captured.test/")
    ReportItem.objects.filter(case=reported).update(case=case)
    Case.objects.filter(pk=case.pk).update(state="closed")
    return Decision.objects.create(
        case=case, analyst=analyst, criminal=False, mapping="uk",
        closure_reason="unavailable", site_type="website",
    )  # fmt: skip


def our_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged, but the test mail server's own conversation log (aiosmtpd)."""
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("mail.log")
    )


def assert_no_trace_of_the_reporter(text: str) -> None:
    lowered = text.lower()
    assert REPORTER.lower() not in lowered
    assert LOCAL_PART not in lowered
    assert "private-mail" not in lowered


def test_a_refused_address_is_kept_nowhere(
    analyst: Any, refusing_smtp: None, caplog: pytest.LogCaptureFixture
) -> None:
    decision = decided_case_with_a_reporter(analyst)
    tell_reporters_task.enqueue(decision.pk)
    with caplog.at_level(logging.DEBUG):
        results = run_due_tasks("tell_reporters", rounds=1)
    assert "trying again" in results[0]  # the refusal was met, and a retry queued
    message = OutcomeMessage.objects.get(decision=decision)
    assert message.sent_at is None
    # The reason survives, with the server's code and words but not the address.
    assert message.problem.startswith("recipient refused (550 5.1.1 <address>")
    assert "User unknown" in message.problem
    assert_no_trace_of_the_reporter(message.problem)
    rows = DBTaskResult.objects.filter(task_path__endswith="tell_reporters_task")
    assert rows.count() == 2  # the run, and its retry
    assert_no_trace_of_the_reporter(serializers.serialize("json", rows))
    assert "not sent" in our_log(caplog)
    assert_no_trace_of_the_reporter(our_log(caplog))


def test_a_task_that_gives_up_stores_no_address(
    analyst: Any, refusing_smtp: None, caplog: pytest.LogCaptureFixture
) -> None:
    decision = decided_case_with_a_reporter(analyst)
    with caplog.at_level(logging.DEBUG):
        result = tell_reporters_task.call(decision.pk, 99)
    assert result.startswith("gave up after 99 attempts")
    assert_no_trace_of_the_reporter(result + our_log(caplog))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            smtplib.SMTPRecipientsRefused({REPORTER: (550, b"5.1.1 <" + REPORTER.encode() + b">")}),
            "recipient refused (550 5.1.1 <address>)",
        ),
        (
            smtplib.SMTPDataError(554, b"5.7.1 message to jo.reporter rejected"),
            "server said (554 5.7.1 message to <address> rejected)",
        ),
        (
            ValueError(f"Invalid address; only {REPORTER}\n could be parsed"),
            "ValueError: Invalid address; only <address>\n could be parsed",
        ),
        (
            smtplib.SMTPServerDisconnected("connection lost"),
            "SMTPServerDisconnected: connection lost",
        ),
    ],
)
def test_failure_reasons_keep_the_why_and_drop_the_who(exc: Exception, expected: str) -> None:
    assert mail_failure_reason(exc, REPORTER) == expected


def test_redaction_takes_whole_words_only() -> None:
    # A one-letter local part must not eat the letters of the server's words.
    assert (
        redact("mailbox a is full at a@b.test", "a@b.test")
        == "mailbox <address> is full at <address>"
    )
    assert redact("quota exceeded", "a@b.test") == "quota exceeded"


@pytest.mark.django_db(transaction=True)
def test_reasons_written_before_the_fix_are_scrubbed_by_the_migration(analyst: Any) -> None:
    decision = decided_case_with_a_reporter(analyst)
    report = ReportItem.objects.filter(case=decision.case).first().report  # type: ignore[union-attr]
    OutcomeMessage.objects.create(
        report=report,
        decision=decision,
        problem=f"{{'{REPORTER}': (550, b'5.1.1 <{REPORTER}>: User unknown')}}",
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("assessment", "0001_initial")])
    executor.loader.build_graph()
    executor.migrate([("assessment", "0002_scrub_outcome_problems")])
    # Back to today's schema: later migrations exist, and later tests need them.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    problem = OutcomeMessage.objects.get(decision=decision).problem
    assert LOCAL_PART not in problem.lower() and "private-mail" not in problem
    assert problem.endswith("SMTP 550")
