"""Accepting a report: one transaction, so an acknowledged report is never lost."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.db import transaction

from openhotline.audit.services import record
from openhotline.cases.services import attach_report_to_url, open_other_case
from openhotline.core.secretbox import seal
from openhotline.intake.models import Channel, Portal, Report, ReportItem
from openhotline.intake.validation import CheckedReport

# Crockford-style: no 0/O, 1/I/L, so references read aloud over the phone survive.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CONTACT_PURPOSE = "reporter-contact"
# What new_reference makes; anything else is never looked up.
REFERENCE_PATTERN = re.compile(
    rf"R-[{_REFERENCE_ALPHABET}]{{4}}-[{_REFERENCE_ALPHABET}]{{4}}-[{_REFERENCE_ALPHABET}]{{4}}"
)


@dataclass(frozen=True)
class AcceptedReport:
    report: Report
    status_secret: str


def new_reference() -> str:
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(12))
    return f"R-{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(report: Report, secret: str) -> bool:
    return hmac.compare_digest(report.status_secret_digest, secret_digest(secret))


@transaction.atomic
def accept_report(
    checked: CheckedReport, *, channel: Channel, portal: Portal | None, language: str
) -> AcceptedReport:
    """Store a checked report and the cases it opens or joins."""
    if checked.errors:
        raise ValueError("accept_report needs a report without errors")
    status_secret = secrets.token_urlsafe(24)
    report = Report.objects.create(
        reference=new_reference(),
        status_secret_digest=secret_digest(status_secret),
        channel=channel,
        portal=portal,
        description=checked.description,
        contact_sealed=seal(checked.contact, purpose=CONTACT_PURPOSE) if checked.contact else None,
        language=language[:10],
    )
    opened = []
    if checked.urls:
        items = []
        numbered = list(enumerate(checked.urls, start=1))
        # Lock case rows in one global order (by URL), so two reports naming the same
        # addresses in different orders cannot deadlock; positions keep the typed order.
        for position, (typed, normalised) in sorted(numbered, key=lambda pair: pair[1][1]):
            case, created = attach_report_to_url(normalised, report)
            items.append(ReportItem(report=report, case=case, position=position, submitted=typed))
            if created:
                opened.append(case.pk)
        ReportItem.objects.bulk_create(sorted(items, key=lambda item: item.position))
    else:
        case = open_other_case(report)
        ReportItem.objects.create(report=report, case=case, position=1)
        opened.append(case.pk)
    # Last, so the audit head is locked only for the moment before commit.
    record(
        "report.accepted",
        actor=None,
        obj=report,
        data={"channel": str(channel), "cases": len(checked.urls) or 1, "opened": opened},
    )
    return AcceptedReport(report=report, status_secret=status_secret)
