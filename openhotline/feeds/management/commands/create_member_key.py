"""`openhotline create-member-key ORGANISATION --feed url-list [--licence] [--match]
[--expires-days N] [--network CIDR]`: prints a member API key once (only its digest is
kept). With --licence, the organisation is also licensed for the feeds named."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from openhotline.accounts.models import Organisation, OrganisationKind
from openhotline.audit.services import record
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import FeedName, Licence


class Command(BaseCommand):
    help = "Issue an API key to a member organisation (and optionally licence feeds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation")
        parser.add_argument("--feed", action="append", default=[], choices=FeedName.values)
        parser.add_argument("--licence", action="store_true", help="licence the feeds too")
        parser.add_argument("--match", action="store_true", help="may use the matching API")
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument("--network", action="append", default=[], help="allowed CIDR")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, organisation: str, feed: list[str], licence: bool,
               match: bool, expires_days: int | None, network: list[str], name: str,
               **options: Any) -> None:  # fmt: skip
        org = Organisation.objects.filter(name=organisation).first()
        if org is None:
            raise CommandError(f"no organisation named {organisation!r}")
        if org.kind != OrganisationKind.MEMBER:
            raise CommandError(f"{org} is a {org.get_kind_display()}, not a member company")
        if not feed and not match:
            raise CommandError("name at least one --feed, or --match")
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        with transaction.atomic():
            if licence:
                for name_ in feed:
                    Licence.objects.get_or_create(organisation=org, feed=name_)
            try:
                issued = issue_key(
                    org, feeds=feed, can_match=match, name=name, expires_at=expires,
                    allowed_networks=network,
                )  # fmt: skip
            except ValueError as exc:
                raise CommandError(f"bad --network: {exc}") from exc
            record(
                "feeds.key_issued",
                actor=None,
                obj=issued.key,
                data={"organisation": org.name, "feeds": feed, "match": match},
            )
        self.stdout.write(issued.plaintext)
