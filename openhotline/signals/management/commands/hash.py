"""`openhotline hash PATH...`: every applicable hash of files and folders, on all cores.

Writes JSON Lines (default) or CSV to standard output and a progress line to standard
error. Files that cannot be read or hashed are reported in the output, never fatal.
"""

import csv
import json
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openhotline.signals import workers
from openhotline.signals.types import HASH_TYPES

CSV_COLUMNS = ["path", "size", "kind", "mime", *HASH_TYPES, "pdq_quality", "problems"]


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity: a container's or taskset's share),
    not every CPU of the machine; os.cpu_count() where affinity is unknown (macOS)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def walk(paths: list[Path]) -> Iterator[str]:
    for path in paths:
        if path.is_dir():
            for folder, _dirs, files in os.walk(path):
                for name in sorted(files):
                    yield str(Path(folder) / name)
        else:
            yield str(path)


class Command(BaseCommand):
    help = "Hash files and folders with every hash type that applies (JSON Lines or CSV)."
    # Hashing needs no secrets or database: it runs on a fresh machine too.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--jobs", type=int, default=available_cpus())

    def handle(self, *args: Any, paths: list[Path], format: str, jobs: int, **opts: Any) -> None:
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}")
        files = list(walk(paths))
        writer = csv.DictWriter(self.stdout, CSV_COLUMNS, extrasaction="ignore")
        if format == "csv":
            writer.writeheader()
        # "spawn", not fork: forking a process that runs threads can deadlock the child.
        # An executor (not a Pool) fails loudly if a worker dies instead of waiting forever.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max(1, jobs), mp_context=context, initializer=workers.start
        ) as pool:
            for done, row in enumerate(pool.map(workers.hash_file, files, chunksize=4), start=1):
                if format == "csv":
                    flat = {**row, **row.get("hashes", {})}
                    flat["problems"] = "; ".join(
                        f"{k}: {v}" for k, v in row.get("problems", {}).items()
                    )
                    writer.writerow(flat)
                else:
                    self.stdout.write(json.dumps(row, sort_keys=True))
                sys.stderr.write(f"\rhashed {done}/{len(files)} files")
        sys.stderr.write("\n")
