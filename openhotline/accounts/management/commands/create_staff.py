"""`openhotline create-staff USERNAME --role ROLE`: a staff account with password and TOTP."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from openhotline.accounts.credentials import issue_credentials
from openhotline.accounts.models import STAFF_ROLES, Role, User
from openhotline.audit.services import record


class Command(BaseCommand):
    help = "Create a staff account; print its generated password and TOTP provisioning URI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(str(r) for r in STAFF_ROLES))
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="If the account exists, give it a new password and a new TOTP secret.",
        )

    def handle(
        self, *args: Any, username: str, role: str, email: str, reset: bool, **options: Any
    ) -> None:
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is not None and not reset:
                raise CommandError(f"user {username!r} exists; use --reset to re-issue")
            if user is None:
                user = User(username=username)
            user.email = email or user.email
            password, device = issue_credentials(user, Role(role))
            record("staff.credentials_issued", actor=None, obj=user, data={"role": role})
        self.stdout.write(f"user:      {username} ({Role(role).label})")
        self.stdout.write(f"password:  {password}")
        self.stdout.write(f"totp-uri:  {device.config_url}")
