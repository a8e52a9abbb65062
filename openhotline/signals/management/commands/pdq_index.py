"""`openhotline pdq-index check|rebuild`: compare the PDQ index snapshot with the
database, or rebuild it from the database and save the snapshot."""

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.signals import pdq_store


class Command(BaseCommand):
    help = "Check the PDQ index snapshot against the database, or rebuild it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "rebuild"])

    def handle(self, *args: Any, action: str, **opts: Any) -> None:
        if action == "rebuild":
            started = time.monotonic()
            index = pdq_store.rebuild(save=True)
            self.stdout.write(
                f"rebuilt: {len(index):,} PDQ hashes in {time.monotonic() - started:.1f} s, "
                f"saved to {pdq_store.snapshot_path()}"
            )
            return
        if not pdq_store.snapshot_path().exists():
            raise CommandError(
                f"no snapshot at {pdq_store.snapshot_path()}: run `openhotline pdq-index rebuild`"
            )
        try:
            result = pdq_store.check()
        except (OSError, ValueError) as exc:
            raise CommandError(
                f"the snapshot cannot be read: {exc}; run `openhotline pdq-index rebuild`"
            ) from None
        self.stdout.write(
            f"snapshot: {result.indexed:,} hashes; database: {result.expected:,} indexable up to "
            f"the snapshot's newest; missing {len(result.missing):,}; "
            f"stale (retired or deleted since, filtered on read) {len(result.extra):,}"
        )
        if result.missing:
            self.stderr.write(f"missing hash rows (first ones): {result.missing[:20]}")
            self.stderr.write("the snapshot is inconsistent: run `openhotline pdq-index rebuild`")
            sys.exit(1)
