"""`openhotline rotate-master-key`: re-wrap all evidence data keys under the current key.

Rotation: set OPENHOTLINE_MASTER_KEY to the new key and OPENHOTLINE_PREVIOUS_MASTER_KEY to
the old one, restart, run this command (resumable; evidence stays readable throughout),
then remove the previous key. Blobs are never re-encrypted; reporter contacts (small) are
re-sealed.
"""

from typing import Any

from django.core.management.base import BaseCommand

from openhotline.audit.services import record
from openhotline.evidence.sealing import current_master
from openhotline.evidence.store import rewrap_all
from openhotline.intake.rekey import reseal_contacts


class Command(BaseCommand):
    help = "Re-wrap evidence keys (and re-seal reporter contacts) under the current master key."

    def handle(self, *args: Any, **options: Any) -> None:
        rewrapped, current = rewrap_all()
        contacts = reseal_contacts()
        record(
            "evidence.master_key_rotated",
            actor=None,
            obj=None,
            data={"rewrapped": rewrapped, "key_id": current_master().key_id},
        )
        self.stdout.write(
            f"re-wrapped {rewrapped} evidence keys ({current} were already current); "
            f"re-sealed {contacts} reporter contacts"
        )
