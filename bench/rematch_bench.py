"""Re-matching open cases when a list gains entries: what it costs an import.

    .venv/bin/python bench/rematch_bench.py [--entries 100000] [--open-media 2000]
        [--postgres]

In a fresh database (SQLite by default; --postgres uses `openhotline_rematch_bench` on
127.0.0.1, dropped afterwards): `--open-media` media items held by open (undecided)
cases, with synthetic hashes (no pictures: nothing is decoded). Then, in one run:

1. an import of `--entries` entries with the re-match hook switched off (the old code);
2. the same import (other entries) with the hook on: the time the import takes now;
3. the re-match tasks that import queued, run as the worker would (one per batch of
   1,000), and what they found: some entries were made from the open media (exact
   SHA-256, and PDQ a few bits away); every one must be found, nothing else;
4. one batch and the whole list re-matched from each side (entries → media, media →
   entries through the PDQ index), for the cost model in `signals.rematch`.

Exits 1 if a planted match is missed or a stray one is found.
"""

import argparse
import os
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

from openhotline.core.secret_values import fresh_environment

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_NAME = "openhotline_rematch_bench"
PLANTED_EXACT = 40
PLANTED_PDQ = 40


def configure(postgres: bool) -> Path:
    var = ROOT / "var" / "bench-rematch"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    os.environ.update(
        OPENHOTLINE_VAR_DIR=str(var), **fresh_environment(),
        DJANGO_SETTINGS_MODULE="openhotline.settings",
    )  # fmt: skip
    os.environ.pop("DATABASE_URL", None)
    if postgres:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
            conn.execute(f"CREATE DATABASE {PG_NAME}")
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
    return var


def flip(pdq: str, bits: int) -> str:
    value = int(pdq, 16)
    for bit in range(bits):
        value ^= 1 << (bit * 37 % 256)
    return f"{value:064x}"


def open_media(count: int) -> list[dict[str, str]]:
    """`count` media items in open cases (ten per case), with random hashes."""
    from openhotline.cases.models import Case, CaseKind, CaseState
    from openhotline.evidence.models import Blob, Capture, CaptureItem, Media
    from openhotline.signals.models import MediaHash
    from openhotline.signals.services import lookup_key

    made: list[dict[str, str]] = []
    for n in range(count):
        if n % 10 == 0:
            url = f"http://open-{n}.test/"
            case = Case.objects.create(kind=CaseKind.URL, url=url, host=f"open-{n}.test",
                                       state=CaseState.CAPTURED, report_count=1)  # fmt: skip
            capture = Capture.objects.create(case=case, requested_url=url, state="done")
        name = secrets.token_hex(32)
        blob = Blob.objects.create(name=name, path=name[:40], size=1, wrapped_key=b"x",
                                   key_id="bench")  # fmt: skip
        media = Media.objects.create(blob=blob, kind="image", status="ok")
        CaptureItem.objects.create(capture=capture, url=f"{url}{n}.jpg", found_in="img",
                                   state="stored", media=media)  # fmt: skip
        values = {"sha256": secrets.token_hex(32), "md5": secrets.token_hex(16),
                  "pdq": secrets.token_hex(32)}  # fmt: skip
        MediaHash.objects.bulk_create(
            MediaHash(media=media, hash_type=t, value=v, lookup_key=lookup_key(v),
                      quality=100 if t == "pdq" else None)
            for t, v in values.items()
        )  # fmt: skip
        made.append({"media": str(media.pk), **values})
    return made


