from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.demo.seed import (
    seed_hash_lists,
    seed_member,
    seed_portals,
    seed_reports,
    seed_routing,
    seed_staff,
)


class Command(BaseCommand):
    help = "Seed the demo hotline: portals, staff (printed credentials) and demo reports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--report-url", action="append", default=[], dest="urls")

    def handle(self, *args: Any, urls: list[str], **options: Any) -> None:
        portals = seed_portals()
        accounts = seed_staff()
        entries = seed_hash_lists()
        rules = seed_routing()
        reports = seed_reports(urls)
        member = seed_member()
        self.stdout.write(f"portals: {', '.join(p.slug for p in portals)}")
        self.stdout.write(f"demo hash list entries added: {entries}")
        self.stdout.write(f"demo routing rules: {rules}")
        self.stdout.write(f"demo reports added: {reports}")
        self.stdout.write("demo staff (sign in with the password and a code from the secret):")
        for account in accounts:
            self.stdout.write(
                f"  {account.username:<14} {account.role:<16} password {account.password}"
                f"   totp secret {account.totp_secret_b32}"
            )
        self.stdout.write("  current codes: `openhotline demo-totp USERNAME`")
        account = member.account
        self.stdout.write(
            f"demo member {member.organisation}: user {account.username} password "
            f"{account.password}   totp secret {account.totp_secret_b32}\n"
            f"  API key (feeds and matching): {member.api_key}"
        )
