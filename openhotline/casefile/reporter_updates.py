"""Telling reporters where their report stands as its cases move: assessed (criminal or
not), action taken, removed. Only reporters who left contact details hear, by mail, in
the report's language; each stage once per report (a row per report, decision, stage
and occasion), however often the step runs. One mail covers every case of a report that
moved since the last: it lists each address's outcome by its position in the report,
never the address, the host or anything about the content.

Decisions queue this at once; a notice sent or a removal confirmed queue it
REPORTER_UPDATE_DELAY_SECONDS later, so the cases of one report that move within that
time make one mail."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from openhotline.assessment.models import OutcomeMessage
from openhotline.casefile.outcomes import NEWS, PublicOutcome, public_outcome
from openhotline.core.redaction import mail_failure_reason
from openhotline.core.secretbox import open_sealed
from openhotline.intake.models import Report
from openhotline.intake.services import CONTACT_PURPOSE

logger = logging.getLogger(__name__)

# A claim this old was left by a worker that died before the mail server answered: the
# next run may take the rows again (the mail may then come twice; never zero times).
CLAIM_SECONDS = 600


class NotSent(Exception):
    """A send failed; `reason` says why without the reporter's address."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _News:
    report: Report
    rows: list[int]
    # (position in the report, outcome in the report's language) for every address.
    outcomes: list[tuple[int, PublicOutcome]]


def reports_to_tell(case_id: int) -> list[int]:
    return list(
        Report.objects.filter(items__case_id=case_id, contact_sealed__isnull=False)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def tell_reporters_of_case(case_id: int) -> str:
    """Tell every reporter of the case who left contact details what is new. A failed
    send is kept with its problem (never the address) and raised once the others were
    tried, so the task is retried; those told are not told again."""
    sent = failed = 0
    for report_id in reports_to_tell(case_id):
        try:
            sent += tell_report(report_id)
        except NotSent as failure:
            failed += 1
            logger.warning("outcome to report %s not sent: %s", report_id, failure.reason)
    if failed:
        raise RuntimeError(f"{failed} outcome message(s) not sent; {sent} sent")
    return f"{sent} outcome message(s) sent"


def tell_report(report_id: int) -> int:
    """Send the report's news in one mail; 1 if a mail went, 0 if nothing was new."""
    news = _claim_news(report_id)
    if news is None:
        return 0
    rows = OutcomeMessage.objects.filter(pk__in=news.rows)
    try:
        _send(news)
    except NotSent as failure:
        rows.update(problem=failure.reason[:500], claimed_at=None)
        raise
    rows.update(sent_at=timezone.now(), problem="")
    return 1


def _claim_news(report_id: int) -> _News | None:
    """Record the stages of the report's cases that are news, and claim every row not yet
    told (committed before any mail server is asked, so two workers never both send)."""
    now = timezone.now()
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.contact_sealed is None:
            return None
        items = report.items.select_related("case").order_by("position")
        with translation.override(report.language or settings.LANGUAGE_CODE):
            outcomes = [(item.position, public_outcome(item.case)) for item in items]
        keys = {
            (o.decision_id, o.stage, o.occasion)
            for _position, o in outcomes
            if o.stage in NEWS and o.decision_id is not None
        }
        OutcomeMessage.objects.bulk_create(
            [
                OutcomeMessage(report=report, decision_id=d, stage=s, occasion=n)
                for d, s, n in sorted(keys)
            ],
            ignore_conflicts=True,
        )
        free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS))
        untold = OutcomeMessage.objects.filter(report=report, sent_at__isnull=True).filter(free)
        # A conditional update: of two workers, the second finds the rows taken.
        claimed = list(untold.values_list("pk", flat=True))
        if not claimed:
            return None
        taken = OutcomeMessage.objects.filter(pk__in=claimed).filter(free).update(claimed_at=now)
        if taken != len(claimed):
            return None
    return _News(report, claimed, outcomes)


def _send(news: _News) -> None:
    """Send, or raise NotSent: never an exception whose text may hold the address (mail
    servers and smtplib repeat it), nor one chained to such an exception."""
    sealed = news.report.contact_sealed
    try:
        address = open_sealed(bytes(sealed or b""), purpose=CONTACT_PURPOSE)
    except Exception as exc:  # undecryptable: the address is not known, nothing to hide
        raise NotSent(f"the contact could not be unsealed ({type(exc).__name__})") from None
    subject, body = compose(news.report, news.outcomes)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception as exc:
        raise NotSent(mail_failure_reason(exc, address)) from None


def compose(report: Report, outcomes: list[tuple[int, PublicOutcome]]) -> tuple[str, str]:
    """The mail's subject and text in the report's language: the outcome of each address
    by its position (one address: the outcome alone)."""
    with translation.override(report.language or settings.LANGUAGE_CODE):
        subject = _("Your report %(reference)s") % {"reference": report.reference}
        if len(outcomes) == 1:
            lines = [outcomes[0][1].text]
        else:
            lines = [
                _("Address %(position)d in your report: %(outcome)s")
                % {"position": position, "outcome": outcome.text}
                for position, outcome in outcomes
            ]
        body = "\n\n".join(
            [
                _("Thank you for your report %(reference)s to %(hotline)s.")
                % {"reference": report.reference, "hotline": settings.HOTLINE_NAME},
                _("Here is where it stands now."),
                *lines,
                _("This message does not describe what we found, and you do not need to reply."),
            ]
        )
    return subject, body
