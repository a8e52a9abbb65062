"""`openhotline revoke-api-token TOKEN_ID`: revoke a token by its id (or the whole token)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.accounts.models import ApiToken
from openhotline.accounts.tokens import revoke_token


class Command(BaseCommand):
    help = "Revoke an API token. Give its id (the part after oht_) or the whole token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token")

    def handle(self, *args: Any, token: str, **options: Any) -> None:
        try:
            revoked = revoke_token(token)
        except ApiToken.DoesNotExist:
            raise CommandError("no such token") from None
        self.stdout.write(f"revoked oht_{revoked.token_id} of {revoked.user.username}")
