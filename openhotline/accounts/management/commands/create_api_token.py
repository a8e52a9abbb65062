"""`openhotline create-api-token USERNAME`: print a new bearer token (shown once)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from openhotline.accounts.models import User
from openhotline.accounts.tokens import issue_token


class Command(BaseCommand):
    help = "Issue an API token for a user; only its digest is stored, so it is shown once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(
        self, *args: Any, username: str, name: str, expires_days: int | None, **options: Any
    ) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        issued = issue_token(user, name=name, expires_at=expires_at)
        self.stdout.write(issued.plaintext)
