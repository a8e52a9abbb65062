"""`openhotline generate-secrets DIR`: create missing secret files (never overwrites)."""

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

    def handle(self, *args: Any, directory: Path, **options: Any) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, make in MAKERS.items():
            path = directory / name
            if path.exists():
                self.stdout.write(f"kept     {path}")
                continue
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(make() + "\n")
            self.stdout.write(f"created  {path}")
        self.stdout.write(
            f"export OPENHOTLINE_SECRET_KEY_FILE={directory / 'secret_key'}\n"
            f"export OPENHOTLINE_MASTER_KEY_FILE={directory / 'master_key'}\n"
            f"export OPENHOTLINE_STORAGE_KEY_FILE={directory / 'storage_key'}"
        )
