"""`openhotline audit-verify`: exit 1 naming the first bad event if the chain is broken."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from openhotline.audit.chain import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain from the first event to the last."

    def handle(self, *args: Any, **options: Any) -> None:
        count, problem = verify_chain()
        if problem is not None:
            raise CommandError(f"audit chain broken at event {problem.seq}: {problem.reason}")
        self.stdout.write(f"audit chain intact: {count} events")
