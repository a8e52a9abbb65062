"""`openhotline export-feeds [--feed F] [--tier T] [--format X] [--if-stale]`: write the
pre-generated snapshot files members download (what a big feed's snapshot request serves),
with progress. Run it from cron, or let snapshot requests queue it when a file is stale."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.feeds import exports, render
from openhotline.feeds.models import FeedName


class Command(BaseCommand):
    help = "Write the signed snapshot files of the member feeds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--feed", choices=FeedName.values, action="append")
        parser.add_argument("--tier", action="append", help="default: every tier of the feed")
        parser.add_argument("--format", dest="formats", action="append",
                            help="default: every format of the feed")  # fmt: skip
        parser.add_argument("--if-stale", action="store_true",
                            help="only files missing, too old or too far behind")  # fmt: skip

    def handle(self, *args: Any, feed: list[str] | None, tier: list[str] | None,
               formats: list[str] | None, if_stale: bool, **options: Any) -> None:  # fmt: skip
        for name in feed or FeedName.values:
            for each_tier in tier or exports.tiers_of(name):
                if each_tier not in exports.tiers_of(name):
                    raise CommandError(f"{name} has tiers {', '.join(exports.tiers_of(name))}")
                for fmt in formats or render.formats_of(name):
                    if fmt not in render.formats_of(name):
                        raise CommandError(
                            f"{name} has formats {', '.join(render.formats_of(name))}"
                        )
                    if if_stale and not exports.stale(name, each_tier, fmt):
                        continue
                    self._export(name, each_tier, fmt)

    def _export(self, name: str, tier: str, fmt: str) -> None:
        started = time.monotonic()
        label = f"{name} {tier} {fmt}"

        def progress(done: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stderr.write(f"{label}: {done:,} items ({rate:,.0f}/s)")

        made = exports.export(name, tier, fmt, progress=progress)
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{label}: {made.manifest['count']:,} items at seq {made.seq:,} → {made.path} "
            f"({made.manifest['bytes']:,} bytes, {seconds:.1f} s)"
        )
