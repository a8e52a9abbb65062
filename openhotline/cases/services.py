"""Opening cases and moving them between states. Callers hold a transaction."""

from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from openhotline import pipeline
from openhotline.audit.services import record
from openhotline.cases.models import Case, CaseKind, CaseState, CaseTransition
from openhotline.urlnorm import host_of

# One statement opens the case or counts the report on it, atomically under concurrency
# (PostgreSQL and SQLite ≥ 3.35 both speak this). report_count is 1 only on the insert.
_UPSERT = f"""
INSERT INTO {Case._meta.db_table}
    (kind, url, host, state, created_at, last_reported_at, report_count, latest_report_id,
     possibly_disguised)
VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s)
ON CONFLICT (url) DO UPDATE SET
    report_count = {Case._meta.db_table}.report_count + 1,
    last_reported_at = excluded.last_reported_at,
    latest_report_id = excluded.latest_report_id
RETURNING id, report_count
"""  # noqa: S608 (table name from the model, values as parameters)


def attach_report_to_url(normalised_url: str, report: Any) -> tuple[Case, bool]:
    """The case for this URL, opened if new, with the report counted on it."""
    now = timezone.now()
    host = host_of(normalised_url)
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT,
            [CaseKind.URL.value, normalised_url, host, CaseState.RECEIVED.value, now, now,
             report.pk, False],
        )  # fmt: skip
        case_id, report_count = cursor.fetchone()
    created = report_count == 1
    case = Case(
        pk=case_id, kind=CaseKind.URL, url=normalised_url, host=host, created_at=now,
        last_reported_at=now, report_count=report_count, latest_report=report,
    )  # fmt: skip
    case._state.adding = False
    if created:
        _opened(case)
        # In the same transaction: the capture is as durable as the report.
        pipeline.start("capture_case", case)
    return case, created


def open_other_case(report: Any) -> Case:
    """A report with no URL (an app, a newsgroup…) is a case of its own."""
    now = timezone.now()
    case = Case.objects.create(kind=CaseKind.OTHER, created_at=now)
    _count_report(case, report, now)
    _opened(case)
    return case


def _count_report(case: Case, report: Any, now: Any) -> None:
    Case.objects.filter(pk=case.pk).update(
        report_count=F("report_count") + 1, last_reported_at=now, latest_report=report
    )


def _opened(case: Case) -> None:
    CaseTransition.objects.create(
        case=case, from_state="", to_state=CaseState.RECEIVED, reason="reported"
    )


def transition(
    case: Case,
    to_state: CaseState,
    *,
    actor: Any,
    reason: str = "",
    only_from: set[str] | None = None,
) -> bool:
    """Move a case to `to_state`, recorded as a row and an audit event. With `only_from`,
    the move happens only if the case (read under a row lock) is in one of those states,
    so a late or racing step cannot undo a later one. Returns whether it moved."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        from_state = locked.state
        if only_from is not None and from_state not in only_from:
            return False
        locked.state = to_state
        locked.save(update_fields=["state"])
        CaseTransition.objects.create(
            case=locked, from_state=from_state, to_state=to_state, actor=actor, reason=reason
        )
        record(
            "case.transition",
            actor=actor,
            obj=locked,
            data={"from": from_state, "to": str(to_state), "reason": reason},
        )
    case.state = to_state
    return True


def flag_needs_person(case_id: int, why: str, actor: Any = None) -> None:
    """Software cannot go on with this case: say why on the case (the first reason stays
    until a person clears it; later ones are in the audit log)."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case_id)
        if not locked.needs_person:
            locked.needs_person = why[:300]
            locked.save(update_fields=["needs_person"])
        record("case.needs_person", actor=actor, obj=locked, data={"why": why[:500]})


def clear_needs_person(case: Case, actor: Any) -> None:
    """A person has looked at what the software could not do."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        was = locked.needs_person
        locked.needs_person = ""
        locked.save(update_fields=["needs_person"])
        record("case.needs_person_cleared", actor=actor, obj=locked, data={"was": was})
    case.needs_person = ""
