"""`openhotline verify-feed FILE [--manifest M] [--key PEM]`: does a downloaded feed file
match its signed manifest? Exits 0 and says what it holds, or 1 and says why not."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.feeds import signing


class Command(BaseCommand):
    help = "Check a downloaded feed file against its signed manifest."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--manifest", help="default: FILE.manifest.json")
        parser.add_argument("--key", help="public key PEM; default: this hotline's key")

    def handle(self, *args: Any, file: str, manifest: str | None, key: str | None,
               **options: Any) -> None:  # fmt: skip
        body_path = Path(file)
        manifest_path = Path(manifest or f"{file}.manifest.json")
        try:
            body_path.stat()
            signed = json.loads(manifest_path.read_text(encoding="utf-8"))
            public = Path(key).read_bytes() if key else signing.public_key_pem()
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the download: {exc}") from exc
        try:
            fields = signing.verify_file(body_path, signed, public)
        except signing.NotVerified as exc:
            raise CommandError(f"NOT VERIFIED: {exc}") from exc
        described = ", ".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sha256")
        self.stdout.write(self.style.SUCCESS(f"verified: {described}"))
