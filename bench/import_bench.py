"""Hash list import benchmark: 1 million CSV rows with 1,000 bad ones.

    .venv/bin/python bench/import_bench.py [--rows 1000000] [--bad 1000] [--postgres]

Writes the file under var/bench-import, imports it into a fresh database (SQLite by
default; --postgres uses the database `openhotline_import_bench` on 127.0.0.1, dropped
afterwards) through `openhotline import-hashes`, then imports it again. Prints rows per
second for both passes, the peak memory of the process, and checks the outcome: every
good row landed exactly once, every bad row was reported with its line, and the second
pass changed nothing. Bounded by the row count.
"""

import argparse
import csv
import hashlib
import io
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from openhotline.core.secret_values import fresh_environment

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_NAME = "openhotline_import_bench"


def configure(postgres: bool) -> Path:
    var = ROOT / "var" / "bench-import"
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


def write_file(path: Path, rows: int, bad: int) -> set[int]:
    """A CSV of `rows` entries; every (rows // bad)-th has a broken md5. Bad line numbers."""
    step = max(1, rows // max(bad, 1))
    bad_lines: set[int] = set()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["md5", "sha1", "grade", "age_band", "series", "external_id"])
        for n in range(rows):
            digest = hashlib.sha256(n.to_bytes(8, "big")).hexdigest()
            md5 = digest[:32]
            if bad and n % step == step - 1 and len(bad_lines) < bad:
                md5 = md5[:31] + "g"
                bad_lines.add(n + 2)
            writer.writerow([md5, digest[:40], "sexual_posing", "11-13", f"s{n % 97}", f"B-{n}"])
    return bad_lines


def run_import(path: Path) -> tuple[float, str, str]:
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    real = sys.stderr
    sys.stderr = err
    started = time.perf_counter()
    try:
        call_command("import_hashes", str(path), "--list", "bench", "--create", "police",
                     stdout=out, stderr=err)  # fmt: skip
    except SystemExit:
        pass  # exit 1: rows were rejected, as planned
    finally:
        sys.stderr = real
    return time.perf_counter() - started, out.getvalue(), err.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    var = configure(args.postgres)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from openhotline.signals.models import EntryHash, ListEntry

    call_command("migrate", verbosity=0)
    path = var / "release.csv"
    started = time.perf_counter()
    bad_lines = write_file(path, args.rows, args.bad)
    print(f"wrote {args.rows:,} rows ({path.stat().st_size / 2**20:,.0f} MiB) "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    first, out1, err1 = run_import(path)
    second, out2, _ = run_import(path)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    good = args.rows - len(bad_lines)
    reported = {int(line.split(":")[0].removeprefix("line ")) for line in err1.splitlines()
                if line.startswith("line ")}  # fmt: skip
    checks = {
        "every good row landed once": ListEntry.objects.count() == good
        and EntryHash.objects.count() == 2 * good,
        "every bad row rejected": f"{len(bad_lines):,} rejected" in out1,
        "bad rows named by line (first 50 shown)": reported <= bad_lines and len(reported) > 0,
        "second pass changed nothing": f"{good:,} unchanged" in out2,
    }
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    print(f"first import : {args.rows / first:,.0f} rows/s ({first:.1f} s) — {out1.strip()}")
    print(f"second import: {args.rows / second:,.0f} rows/s ({second:.1f} s) — {out2.strip()}")
    print(f"peak RSS of the process: {peak_mib:,.0f} MiB")
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
