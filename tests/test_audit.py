"""The audit log is append-only and hash-chained; any alteration is found and named."""

import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from openhotline.audit.chain import verify_chain
from openhotline.audit.models import AppendOnlyError, AuditEvent
from openhotline.audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_events() -> list[AuditEvent]:
    return [record("test.event", actor=None, obj=None, data={"n": n}) for n in range(5)]


def test_each_event_carries_the_previous_digest(five_events: list[AuditEvent]) -> None:
    assert five_events[0].prev_digest == "0" * 64
    for before, after in itertools.pairwise(five_events):
        assert after.prev_digest == before.digest
    assert verify_chain() == (5, None)
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact: 5 events" in out.getvalue()


def test_the_orm_refuses_to_change_or_delete_events(five_events: list[AuditEvent]) -> None:
    event = five_events[0]
    event.action = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_altered_event_is_named(five_events: list[AuditEvent]) -> None:
    raw("UPDATE audit_auditevent SET data = %s WHERE seq = 3", ['{"n": 99}'])
    problem = verify_chain()[1]
    assert problem is not None and problem.seq == 3
    with pytest.raises(CommandError, match="broken at event 3: content was altered"):
        call_command("audit_verify", stdout=StringIO())


def test_a_deleted_event_is_named(five_events: list[AuditEvent]) -> None:
    raw("DELETE FROM audit_auditevent WHERE seq = 2", [])
    with pytest.raises(CommandError, match="broken at event 2: event 2 is missing"):
        call_command("audit_verify", stdout=StringIO())


def test_deleting_the_newest_events_is_noticed(five_events: list[AuditEvent]) -> None:
    raw("DELETE FROM audit_auditevent WHERE seq >= 4", [])
    with pytest.raises(CommandError, match="broken at event 4: the log ends at 3 but 5"):
        call_command("audit_verify", stdout=StringIO())


def test_a_recomputed_digest_still_breaks_the_link(five_events: list[AuditEvent]) -> None:
    from openhotline.audit.chain import digest_of

    forged = AuditEvent.objects.get(seq=2)
    forged.data = {"n": 42}
    raw(
        "UPDATE audit_auditevent SET data = %s, digest = %s WHERE seq = 2",
        ['{"n": 42}', digest_of(forged)],
    )
    problem = verify_chain()[1]
    assert problem is not None and problem.seq == 3
    assert "previous event" in problem.reason


def test_case_changes_and_reports_are_recorded(client, analyst) -> None:
    from openhotline.cases.models import Case, CaseState
    from openhotline.cases.services import transition

    client.post("/report/", {"urls": "http://audited.test/"})
    assert AuditEvent.objects.filter(action="report.accepted").count() == 1
    case = Case.objects.get()
    transition(case, CaseState.RECEIVED, actor=analyst, reason="re-opened for test")
    event = AuditEvent.objects.get(action="case.transition")
    assert event.actor == analyst.username and event.object_id == str(case.pk)
    assert verify_chain()[1] is None
