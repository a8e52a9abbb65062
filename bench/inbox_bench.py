"""Inbox benchmark: the staff inbox with 100,000 cases, first page, filtered and deep pages.

Seeds a fresh database (PostgreSQL if reachable, else SQLite under var/bench), then times
the inbox view through Django's test client (view, queries, template; no network) and
prints the query plan of the deep page. Bounded: fixed repetitions, no server.

    .venv/bin/python bench/inbox_bench.py [--cases 100000] [--sqlite]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from openhotline.core.secret_values import fresh_environment

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "openhotline_inbox_bench"


def configure(use_sqlite: bool) -> str:
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        OPENHOTLINE_VAR_DIR=str(var),
        **fresh_environment(),
        OPENHOTLINE_SSL_REDIRECT="false",
        OPENHOTLINE_ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="openhotline.settings",
    )
    if not use_sqlite:
        import psycopg

        try:
            with psycopg.connect(PG_ADMIN.replace("postgres://", "postgresql://"),
                                 autocommit=True, connect_timeout=3) as conn:  # fmt: skip
                conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
            os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
            return "PostgreSQL"
        except psycopg.Error:
            print("PostgreSQL not reachable; using SQLite")
    (var / "openhotline.sqlite3").unlink(missing_ok=True)
    return "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    engine = configure(args.sqlite)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from openhotline.accounts.models import Role, User
    from openhotline.cases.models import Case, CaseKind
    from openhotline.intake.models import Channel, Report

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    started = time.perf_counter()
    now = timezone.now()
    batch = 5000
    for start in range(0, args.cases, batch):
        reports = Report.objects.bulk_create(
            [
                Report(
                    reference=f"R-BENCH-{n:08d}",
                    status_secret_digest="0" * 64,
                    channel=(Channel.WEB, Channel.API, Channel.PORTAL)[n % 3],
                    created_at=now - timedelta(seconds=n),
                )
                for n in range(start, min(start + batch, args.cases))
            ]
        )
        Case.objects.bulk_create(
            [
                Case(
                    kind=CaseKind.URL,
                    url=f"http://host{n % 997}.test/page/{n}",
                    host=f"host{n % 997}.test",
                    last_reported_at=report.created_at,
                    report_count=1 + n % 4,
                    latest_report=report,
                )
                for n, report in zip(range(start, start + batch), reports, strict=False)
            ]
        )
        print(f"\rseeded {min(start + batch, args.cases):,} / {args.cases:,} cases", end="")
    print(f"  ({time.perf_counter() - started:.1f} s)")
    if engine == "PostgreSQL":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    user = User.objects.create_user("bench-analyst", password="x" * 20, role=Role.ANALYST)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    deep = Case.objects.order_by("-last_reported_at", "-id")[int(args.cases * 0.9)]
    cursor_value = f"{deep.last_reported_at.isoformat()}_{deep.pk}"
    pages = {
        "first page": "/staff/",
        "filtered (channel=api)": "/staff/?channel=api",
        "filtered (host)": "/staff/?host=host5.test",
        "deep page (90%)": "/staff/?before=" + cursor_value.replace("+", "%2B"),
        "htmx rows": "/staff/",
    }
    print(f"\nInbox with {args.cases:,} cases on {engine} (50 rows per page, 30 runs each)")
    print(f"{'page':<26}{'median ms':>10}{'p95 ms':>10}")
    for name, path in pages.items():
        headers = {"HX-Request": "true"} if name == "htmx rows" else {}
        timings = []
        for _ in range(30):
            t0 = time.perf_counter()
            response = client.get(path, headers=headers)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        timings.sort()
        print(f"{name:<26}{statistics.median(timings):>10.1f}{timings[28]:>10.1f}")
    if engine == "PostgreSQL":
        from django.db.models import Q

        from openhotline.casefile.api import filtered_cases
        from openhotline.casefile.views import _page

        query = filtered_cases({}).order_by("-last_reported_at", "-id")
        query = query.filter(last_reported_at__lte=deep.last_reported_at).filter(
            Q(last_reported_at__lt=deep.last_reported_at) | Q(id__lt=deep.pk)
        )[:51]
        assert [c.pk for c in query[:50]] == [
            c.pk
            for c in _page(filtered_cases({}).order_by("-last_reported_at", "-id"), cursor_value)[0]
        ]
        print("\nplan of the deep page:\n" + query.explain())
        connection.close()
        import psycopg

        with psycopg.connect(PG_ADMIN.replace("postgres://", "postgresql://"),
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
