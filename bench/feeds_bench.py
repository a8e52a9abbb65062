"""Feeds benchmark: the members' Hash List at 10 million entries — its snapshot export
(entries per second, peak memory) and delta pages of 1,000 changes over HTTP (latency).

    .venv/bin/python bench/feeds_bench.py [--entries 10000000] [--changes 250000]
        [--formats jsonl,csv,vics] [--postgres] [--pg-formats jsonl] [--requests 250]
        [--server-workers 2] [--export-budget 300] [--deadline 3600] [--rebuild] [--json]
        [--wsgi MODULE_OR_FILE]

The database: `--entries` Hash List entries, each a `ListEntry` of the list "own-grading",
its PDQ `EntryHash` (64 random hex digits, quality 100) and its feed item in
`feeds_feeditem` (key = the entry's number, 12 digits; data as
`openhotline.feeds.hash_list.record_of` makes it: random md5, sha1, sha256 and the PDQ,
grade, UK/INTERPOL/VICS categories, age band, victim identified, first seen), added at
sequence = the entry's number; the `Feed` row says last_seq = live_count = entries. Only
the last `--changes` of those additions are kept as `feeds_feedchange` rows (a delta reads
a handful of index pages whatever the table's size, so older change rows would change
nothing but the file's size). All generated, benign: random hashes, no images. The rows
are written straight into the tables (executemany on SQLite, COPY on PostgreSQL, one
transaction per table, secondary indexes dropped and rebuilt): importing 10 million rows
through `import-hashes` would take hours, and the import has its own benchmark. No ANALYZE
on SQLite (the platform never runs one); on PostgreSQL an ANALYZE, as autovacuum would.

The SQLite file is cached under var/bench/hashlist-<entries>/ (about 9 GB for 10 million)
with the fingerprint of every migration and of this builder; a run with the same
fingerprint reuses it (its build time is printed from the cache's record), a changed one
rebuilds it. `bench/match_bench.py` uses the same database.

1. Export: `openhotline export-feeds --feed hash-list --tier full --format F` in a child
   process per format (`--formats`, default jsonl, csv and vics): entries per second
   (items / the command's own export time; the process's wall time is shown too), peak
   RSS of that program alone (its VmHWM, sampled; wait4's ru_maxrss would also count this
   process's memory at the fork), file size, and a check that the
   manifest counts every entry and its SHA-256 is the file's; also entries per CPU-second
   and the cores other processes kept busy meanwhile (a shared machine distorts the
   wall-clock rate). Each export is bounded by `--export-budget` seconds (default 300,
   three times what the target allows for 10 million): then it is stopped and the rate
   so far is reported.
2. Delta: gunicorn (`--server-workers` sync workers, production settings) on 127.0.0.1,
   a member key with a full-tier Hash List licence, and one keep-alive client asking
   `GET /api/v1/feeds/hash-list/delta?cursor=N&limit=1000` with cursors 1,000 apart
   among the kept changes (each page exactly 1,000 changes, pages in random order), first
   with `Accept-Encoding: identity` then `gzip`, `--requests` each after 20 uncounted:
   median, p95 and max latency (request sent → whole body read), bytes per page, and
   every answer checked (200, 1,000 lines, the next cursor).

`--postgres` does 1 and 2 again on PostgreSQL (a database `openhotline_feeds_bench` on
127.0.0.1:5432 made for the run with the same rows, dropped at the end; its build is
timed and not cached), for `--pg-formats` (default jsonl).

Targets (issue 7): export >= 100,000 entries/s with peak RSS <= 300 MB; delta of 1,000
changes <= 100 ms, met only when the median and p95 of both encodings are within it.
`--wsgi` serves another WSGI module (a .py file that imports openhotline.wsgi and patches
something) to measure a candidate change without editing the platform. Exit status 1 when a
target is missed or a check fails, 2 when setup fails. Figures go to
var/bench/feeds.json; server logs to var/bench/feeds-gunicorn-*.log. Everything stays on
127.0.0.1; a hard `--deadline` (default 60 minutes, build included) stops the run,
servers and children, and drops the PostgreSQL database.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import math
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openhotline import grading  # noqa: E402
from openhotline.core.secret_values import fresh_environment  # noqa: E402

BIN = ROOT / ".venv" / "bin"
VAR = ROOT / "var" / "bench"
HOST = "127.0.0.1"  # the bench talks to this machine only
PG_ADMIN = f"postgresql://postgres@{HOST}:5432/postgres"
PG_NAME = "openhotline_feeds_bench"
PG_URL = f"postgres://postgres@{HOST}:5432/{PG_NAME}"

# Bump when the generated rows change: the cache is rebuilt.
BUILDER_VERSION = 1
SEED = 20250301
LIST_NAME = "own-grading"
FEED = "hash-list"
BENCH_ORG = "Feeds bench member"
CHUNK = 100_000
STAMP = "2025-06-01 12:00:00"
PAGE = 1000
DEFAULT_ENTRIES = 10_000_000
DEFAULT_CHANGES = 250_000  # change rows kept: 250 pages of 1,000

TARGET_EXPORT_RATE = 100_000.0
TARGET_EXPORT_RSS_MB = 300.0
TARGET_DELTA_MS = 100.0

# (grade, age band, non-photographic): the categories follow from grading.classify.
PROFILES = (
    ("penetrative", "3-6", False),
    ("non_penetrative", "7-10", False),
    ("sexual_posing", "11-13", False),
    ("indecent_other", "14-15", False),
    ("penetrative", "0-2", False),
    ("sexual_posing", "7-10", True),
)


class SetupFailed(Exception):
    """Something the benchmark needs could not be prepared."""


class Deadline(Exception):
    """The hard deadline passed."""


_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f} s] {message}", file=sys.stderr, flush=True)


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending, non-empty list."""
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def latency_stats(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    if not ordered:
        return {}
    return {
        "count": len(ordered),
        "median": percentile(ordered, 0.5),
        "p95": percentile(ordered, 0.95),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def set_deadline(seconds: float) -> None:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise Deadline()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(seconds)))


