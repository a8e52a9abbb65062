"""`openhotline import-hashes FILE --list NAME --format csv|jsonl|vics
[--create SOURCE [--share-with-members]]`

Streams the file into the list in transactional batches. Bad rows are reported by line
(or VICS record) and field while the good ones land; importing the same file again
changes nothing. Exit status 0 when every row landed, 1 when some were rejected.
"""

import io
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from openhotline.audit.services import record as audit
from openhotline.signals import formats, pdq_store
from openhotline.signals.lists import ImportSummary, import_records, set_sharing
from openhotline.signals.models import HashList, ListSource
from openhotline.signals.progress import CountingReader, Progress

SHOWN_REJECTS = 50


def _format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "jsonl"):
        return suffix
    if suffix == "ndjson":
        return "jsonl"
    if suffix == "json":
        return "vics"
    raise CommandError(
        f"cannot tell the format of {path.name}: give --format ({', '.join(formats.FORMATS)})"
    )


class Command(BaseCommand):
    help = "Import hashes and their metadata into a hash list (CSV, JSON Lines or VICS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--list", dest="list_name", required=True, help="hash list name")
        parser.add_argument("--format", choices=formats.FORMATS, help="default: from the suffix")
        parser.add_argument(
            "--create", choices=ListSource.values, metavar="SOURCE",
            help=f"create the list if missing, with this source ({', '.join(ListSource.values)})",
        )  # fmt: skip
        parser.add_argument(
            "--share-with-members", action="store_true",
            help="with --create: share the new list's entries with members (audited); "
            "without it the list is not shared, whatever its source",
        )  # fmt: skip
        parser.add_argument("--quiet", action="store_true", help="no progress line")

    def handle(self, *args: Any, file: Path, list_name: str, format: str | None,
               create: str | None, share_with_members: bool, quiet: bool,
               **opts: Any) -> None:  # fmt: skip
        fmt = _format_of(file, format)
        hash_list = HashList.objects.filter(name=list_name).first()
        if hash_list is None:
            if not create:
                raise CommandError(
                    f"no hash list named {list_name!r}; add --create SOURCE to make it"
                )
            hash_list = _create(list_name, create, share_with_members)
        elif share_with_members and not hash_list.share_with_members:
            raise CommandError(
                f"{list_name!r} exists and is not shared; --share-with-members only shares a "
                "list this import creates (a manager shares an existing list on its page)"
            )
        try:
            size = file.stat().st_size
            handle = file.open("rb")
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from None
        progress = Progress("imported", total_bytes=size)
        counter = CountingReader(handle)
        stream = io.BufferedReader(counter, buffer_size=1 << 20)

        seen_rows = [0]

        def show(seen: int, summary: ImportSummary) -> None:
            seen_rows[0] = seen
            if not quiet:
                progress.show(seen, _short(summary), read_bytes=counter.count)

        try:
            rows = (
                (result.where, result.record, result.errors) for result in formats.read(fmt, stream)
            )
            summary = import_records(hash_list, rows, source=f"import:{file.name}", progress=show)
        except formats.FormatError as exc:
            raise CommandError(f"{file.name}: {exc}") from None
        finally:
            handle.close()
        if not quiet:
            progress.show(seen_rows[0], _short(summary),
                          read_bytes=counter.count, force=True)  # fmt: skip
            progress.finish()
        audit("signals.hashes_imported", actor=None, obj=hash_list,
              data={"file": file.name[:200], "format": fmt, **summary.as_dict()})  # fmt: skip
        if summary.created or summary.retired:
            pdq_store.forget()
        self._report(summary)
        if summary.rejected_count:
            sys.exit(1)

    def _report(self, summary: ImportSummary) -> None:
        for where, errors in summary.rejected[:SHOWN_REJECTS]:
            self.stderr.write(f"{where}: " + "; ".join(str(e) for e in errors))
        if summary.rejected_count > SHOWN_REJECTS:
            self.stderr.write(
                f"… and {summary.rejected_count - SHOWN_REJECTS:,} more rejected rows"
            )
        self.stdout.write(
            f"{summary.created:,} created, {summary.updated:,} updated, "
            f"{summary.unchanged:,} unchanged, {summary.retired:,} retired, "
            f"{summary.rejected_count:,} rejected"
        )


def _create(name: str, source: str, share: bool) -> HashList:
    """The list, unshared; shared only when asked, as its own audited step (the command
    line is the actor) before any entry lands, so every batch reaches members at once."""
    with transaction.atomic():
        hash_list = HashList.objects.create(name=name, source=source, share_with_members=False)
        audit("signals.list_created", actor=None, obj=hash_list,
              data={"name": name, "source": source, "via": "import-hashes"})  # fmt: skip
        if share:
            set_sharing(hash_list, True, actor=None, via="import-hashes")
    return hash_list


def _short(summary: ImportSummary) -> str:
    return (
        f"{summary.created:,} new, {summary.updated:,} updated, {summary.rejected_count:,} rejected"
    )
