"""`openhotline match PATH...`: hash files and folders (on all cores) and look every
hash up in the enabled hash lists. One JSON line per file, with its matches and why
each matched; a progress line on standard error."""

import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.signals import workers
from openhotline.signals.management.commands.hash import available_cpus, walk
from openhotline.signals.matching import Candidate, find_matches
from openhotline.signals.types import HashValue
from openhotline.signals.types.pdq import PDQ_MIN_QUALITY


def describe(candidate: Candidate) -> dict[str, Any]:
    entry = candidate.entry
    return {
        "list": candidate.hash_list.name, "entry": entry.pk, "external_id": entry.external_id,
        "hash_type": candidate.hash_type, "distance": candidate.distance,
        "threshold": candidate.threshold, "near_exact": candidate.near_exact,
        "grade": entry.grade, "uk_category": entry.uk_category,
        "vics_category": entry.vics_category, "age_band": entry.age_band,
        "victim_identified": entry.victim_identified, "provenance": entry.provenance,
        "allowed_by": (
            {"id": candidate.allowed_by.pk, "reason": candidate.allowed_by.reason}
            if candidate.allowed_by is not None else None
        ),
    }  # fmt: skip


def values_of(row: dict[str, Any]) -> list[HashValue]:
    quality = row.get("pdq_quality")
    values = []
    for name, value in row.get("hashes", {}).items():
        usable = not (name == "pdq" and quality is not None and quality < PDQ_MIN_QUALITY)
        values.append(HashValue(name, value, quality=quality if name == "pdq" else None,
                                usable_for_matching=usable))  # fmt: skip
    return values


class Command(BaseCommand):
    help = "Hash files and folders and match them against the enabled hash lists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--jobs", type=int, default=available_cpus())
        parser.add_argument(
            "--only-matches", action="store_true", help="skip files without a match"
        )

    def handle(
        self, *args: Any, paths: list[Path], jobs: int, only_matches: bool, **opts: Any
    ) -> None:
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}")
        files = list(walk(paths))
        matched = 0
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max(1, jobs), mp_context=context, initializer=workers.start
        ) as pool:
            for done, row in enumerate(pool.map(workers.hash_file, files, chunksize=4), start=1):
                candidates = find_matches(values_of(row))
                found = [c for c in candidates if c.allowed_by is None]
                cancelled = [c for c in candidates if c.allowed_by is not None]
                matched += bool(found)
                if found or cancelled or not only_matches:
                    out = {"path": row["path"], "problems": row.get("problems", {}),
                           "matches": [describe(c) for c in found],
                           "allow_listed": [describe(c) for c in cancelled]}  # fmt: skip
                    self.stdout.write(json.dumps(out, sort_keys=True))
                sys.stderr.write(f"\rmatched {done}/{len(files)} files, {matched} with matches")
        sys.stderr.write("\n")