# --- the generated Hash List --------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """One chunk of entries: numbers, PDQ hex and the feed item's JSON."""

    numbers: range
    pdq: list[str]
    data: list[str]
    profile: list[int]


_FIRST_SEEN = [(dt.date(2012, 1, 1) + dt.timedelta(days=d)).isoformat() for d in range(3650)]


def _meanings() -> list[grading.Classification]:
    return [grading.classify(g, a, n) for g, a, n in PROFILES]


def generate(first: int, last: int) -> Iterator[Generated]:
    """Entries first..last (inclusive) in chunks; the same numbers always give the same
    hashes (each chunk has its own seeded generator)."""
    meanings = _meanings()
    for start in range(first, last + 1, CHUNK):
        numbers = range(start, min(last, start + CHUNK - 1) + 1)
        rng = np.random.default_rng([SEED, start])
        # md5 (16 bytes), sha1 (20), sha256 (32), pdq (32) = 100 bytes, 200 hex digits
        text = rng.integers(0, 256, size=(len(numbers), 100), dtype=np.uint8).tobytes().hex()
        pdqs: list[str] = []
        datas: list[str] = []
        profiles: list[int] = []
        for i, n in enumerate(numbers):
            row = text[200 * i : 200 * i + 200]
            which = n % len(PROFILES)
            grade, age_band, non_photographic = PROFILES[which]
            meaning = meanings[which]
            pdq = row[136:200]
            # The keys record_of writes, in its order (hashes by name, then the fields).
            data = {
                "hashes": {"md5": row[:32], "pdq": pdq, "sha1": row[32:72], "sha256": row[72:136]},
                "list": LIST_NAME,
                "pdq_quality": 100,
                "uk_category": meaning.uk,
                "interpol_baseline": meaning.interpol_baseline,
                "vics_category": meaning.vics,
                "non_photographic": non_photographic,
                "grade": grade,
                "age_band": age_band,
                "victim_identified": n % 97 == 0,
                "first_seen": _FIRST_SEEN[n % len(_FIRST_SEEN)],
            }
            pdqs.append(pdq)
            datas.append(orjson.dumps(data).decode())
            profiles.append(which)
        yield Generated(numbers, pdqs, datas, profiles)


def key_of(number: int) -> str:
    return f"{number:012d}"


