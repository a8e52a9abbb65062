"""Re-sealing reporter contacts under the current master key (part of key rotation)."""

from openhotline.core.secretbox import open_sealed, seal, sealed_with_current
from openhotline.intake.models import Report
from openhotline.intake.services import CONTACT_PURPOSE


def reseal_contacts() -> int:
    count = 0
    for report in Report.objects.exclude(contact_sealed=None).only("pk", "contact_sealed"):
        sealed = bytes(report.contact_sealed or b"")
        if sealed_with_current(sealed, purpose=CONTACT_PURPOSE):
            continue
        contact = open_sealed(sealed, purpose=CONTACT_PURPOSE)
        Report.objects.filter(pk=report.pk).update(
            contact_sealed=seal(contact, purpose=CONTACT_PURPOSE)
        )
        count += 1
    return count
