"""`openhotline generate-secrets DIR`: create missing secret files (never overwrites).

`--next-signing-key` makes `signing_key_next` instead, the first step of a signing-key
rollover (README, "Signing keys")."""

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.core.secret_values import MAKERS


class Command(BaseCommand):
    help = "Create the secret files OpenHotline needs, if missing, readable by the owner only."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--next-signing-key", action="store_true",
            help="make signing_key_next, to be published as OPENHOTLINE_SIGNING_KEY_NEXT",
        )  # fmt: skip

    def handle(self, *args: Any, directory: Path, next_signing_key: bool = False,
               **options: Any) -> None:  # fmt: skip
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if next_signing_key:
            self._make(directory / "signing_key_next", MAKERS["signing_key"])
            self.stdout.write(
                f"export OPENHOTLINE_SIGNING_KEY_NEXT_FILE={directory / 'signing_key_next'}"
            )
            return
        for name, make in MAKERS.items():
            self._make(directory / name, make)
        self.stdout.write(
            f"export OPENHOTLINE_SECRET_KEY_FILE={directory / 'secret_key'}\n"
            f"export OPENHOTLINE_MASTER_KEY_FILE={directory / 'master_key'}\n"
            f"export OPENHOTLINE_STORAGE_KEY_FILE={directory / 'storage_key'}\n"
            f"export OPENHOTLINE_SIGNING_KEY_FILE={directory / 'signing_key'}"
        )

    def _make(self, path: Path, make: Any) -> None:
        if path.exists():
            self.stdout.write(f"kept     {path}")
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make() + "\n")
        self.stdout.write(f"created  {path}")
