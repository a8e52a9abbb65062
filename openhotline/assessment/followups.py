"""What follows a decision, as background steps that take ids and are safe to run twice:
telling reporters the outcome, and putting confirmed grades into the own hash list."""

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from openhotline.assessment.decisions import final_grades
from openhotline.assessment.groups import provenance
from openhotline.assessment.models import Decision, OutcomeMessage
from openhotline.audit.services import record
from openhotline.cases.outcomes import public_outcome
from openhotline.core.redaction import mail_failure_reason
from openhotline.core.secretbox import open_sealed
from openhotline.intake.models import Report
from openhotline.intake.services import CONTACT_PURPOSE
from openhotline.signals.lists import import_records
from openhotline.signals.models import HashList, ListEntry, ListSource, MediaHash
from openhotline.signals.records import EntryRecord, FieldError, RecordErrors, build_record

logger = logging.getLogger(__name__)


def closure_reason_of(case_id: int) -> str:
    """The closure reason of the case's latest decision ("" if none or criminal)."""
    latest = Decision.objects.filter(case_id=case_id).order_by("-decided_at", "-id").first()
    return latest.closure_reason if latest is not None else ""


def tell_reporters(decision_id: int) -> str:
    """Send the outcome to every reporter of the case who left contact details: once per
    report and decision. A failed send is kept with its problem and raised, so the task
    is retried; those already sent are not sent again."""
    decision = Decision.objects.select_related("case").get(pk=decision_id)
    reports = Report.objects.filter(
        items__case=decision.case, contact_sealed__isnull=False
    ).distinct()
    sent = failed = 0
    for report in reports:
        message, _created = OutcomeMessage.objects.get_or_create(report=report, decision=decision)
        if message.sent_at is not None:
            continue
        try:
            _send_outcome(report, decision)
        except _NotSent as failure:  # any mail failure: keep it, carry on, fail the task
            failed += 1
            message.problem = failure.reason[:500]
            message.save(update_fields=["problem"])
            logger.warning("outcome to report %s not sent: %s", report.reference, failure.reason)
            continue
        message.sent_at = timezone.now()
        message.problem = ""
        message.save(update_fields=["sent_at", "problem"])
        sent += 1
    if failed:
        raise RuntimeError(f"{failed} outcome message(s) not sent; {sent} sent")
    return f"{sent} outcome message(s) sent"


class _NotSent(Exception):
    """A send failed; `reason` says why without the reporter's address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _send_outcome(report: Report, decision: Decision) -> None:
    """Send, or raise _NotSent: never an exception whose text may hold the address (mail
    servers and smtplib repeat it), nor one chained to such an exception."""
    sealed = report.contact_sealed
    if sealed is None:
        return
    try:
        address = open_sealed(bytes(sealed), purpose=CONTACT_PURPOSE)
    except Exception as exc:  # undecryptable: the address is not known, nothing to hide
        raise _NotSent(f"the contact could not be unsealed ({type(exc).__name__})") from None
    try:
        _mail_outcome(report, decision, address)
    except Exception as exc:
        raise _NotSent(mail_failure_reason(exc, address)) from None


def _mail_outcome(report: Report, decision: Decision, address: str) -> None:
    with translation.override(report.language or settings.LANGUAGE_CODE):
        outcome = public_outcome(decision.case.state, decision.closure_reason)
        subject = _("Your report %(reference)s") % {"reference": report.reference}
        body = "\n\n".join(
            [
                _("Thank you for your report %(reference)s to %(hotline)s.")
                % {"reference": report.reference, "hotline": settings.HOTLINE_NAME},
                outcome,
                _("This message does not describe what we found, and you do not need to reply."),
            ]
        )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


def own_list() -> HashList:
    hash_list, _ = HashList.objects.get_or_create(
        name=settings.OWN_HASH_LIST,
        defaults={
            "source": ListSource.OWN,
            "description": "Media this hotline's analysts graded as criminal",
            # The hotline's own grading is the one list members get without a manager
            # choosing it: every other source starts unshared (issue 14).
            "share_with_members": True,
        },
    )
    return hash_list


def _external_id(media_id: int) -> str:
    return f"openhotline-media-{media_id}"


def confirm_grades(decision_id: int, actor: Any = None) -> str:
    """Put the decision's standing criminal grades into the own hash list, once."""
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision_id)
        if decision.grades_confirmed_at is not None:
            return "already confirmed"
        grades = [g for g in final_grades(decision).values() if g.is_csam]
        hashes: dict[int, dict[str, str]] = {}
        quality: dict[int, int | None] = {}
        for h in MediaHash.objects.filter(media_id__in=[g.media_id for g in grades]).exclude(
            value=""
        ):
            hashes.setdefault(h.media_id, {})[h.hash_type] = h.value
            if h.hash_type == "pdq":
                quality[h.media_id] = h.quality
        rows: list[tuple[str, EntryRecord | None, list[FieldError]]] = []
        for grade in grades:
            where = f"media {grade.media_id}"
            try:
                entry = build_record(
                    {
                        **hashes.get(grade.media_id, {}),
                        "external_id": _external_id(grade.media_id),
                        "grade": grade.grade,
                        "age_band": grade.age_band or None,
                        "non_photographic": grade.non_photographic,
                        "first_seen": grade.media.first_seen_at.date().isoformat(),
                        "provenance": provenance(decision.case_id, decision.pk),
                        "pdq_quality": quality.get(grade.media_id),
                    }
                )
            except RecordErrors as exc:
                rows.append((where, None, exc.errors))
                continue
            rows.append((where, entry, []))
        hash_list = own_list()
        # Landing the entries queues the re-match of open cases holding the same media
        # (signals.rematch): they show pre-graded, "graded in case #N".
        summary = import_records(hash_list, rows, source="assessment", actor=actor)
        for grade in grades:  # the media each entry was graded from (a few per case)
            ListEntry.objects.filter(
                hash_list=hash_list, external_id=_external_id(grade.media_id)
            ).update(source_media_id=grade.media_id)
        decision.grades_confirmed_at = timezone.now()
        decision.save(update_fields=["grades_confirmed_at"])
        record(
            "assessment.grades_confirmed",
            actor=actor,
            obj=decision,
            data={"list": settings.OWN_HASH_LIST, **summary.as_dict()},
        )
    return f"{summary.landed} entr(y/ies) in {settings.OWN_HASH_LIST}"
