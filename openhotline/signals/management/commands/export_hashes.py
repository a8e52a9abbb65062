"""`openhotline export-hashes --list NAME [--format csv|jsonl|vics] [-o FILE]`

Streams the entries of one list (or every list) with constant memory. Retired entries
are left out unless --include-retired, which exports them marked retired.
"""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.signals import formats
from openhotline.signals.lists import entry_record
from openhotline.signals.models import EntryHash, HashList, ListEntry
from openhotline.signals.progress import Progress
from openhotline.signals.records import EntryRecord

_CHUNK = 2000


def stream_records(lists: list[HashList], include_retired: bool) -> Iterator[EntryRecord]:
    """Entries in id order, a chunk at a time (keyset, so memory stays flat)."""
    entries = ListEntry.objects.filter(hash_list__in=lists).order_by("pk")
    if not include_retired:
        entries = entries.filter(retired_at=None)
    after = 0
    while True:
        chunk = list(entries.filter(pk__gt=after)[:_CHUNK])
        if not chunk:
            return
        hashes: dict[int, list[EntryHash]] = {}
        for row in EntryHash.objects.filter(entry_id__in=[e.pk for e in chunk]).order_by("pk"):
            hashes.setdefault(row.entry_id, []).append(row)
        for entry in chunk:
            yield entry_record(entry, hashes.get(entry.pk, []))
        after = chunk[-1].pk


class Command(BaseCommand):
    help = "Export hash list entries as CSV, JSON Lines or VICS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list", dest="list_names", action="append", default=[],
                            help="list name (repeatable; default: every list)")  # fmt: skip
        parser.add_argument("--format", choices=formats.FORMATS, default="jsonl")
        parser.add_argument("--vics-version", choices=["1.3", "2.0"], default="2.0")
        parser.add_argument("--include-retired", action="store_true")
        parser.add_argument("-o", "--output", type=Path, help="file (default: standard output)")
        parser.add_argument("--quiet", action="store_true", help="no progress line")

    def handle(self, *args: Any, **opts: Any) -> None:
        list_names: list[str] = opts["list_names"]
        format: str = opts["format"]
        vics_version: str = opts["vics_version"]
        include_retired: bool = opts["include_retired"]
        output: Path | None = opts["output"]
        quiet: bool = opts["quiet"]
        lists = (
            list(HashList.objects.filter(name__in=list_names))
            if list_names
            else list(HashList.objects.all())
        )
        unknown = sorted(set(list_names) - {h.name for h in lists})
        if unknown:
            raise CommandError(f"no hash list named {', '.join(map(repr, unknown))}")
        progress = Progress("exported")

        def counted() -> Iterator[EntryRecord]:
            for done, record in enumerate(stream_records(lists, include_retired), start=1):
                if not quiet and done % 1000 == 0:
                    progress.show(done)
                yield record

        if output is None:
            count = formats.write(format, counted(), sys.stdout.buffer, vics_version=vics_version)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("wb") as out:
                count = formats.write(format, counted(), out, vics_version=vics_version)
            partial.replace(output)  # readers never see half a file
        if not quiet:
            progress.show(count, force=True)
            progress.finish()