def fingerprint(entries: int, changes: int) -> str:
    """Every migration's bytes, this builder's version and the sizes."""
    digest = hashlib.sha256(f"{BUILDER_VERSION}:{entries}:{changes}:{SEED}".encode())
    for path in sorted((ROOT / "openhotline").glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# --- SQLite: build once, cache ------------------------------------------------------------


def cache_dir(entries: int) -> Path:
    return VAR / f"hashlist-{entries}"


def base_env(var: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of every child: this checkout, the bench's var dir and database."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("OPENHOTLINE_") or name in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}:
            del env[name]
    env.update(
        **_SECRETS,
        DJANGO_SETTINGS_MODULE="openhotline.settings",
        OPENHOTLINE_VAR_DIR=str(var),
        OPENHOTLINE_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


_SECRETS = fresh_environment()  # one set per run: every child signs with the same key


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(BIN / "openhotline"), "migrate", "--no-input", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    if done.returncode:
        raise SetupFailed(f"migrate failed:\n{done.stdout}{done.stderr}")


BULK_TABLES = (
    "feeds_feeditem",
    "feeds_feedchange",
    "signals_listentry",
    "signals_entryhash",
)


def _entry_row(n: int, which: int) -> tuple[Any, ...]:
    grade, age_band, non_photographic = PROFILES[which]
    meaning = _MEANINGS[which]
    baseline = None if meaning.interpol_baseline is None else int(meaning.interpol_baseline)
    return (
        n,
        "",
        grade,
        meaning.uk or "",
        baseline,
        meaning.vics,
        age_band,
        int(non_photographic),
        int(n % 97 == 0),
        None,
        "",
        None,
        _FIRST_SEEN[n % len(_FIRST_SEEN)],
        "feeds bench",
        None,
        "",
        STAMP,
        STAMP,
        _LIST_ID,
        None,
    )


_MEANINGS = _meanings()
_LIST_ID = 1  # set by the builders before use
ENTRY_COLUMNS = (
    "id, external_id, grade, uk_category, interpol_baseline, vics_category, age_band, "
    "non_photographic, victim_identified, offender_identified, series, confirmed_by_police, "
    "first_seen, provenance, retired_at, retired_reason, created_at, updated_at, "
    "hash_list_id, source_media_id"
)


def build_sqlite(entries: int, changes: int) -> dict[str, Any]:
    """Build the cached SQLite database in a fresh folder, then move it into place."""
    global _LIST_ID
    final = cache_dir(entries)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    need = entries * 1000  # about 900 bytes a row on disk, with the indexes
    free = shutil.disk_usage(VAR).free
    if free < need * 1.2:
        raise SetupFailed(
            f"{free / 2**30:.1f} GiB free under {VAR}; the build needs about {need / 2**30:.1f} GiB"
        )
    steps: dict[str, float] = {}
    started = time.monotonic()
    stamp = fingerprint(entries, changes)  # before migrating: a migration landing later rebuilds
    migrate(base_env(partial))
    steps["migrate_s"] = time.monotonic() - started
    path = partial / "openhotline.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache for the build
        db.execute("PRAGMA foreign_keys=OFF")
        marks = ",".join("?" * len(BULK_TABLES))
        where = f"type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"
        sql = f"SELECT name, sql FROM sqlite_master WHERE {where}"  # noqa: S608 - placeholders
        indexes = db.execute(sql, BULK_TABLES).fetchall()
        for name, _sql in indexes:
            db.execute(f'DROP INDEX "{name}"')
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO signals_hashlist (name, description, source, enabled, pdq_threshold,"
            " photodna_threshold, created_at, updated_at, share_with_members)"
            " VALUES (?, 'feeds and match benchmarks: random hashes', 'own', 1, 31, NULL, ?, ?, 1)",
            (LIST_NAME, STAMP, STAMP),
        )
        _LIST_ID = int(
            db.execute("SELECT id FROM signals_hashlist WHERE name = ?", (LIST_NAME,)).fetchone()[0]
        )
        db.execute("DELETE FROM feeds_feed WHERE name = ?", (FEED,))
        db.execute(
            "INSERT INTO feeds_feed (name, last_seq, live_count, updated_at) VALUES (?, ?, ?, ?)",
            (FEED, entries, entries, STAMP),
        )
        feed_id = int(db.execute("SELECT id FROM feeds_feed WHERE name = ?", (FEED,)).fetchone()[0])
        first_change = entries - changes + 1
        t0 = time.monotonic()
        for chunk in generate(1, entries):
            db.executemany(
                "INSERT INTO feeds_feeditem (id, feed_id, key, data, added_seq, removed_seq)"
                " VALUES (?, ?, ?, ?, ?, NULL)",
                [
                    (n, feed_id, key_of(n), d, n)
                    for n, d in zip(chunk.numbers, chunk.data, strict=True)
                ],
            )
            db.executemany(
                f"INSERT INTO signals_listentry ({ENTRY_COLUMNS}) VALUES "  # noqa: S608
                f"({','.join('?' * 20)})",
                [_entry_row(n, w) for n, w in zip(chunk.numbers, chunk.profile, strict=True)],
            )
            db.executemany(
                "INSERT INTO signals_entryhash (id, hash_type, value, lookup_key,"
                " usable_for_matching, quality, entry_id) VALUES (?, 'pdq', ?, ?, 1, 100, ?)",
                [(n, p, p, n) for n, p in zip(chunk.numbers, chunk.pdq, strict=True)],
            )
            kept = [
                (n, d) for n, d in zip(chunk.numbers, chunk.data, strict=True) if n >= first_change
            ]
            if kept:
                db.executemany(
                    "INSERT INTO feeds_feedchange (id, feed_id, seq, op, key, data, at, reason)"
                    " VALUES (?, ?, ?, 'add', ?, ?, ?, 'feeds bench')",
                    [(n - first_change + 1, feed_id, n, key_of(n), d, STAMP) for n, d in kept],
                )
            done = chunk.numbers[-1]
            if done % 1_000_000 < CHUNK or done == entries:
                rate = done / (time.monotonic() - t0)
                progress(f"SQLite build: {done:,} / {entries:,} entries ({rate:,.0f}/s)")
        db.execute("COMMIT")
        steps["rows_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        for name, sql in indexes:
            progress(f"SQLite build: index {name}")
            db.execute(sql)
        steps["indexes_s"] = time.monotonic() - t0
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    total = time.monotonic() - started
    meta = {
        "fingerprint": stamp,
        "entries": entries,
        "changes": changes,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "build_s": total,
        "steps": steps,
        "db_bytes": path.stat().st_size,
    }
    (partial / "build.json").write_text(json.dumps(meta, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return meta


@contextlib.contextmanager
def cache_lock(entries: int) -> Iterator[None]:
    VAR.mkdir(parents=True, exist_ok=True)
    with open(VAR / f"hashlist-{entries}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_sqlite(entries: int, changes: int, rebuild: bool = False) -> tuple[Path, dict[str, Any]]:
    """The cached database's folder and its build record (built now if missing or stale:
    `fresh` says which)."""
    with cache_lock(entries):
        folder = cache_dir(entries)
        meta: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads((folder / "build.json").read_text())
        wanted = fingerprint(entries, changes)
        if (
            not rebuild
            and meta.get("fingerprint") == wanted
            and (folder / "openhotline.sqlite3").exists()
        ):
            progress(
                f"cached SQLite database {folder.relative_to(ROOT)} (built {meta['built_at']}"
                f" in {meta['build_s']:.0f} s)"
            )
            return folder, {**meta, "fresh": False}
        reason = "asked to" if rebuild else ("stale" if meta else "none cached")
        progress(
            f"building the SQLite database ({reason}): {entries:,} entries, {changes:,} change rows"
        )
        meta = build_sqlite(entries, changes)
        progress(f"SQLite build: {meta['build_s']:.0f} s, {meta['db_bytes'] / 2**30:.1f} GiB")
        return folder, {**meta, "fresh": True}


# --- PostgreSQL: built per run, dropped ---------------------------------------------------


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.encode())  # our own constant SQL


def drop_postgres() -> None:
    with contextlib.suppress(Exception):
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def build_postgres(entries: int, changes: int, var: Path) -> dict[str, Any]:
    """The same rows in a fresh PostgreSQL database, by COPY in one transaction per
    table, secondary indexes rebuilt after, foreign-key triggers off while loading."""
    import psycopg

    global _LIST_ID
    started = time.monotonic()
    try:
        pg_admin(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{PG_NAME}"')
    except psycopg.Error as exc:
        raise SetupFailed(f"PostgreSQL at {HOST}:5432: {exc}") from exc
    steps: dict[str, float] = {}
    migrate(base_env(var, PG_URL))
    steps["migrate_s"] = time.monotonic() - started
    dsn = PG_URL.replace("postgres://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers: rows fit
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname"
            " NOT IN (SELECT conindid::regclass::text FROM pg_constraint WHERE conindid <> 0)",
            [list(BULK_TABLES)],
        ).fetchall()
        indexes = [(str(name), str(sql)) for name, sql in rows]
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"'.encode())
        made = conn.execute(
            "INSERT INTO signals_hashlist (name, description, source, enabled, pdq_threshold,"
            " photodna_threshold, created_at, updated_at, share_with_members) VALUES"
            " (%s, 'feeds and match benchmarks: random hashes', 'own', true, 31, NULL, now(),"
            " now(), true) RETURNING id",
            [LIST_NAME],
        ).fetchone()
        conn.execute("DELETE FROM feeds_feed WHERE name = %s", [FEED])
        made_feed = conn.execute(
            "INSERT INTO feeds_feed (name, last_seq, live_count, updated_at) VALUES"
            " (%s, %s, %s, now()) RETURNING id",
            [FEED, entries, entries],
        ).fetchone()
        assert made is not None and made_feed is not None
        _LIST_ID, feed_id = int(made[0]), int(made_feed[0])
        first_change = entries - changes + 1
        stamp = STAMP + "+00"
        t0 = time.monotonic()
        with conn.transaction(), conn.cursor() as cur:
            items = cur.copy(
                "COPY feeds_feeditem (id, feed_id, key, data, added_seq, removed_seq) FROM STDIN"
            )
            with items as copy:
                for chunk in generate(1, entries):
                    copy.write(
                        "".join(
                            f"{n}\t{feed_id}\t{key_of(n)}\t{d}\t{n}\t\\N\n"
                            for n, d in zip(chunk.numbers, chunk.data, strict=True)
                        ).encode()
                    )
                    if chunk.numbers[-1] % 2_000_000 < CHUNK:
                        progress(f"PostgreSQL build: feed items {chunk.numbers[-1]:,}")
            with cur.copy(
                "COPY feeds_feedchange (id, feed_id, seq, op, key, data, at, reason) FROM STDIN"
            ) as copy:
                for chunk in generate(first_change, entries):
                    copy.write(
                        "".join(
                            f"{n - first_change + 1}\t{feed_id}\t{n}\tadd\t{key_of(n)}\t{d}"
                            f"\t{stamp}\tfeeds bench\n"
                            for n, d in zip(chunk.numbers, chunk.data, strict=True)
                        ).encode()
                    )
        steps["feed_rows_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(f"COPY signals_listentry ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                for chunk in generate(1, entries):
                    lines = []
                    for n, w in zip(chunk.numbers, chunk.profile, strict=True):
                        row = list(_entry_row(n, w))
                        for at in (4, 7, 8):  # booleans stored as 0/1 for SQLite
                            row[at] = None if row[at] is None else bool(row[at])
                        row[16] = row[17] = stamp
                        lines.append("\t".join(_copy_text(v) for v in row))
                    copy.write(("\n".join(lines) + "\n").encode())
                    if chunk.numbers[-1] % 2_000_000 < CHUNK:
                        progress(f"PostgreSQL build: entries {chunk.numbers[-1]:,}")
            with cur.copy(
                "COPY signals_entryhash (id, hash_type, value, lookup_key,"
                " usable_for_matching, quality, entry_id) FROM STDIN"
            ) as copy:
                for chunk in generate(1, entries):
                    copy.write(
                        "".join(
                            f"{n}\tpdq\t{p}\t{p}\tt\t100\t{n}\n"
                            for n, p in zip(chunk.numbers, chunk.pdq, strict=True)
                        ).encode()
                    )
        steps["list_rows_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        for name, sql in indexes:
            progress(f"PostgreSQL build: index {name}")
            conn.execute(sql.encode())
        for table in BULK_TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                f" (SELECT max(id) FROM {table}))".encode()
            )
        steps["indexes_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        conn.execute("ANALYZE")
        steps["analyze_s"] = time.monotonic() - t0
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    total = time.monotonic() - started
    progress(f"PostgreSQL build: {total:.0f} s")
    return {"build_s": total, "steps": steps, "db_bytes": int(size[0]) if size else 0}


# --- children -----------------------------------------------------------------------------


def run_task(env: dict[str, str], task: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run a `--task` of this file in a child (Django set up on that child's database)."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--task", task, json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    if done.returncode:
        raise SetupFailed(f"task {task} failed:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _task_member(spec: dict[str, Any]) -> dict[str, Any]:
    """A member organisation with a full-tier Hash List licence and a fresh key (and the
    matching API with a high call limit when asked); earlier bench members and their
    access log go."""
    from openhotline.accounts.models import Organisation
    from openhotline.feeds.keys import issue_key
    from openhotline.feeds.models import AccessLog, Licence, Membership

    AccessLog.objects.all().delete()  # the bench database's log only
    Organisation.objects.filter(name=BENCH_ORG).delete()
    org = Organisation.objects.create(name=BENCH_ORG, kind="member")
    Licence.objects.create(organisation=org, feed=FEED, tier="full")
    match = bool(spec.get("match"))
    if match:
        Membership.objects.create(
            organisation=org,
            can_match=True,
            calls_per_minute=int(spec.get("per_minute", 1_000_000)),
        )
    issued = issue_key(org, feeds=[FEED], can_match=match, name="bench")
    return {"key": issued.plaintext}


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"member": _task_member}


def task_main(task: str, spec: str) -> None:
    import django

    django.setup()
    print(json.dumps(TASKS[task](json.loads(spec))))


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_env(env: dict[str, str], port: int) -> dict[str, str]:
    return {
        **env,
        "OPENHOTLINE_SSL_REDIRECT": "false",
        "OPENHOTLINE_ALLOWED_HOSTS": f"{HOST},localhost",
        "OPENHOTLINE_SITE_URL": f"http://{HOST}:{port}",
        "OPENHOTLINE_DB_CONN_MAX_AGE": "600",
    }


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text().rpartition(")")[2].split()
                if int(stat[1]) == parent:
                    found.append(int(entry.name))
    return found


def start_server(
    env: dict[str, str],
    port: int,
    workers: int,
    log: IO[bytes],
    timeout: float = 60,
    app: str = "openhotline.wsgi",
) -> subprocess.Popen[bytes]:
    """gunicorn serving `app` (a module, or a .py file: to measure a candidate change
    without editing the platform)."""
    import httpx

    extra: list[str] = []
    if app.endswith(".py"):
        extra = ["--pythonpath", str(Path(app).resolve().parent)]
        app = Path(app).stem
    command = [
        str(BIN / "gunicorn"),
        f"{app}:application",
        *extra,
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "--no-control-socket",
    ]
    server = subprocess.Popen(
        command,
        env=server_env(env, port),
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own session: stopped with its workers, nothing else
    )
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=5.0) as probe:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SetupFailed(f"gunicorn exited with {server.returncode}; see {log.name}")
            try:
                probe.get(f"http://{HOST}:{port}/api/v1/feeds/{FEED}/delta")  # 401 will do
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if len(children_of(server.pid)) >= workers:
                return server
            time.sleep(0.2)
    stop_server(server)
    raise SetupFailed(f"gunicorn did not answer within {timeout:.0f} s; see {log.name}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)  # the server's own session only
            server.wait(timeout=5)


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has spent busy so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- 1. export ----------------------------------------------------------------------------


@dataclass
class ChildRun:
    exit: int
    stdout: str
    stderr: str
    wall_s: float
    peak_rss_mib: float  # of that program alone: its VmHWM, sampled every 0.1 s
    cpu_s: float
    timed_out: bool
    other_cores: float  # cores kept busy meanwhile by everything but this process


def run_measured(
    command: list[str], env: dict[str, str], budget: float, logs: Path, label: str
) -> ChildRun:
    """Run a command in its own session: its peak RSS (VmHWM, sampled), CPU (wait4) and
    the other processes' load; killed (its session only) past `budget` seconds."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / f"{label}.stdout.log", logs / f"{label}.stderr.log"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        started = time.monotonic()
        busy_before = machine_busy_s()
        proc = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=err, start_new_session=True
        )
    killed = False
    peak = 0.0
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            # VmHWM: the high-water mark of this program's own memory (reset at exec).
            # wait4's ru_maxrss would also count the parent's memory at the fork.
            high = rss_mib(proc.pid, "VmHWM")
            if high == high:  # NaN once the process is gone
                peak = max(peak, high)
            if time.monotonic() - started > budget and not killed:
                progress(f"{label}: over its {budget:.0f} s budget, stopping it")
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.1)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        os.wait4(proc.pid, 0)
        proc.returncode = -9
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(
        exit=proc.returncode,
        stdout=stdout_path.read_text(errors="replace"),
        stderr=stderr_path.read_text(errors="replace"),
        wall_s=wall,
        peak_rss_mib=peak if peak > 0 else usage.ru_maxrss / 1024,
        cpu_s=cpu,
        timed_out=killed,
        other_cores=max(0.0, machine_busy_s() - busy_before - cpu) / max(wall, 1e-9),
    )


def run_export(env: dict[str, str], fmt: str, entries: int, budget: float) -> dict[str, Any]:
    """One `export-feeds` in a child: its own time, rate, peak RSS; killed past `budget`."""
    out_dir = VAR / "feeds-export"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    child_env = {**env, "OPENHOTLINE_FEED_EXPORT_DIR": str(out_dir)}
    command = [
        str(BIN / "openhotline"),
        "export-feeds",
        "--feed",
        FEED,
        "--tier",
        "full",
        "--format",
        fmt,
    ]
    run = run_measured(command, child_env, budget, out_dir, f"export-{fmt}")
    stdout, stderr, wall = run.stdout, run.stderr, run.wall_s
    result: dict[str, Any] = {
        "format": fmt,
        "wall_s": wall,
        "peak_rss_mib": run.peak_rss_mib,
        "peak_rss_mb": run.peak_rss_mib * 2**20 / 1e6,
        "cpu_s": run.cpu_s,
        "exit": run.exit,
        "timed_out": run.timed_out,
        "other_cores": run.other_cores,
    }
    done = 0
    for line in stderr.splitlines():  # progress lines: "hash-list full jsonl: N items (R/s)"
        if " items (" in line:
            with contextlib.suppress(ValueError):
                done = int(line.split(": ", 1)[1].split(" items", 1)[0].replace(",", ""))
    if run.exit == 0 and " items at seq " in stdout:
        line = stdout.strip().splitlines()[-1]
        seconds = float(line.rsplit(", ", 1)[1].rstrip(" s)"))
        path = Path(line.split(" → ", 1)[1].split(" (", 1)[0])
        manifest = json.loads(path.with_name(path.name + ".manifest.json").read_bytes())
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 22):
                sha.update(block)
        result.update(
            items=int(manifest["count"]),
            export_s=seconds,
            rate=int(manifest["count"]) / seconds,
            file_bytes=path.stat().st_size,
            checks_ok=int(manifest["count"]) == entries
            and manifest["sha256"] == sha.hexdigest()
            and manifest["bytes"] == path.stat().st_size,
        )
    else:
        result.update(
            items=done,
            export_s=wall,
            rate=done / wall,
            file_bytes=0,
            checks_ok=False,
            error=(stderr or stdout)[-1500:],
        )
    result["cpu_rate"] = result["items"] / max(run.cpu_s, 1e-9)
    shutil.rmtree(out_dir, ignore_errors=True)
    return result


def export_verdict(result: dict[str, Any]) -> dict[str, bool]:
    return {
        "rate": result["rate"] >= TARGET_EXPORT_RATE and result["checks_ok"],
        "rss": result["peak_rss_mb"] <= TARGET_EXPORT_RSS_MB,
    }


# --- 2. delta -----------------------------------------------------------------------------


def run_delta(
    env: dict[str, str],
    label: str,
    entries: int,
    changes: int,
    args: argparse.Namespace,
    budget: float,
) -> dict[str, Any]:
    import httpx

    key = run_task(env, "member", {"match": False})["key"]
    port = free_port()
    log_path = VAR / f"feeds-gunicorn-{label}.log"
    first = entries - changes  # a cursor here gives the first kept change next
    cursors = [first + PAGE * k for k in range(changes // PAGE)]
    if not cursors:
        raise SetupFailed(f"--changes must be at least {PAGE}")
    rng = random.Random(SEED)
    results: dict[str, Any] = {"pages": len(cursors), "server_workers": args.server_workers}
    stop_at = time.monotonic() + budget
    with log_path.open("wb") as log:
        server = start_server(env, port, args.server_workers, log, app=args.wsgi)
        try:
            with httpx.Client(
                base_url=f"http://{HOST}:{port}",
                trust_env=False,
                timeout=30.0,
                headers={"Authorization": f"Bearer {key}"},
            ) as client:
                for encoding in ("identity", "gzip"):
                    order = [rng.choice(cursors) for _ in range(20)]  # warm-up, not counted
                    order += rng.sample(cursors, min(len(cursors), args.requests))
                    while len(order) < 20 + args.requests:
                        order.append(rng.choice(cursors))
                    samples: list[float] = []
                    sizes: list[int] = []
                    bad: list[str] = []
                    for n, cursor in enumerate(order):
                        if time.monotonic() > stop_at:
                            bad.append("time budget reached")
                            break
                        t0 = time.perf_counter()
                        response = client.get(
                            f"/api/v1/feeds/{FEED}/delta",
                            params={"cursor": str(cursor), "limit": str(PAGE)},
                            headers={"Accept-Encoding": encoding},
                        )
                        elapsed = (time.perf_counter() - t0) * 1000
                        lines = response.content.count(b"\n")
                        problem = ""
                        if response.status_code != 200:
                            problem = f"HTTP {response.status_code}: {response.text[:200]}"
                        elif lines != PAGE:
                            problem = f"{lines} lines"
                        elif response.headers.get("X-Feed-Cursor") != str(cursor + PAGE):
                            problem = f"cursor {response.headers.get('X-Feed-Cursor')}"
                        elif (response.headers.get("Content-Encoding") == "gzip") != (
                            encoding == "gzip"
                        ):
                            problem = "wrong encoding"
                        if problem:
                            bad.append(problem)
                        if n >= 20:
                            samples.append(elapsed)
                            sizes.append(int(response.headers.get("Content-Length", 0)))
                    stats = latency_stats(samples)
                    results[encoding] = {
                        **stats,
                        "bytes_per_page": sum(sizes) / max(1, len(sizes)),
                        "errors": len(bad),
                        "first_errors": bad[:5],
                    }
                    progress(
                        f"delta {label} {encoding}: median {stats.get('median', 0):.1f} ms, "
                        f"p95 {stats.get('p95', 0):.1f} ms over {len(samples)}"
                    )
        finally:
            stop_server(server)
    return results


def delta_verdict(result: dict[str, Any]) -> dict[str, bool]:
    """The target on the median and on p95, both encodings, every answer right."""
    right = all(not result.get(e, {"errors": 1})["errors"] for e in ("identity", "gzip"))
    return {
        share: right
        and all(result.get(e, {}).get(share, 1e9) <= TARGET_DELTA_MS for e in ("identity", "gzip"))
        for share in ("median", "p95")
    }


# --- the run ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_summary(fig: dict[str, Any]) -> bool:
    """Print the table; True when every target is met."""
    all_ok = True
    print()
    print(
        f"Hash List of {fig['entries']:,} entries (generated rows, random hashes; bulk-loaded,"
        f" not imported), {os.cpu_count()} cores"
    )
    for db, db_fig in fig["databases"].items():
        build = db_fig.get("build", {})
        note = (
            "built this run"
            if build.get("fresh", True)
            else f"cached, built {build.get('built_at')}"
        )
        print(
            f"\n{db}: build {build.get('build_s', 0):.0f} s ({note}), "
            f"{build.get('db_bytes', 0) / 2**30:.1f} GiB"
        )
        for result in db_fig.get("exports", []):
            met = export_verdict(result)
            all_ok &= all(met.values())
            print(
                f"  export {result['format']:<5} {result['rate']:>10,.0f} entries/s "
                f"({result['items']:,} in {result['export_s']:.1f} s; process "
                f"{result['wall_s']:.1f} s, {result['cpu_s']:.1f} s CPU)  "
                f"target >= {TARGET_EXPORT_RATE:,.0f}: {verdict(met['rate'])}"
            )
            print(
                f"         peak RSS {result['peak_rss_mb']:>7,.0f} MB "
                f"({result['peak_rss_mib']:,.0f} MiB)"
                f"  target <= {TARGET_EXPORT_RSS_MB:.0f} MB: {verdict(met['rss'])};"
                + (
                    " stopped at its time budget: no file to check"
                    if result["timed_out"]
                    else f" file {result['file_bytes'] / 1e6:,.0f} MB; checks "
                    f"{'ok' if result['checks_ok'] else 'FAILED'}"
                )
            )
            print(
                f"         {result['cpu_rate']:,.0f} entries per CPU-second of the export "
                f"process; other processes kept {result['other_cores']:.2f} of "
                f"{os.cpu_count()} cores busy meanwhile"
            )
        delta = db_fig.get("delta")
        if delta:
            met = delta_verdict(delta)
            all_ok &= all(met.values())
            for encoding in ("identity", "gzip"):
                d = delta.get(encoding, {})
                if not d:
                    continue
                print(
                    f"  delta {PAGE:,} changes, {encoding:<8}: median {d['median']:6.1f} ms, p95 "
                    f"{d['p95']:6.1f}, max {d['max']:6.1f} over {d['count']} requests; "
                    f"{d['bytes_per_page'] / 1e3:,.0f} kB/page; errors {d['errors']}"
                )
            print(
                f"  delta target <= {TARGET_DELTA_MS:.0f} ms (both encodings): median "
                f"{verdict(met['median'])}, p95 {verdict(met['p95'])}"
            )
    return all_ok


def measure_database(
    label: str,
    env: dict[str, str],
    formats: list[str],
    args: argparse.Namespace,
    entries: int,
    changes: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {"exports": []}
    for fmt in formats:
        progress(f"export {label} {fmt} …")
        result = run_export(env, fmt, entries, args.export_budget)
        progress(
            f"export {label} {fmt}: {result['rate']:,.0f} entries/s, peak RSS "
            f"{result['peak_rss_mib']:,.0f} MiB"
        )
        out["exports"].append(result)
    if not args.skip_delta:
        out["delta"] = run_delta(env, label, entries, changes, args, args.delta_budget)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=DEFAULT_ENTRIES)
    parser.add_argument("--changes", type=int, default=DEFAULT_CHANGES, help="change rows kept")
    parser.add_argument("--formats", default="jsonl,csv,vics")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--pg-formats", default="jsonl")
    parser.add_argument("--requests", type=int, default=250, help="per encoding")
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument(
        "--export-budget", type=float, default=300.0, help="s per export (3x the target's)"
    )
    parser.add_argument("--delta-budget", type=float, default=300.0, help="s per database")
    parser.add_argument("--deadline", type=float, default=3600.0, help="s for everything")
    parser.add_argument("--skip-delta", action="store_true")
    parser.add_argument(
        "--wsgi",
        default="openhotline.wsgi",
        help="WSGI module (or .py file) the server runs, to measure a candidate change",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--task", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.task:
        task_main(*args.task)
        return 0
    if not PAGE <= args.changes <= args.entries:
        parser.error(f"--changes must be between {PAGE} and --entries")
    formats = [f for f in args.formats.split(",") if f]
    pg_formats = [f for f in args.pg_formats.split(",") if f]
    set_deadline(args.deadline)
    figures: dict[str, Any] = {"entries": args.entries, "changes": args.changes, "databases": {}}
    code = 0
    try:
        folder, meta = ensure_sqlite(args.entries, args.changes, args.rebuild)
        env = base_env(folder)
        sqlite_fig = measure_database("sqlite", env, formats, args, args.entries, args.changes)
        figures["databases"]["SQLite"] = {"build": meta, **sqlite_fig}
        if args.postgres:
            try:
                build = build_postgres(args.entries, args.changes, VAR / "feeds-pg")
                pg_env = base_env(VAR / "feeds-pg", PG_URL)
                pg_fig = measure_database(
                    "postgres", pg_env, pg_formats, args, args.entries, args.changes
                )
                figures["databases"]["PostgreSQL"] = {"build": build, **pg_fig}
            finally:
                drop_postgres()
                shutil.rmtree(VAR / "feeds-pg", ignore_errors=True)
    except SetupFailed as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        code = 2
    except Deadline:
        print(f"hard deadline ({args.deadline:.0f} s) passed; stopped", file=sys.stderr)
        code = 1
    finally:
        signal.alarm(0)
    if figures["databases"]:
        ok = print_summary(figures)
        code = code or (0 if ok else 1)
        figures["all_targets_met"] = ok
        out = VAR / "feeds.json"
        out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
        print(f"\n  written to {out.relative_to(ROOT)}")
        if args.json:
            print(json.dumps(figures, indent=2, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
