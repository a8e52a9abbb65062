"""A report acknowledged with 201 is stored, even if the server is killed right after.

GIVEN the production server (gunicorn) on its own database
WHEN  clients send reports and the server is SIGKILLed while they are in flight
THEN  every reference that was acknowledged is in the database afterwards.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings

from openhotline.core.secret_values import fresh_environment

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENHOTLINE_", "DATABASE", "DJANGO_"))
    }
    env |= {
        "OPENHOTLINE_VAR_DIR": str(tmp_path),
        **fresh_environment(),
        "OPENHOTLINE_SSL_REDIRECT": "false",
        "OPENHOTLINE_REPORT_RATE": "100000/min",
    }
    database = settings.DATABASES["default"]
    pg_name = None
    if str(database["ENGINE"]).endswith("postgresql"):
        pg_name = f"openhotline_durability_{os.getpid()}"
        with admin_connection(database) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = (
            f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{pg_name}"
        )
    subprocess.run([str(BIN / "openhotline"), "migrate", "-v", "0"], env=env, check=True)
    yield env
    if pg_name:
        with admin_connection(database) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def admin_connection(database: dict) -> psycopg.Connection:
    return psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    )


def stored_references(env: dict[str, str]) -> set[str]:
    if "DATABASE_URL" in env:
        with psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://")) as conn:
            rows = conn.execute("SELECT reference FROM intake_report").fetchall()
    else:
        with sqlite3.connect(Path(env["OPENHOTLINE_VAR_DIR"]) / "openhotline.sqlite3") as conn:
            rows = conn.execute("SELECT reference FROM intake_report").fetchall()
    return {row[0] for row in rows}


def test_acknowledged_reports_survive_a_sigkill(server_env: dict[str, str]) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "openhotline.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--no-control-socket"],
        env=server_env, start_new_session=True, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/report/", timeout=1, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def send(worker: int) -> None:
            with httpx.Client(base_url=base, timeout=5, trust_env=False) as client:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        response = client.post(
                            "/api/v1/reports",
                            json={"urls": [f"http://durable.test/{worker}/{n}"]},
                        )
                    except httpx.TransportError:
                        return
                    if response.status_code == 201:
                        with lock:
                            acknowledged.append(response.json()["reference"])

        threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Kill the whole server (master and workers) with requests in flight.
        os.killpg(server.pid, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    assert len(acknowledged) >= 40
    missing = set(acknowledged) - stored_references(server_env)
    assert missing == set()