def rows(count: int, planted: list[dict[str, str]], tag: str) -> list:
    """`count` records: random ones, with the planted ones spread among them."""
    from openhotline.signals.records import build_record

    every = max(1, count // max(len(planted), 1))
    out: list[Any] = []
    for n in range(count):
        values = {"sha256": secrets.token_hex(32), "pdq": secrets.token_hex(32)}
        if n % every == every - 1 and planted:
            values = planted.pop()
        record = build_record({**values, "grade": "sexual_posing", "age_band": "11-13",
                               "external_id": f"{tag}-{n}"})  # fmt: skip
        out.append((f"row {n}", record, []))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--open-media", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile one batch's task")
    args = parser.parse_args()
    var = configure(args.postgres)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from openhotline.signals import lists, pdq_store, rematch
    from openhotline.signals.models import HashList, Match

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    media = open_media(args.open_media)
    print(f"{args.open_media:,} open media made in {time.perf_counter() - started:.1f} s")

    old_list = HashList.objects.create(name="without-rematch", source="police")
    new_list = HashList.objects.create(name="with-rematch", source="police")
    hook = lists._rematch_open_cases
    data = rows(args.entries, [], "old")
    with mock.patch.object(lists, "_rematch_open_cases", return_value=None):
        started = time.perf_counter()
        lists.import_records(old_list, data, source="bench")
        without = time.perf_counter() - started

    planted = [{"sha256": m["sha256"]} for m in media[:PLANTED_EXACT]] + [
        {"pdq": flip(m["pdq"], 6)} for m in media[PLANTED_EXACT : PLANTED_EXACT + PLANTED_PDQ]
    ]
    expected = {int(m["media"]) for m in media[: PLANTED_EXACT + PLANTED_PDQ]}
    data = rows(args.entries, list(planted), "new")
    in_hook = [0.0]

    def timed(hash_list: HashList, entry_ids: list[int]) -> None:
        one = time.perf_counter()
        hook(hash_list, entry_ids)
        in_hook[0] += time.perf_counter() - one

    with mock.patch.object(lists, "_rematch_open_cases", timed):
        started = time.perf_counter()
        lists.import_records(new_list, data, source="bench")
        with_hook = time.perf_counter() - started
    queued = list(DBTaskResult.objects.filter(task_path__endswith="rematch_entries_task"))
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(f"import of {args.entries:,} entries without the re-match: {without:.2f} s")
    print(f"import of {args.entries:,} entries with the re-match   : {with_hook:.2f} s "
          f"({(with_hook / without - 1) * 100:+.1f} %), {len(queued)} tasks queued")  # fmt: skip
    print(f"  of which queueing the re-match: {in_hook[0] * 1000:.0f} ms "
          f"({in_hook[0] / with_hook * 100:.2f} % of the import)")  # fmt: skip

    started = time.perf_counter()
    slowest = 0.0
    for row in queued:
        one = time.perf_counter()
        rematch.rematch_entries(*row.args_kwargs["args"])
        slowest = max(slowest, time.perf_counter() - one)
    tasks = time.perf_counter() - started
    found = set(Match.objects.values_list("media_id", flat=True))
    per_entry = tasks / args.entries * 1e6
    print(f"the {len(queued)} re-match tasks: {tasks:.2f} s in all, "
          f"slowest {slowest * 1000:.0f} ms, {per_entry:.1f} µs per entry")  # fmt: skip
    checks = {
        f"all {len(expected)} planted matches found": expected <= found,
        "nothing else matched": found <= expected,
    }

    # The two sides on one batch, and on the whole list (a list switched on).
    first = queued[0].args_kwargs["args"]
    runs = [run for q in queued for run in q.args_kwargs["args"][1]]
    whole = [new_list.pk, [[min(lo for lo, _ in runs), max(hi for _, hi in runs)]]]
    started = time.perf_counter()
    pdq_store.current()
    print(f"PDQ index built from the database: {time.perf_counter() - started:.2f} s "
          "(a worker does this once)")  # fmt: skip
    for label, job in (("one batch of 1,000 entries", first), ("the whole list", whole)):
        timings = {}
        for side in ("entry", "media"):
            rematch.MEDIA_SIDE_COST_US, rematch.ENTRY_SIDE_COST_US = (
                (10**9, 0) if side == "entry" else (0, 10**9)
            )
            started = time.perf_counter()
            rematch.rematch_entries(*job)
            timings[side] = time.perf_counter() - started
        print(f"{label}: entry side {timings['entry'] * 1000:,.0f} ms, "
              f"media side {timings['media'] * 1000:,.0f} ms")  # fmt: skip
    if args.profile:
        import cProfile
        import pstats

        rematch.MEDIA_SIDE_COST_US, rematch.ENTRY_SIDE_COST_US = 10**9, 0
        with cProfile.Profile() as profile:
            rematch.rematch_entries(*first)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    if args.postgres:
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
    shutil.rmtree(var, ignore_errors=True)
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
