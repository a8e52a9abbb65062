"""`openhotline demo-totp USERNAME`: the current TOTP code of a demo account (demo only)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the current sign-in code of a demo-* account (the demo world's only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        if not username.startswith("demo-"):
            raise CommandError("only demo-* accounts; real accounts use an authenticator app")
        device = TOTPDevice.objects.filter(user__username=username).first()
        if device is None:
            raise CommandError(f"no TOTP device for {username!r}")
        self.stdout.write(f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}")
