"""Intake benchmark: public reports per second and their latency, against the real server.

Creates a fresh PostgreSQL database, migrates it, starts gunicorn on 127.0.0.1 as in
production (Redis-backed throttle, lifted so that one address may send everything), and
runs client processes that POST to `/api/v1/reports` over keep-alive connections for a
fixed time. After a warm-up it counts accepted reports (201) per second and the latency
percentiles, then checks in the database that every acknowledged report was stored.
It also reads /proc to say where the CPU went (server, PostgreSQL, clients).

Targets: >= 500 accepted reports/s, p99 <= 150 ms. A benchmark, not a test: the exit
status is 0 unless setup fails. Figures are printed and written to var/bench/intake.json.

    .venv/bin/python bench/intake_bench.py [--seconds 20] [--clients 2] [--concurrency 8]
        [--warmup 3] [--server-workers 3] [--worker-class sync|gthread] [--threads 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx
import psycopg
import redis

from openhotline.core.secret_values import fresh_environment

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
VAR = ROOT / "var" / "bench"
HOST = "127.0.0.1"  # never anything else: the bench talks only to this machine
PG_ADMIN = f"postgresql://postgres@{HOST}:5432/postgres"
BENCH_DB = "openhotline_bench"
PG_BENCH = f"postgresql://postgres@{HOST}:5432/{BENCH_DB}"
REDIS_URL = f"redis://{HOST}:6379/0"
ENDPOINT = "/api/v1/reports"
TARGET_RATE = 500.0
TARGET_P99_MS = 150.0
REUSE_SHARE = 0.2  # share of reports naming an address already reported (case dedup path)
SETUP_BUDGET_S = 180  # migrate + server start + teardown, on top of the measured run
REQUEST_TIMEOUT_S = 10.0
OTHER_LOAD_WARNING = 0.25  # cores busy outside the bench that make its figures suspect


class SetupFailed(Exception):
    """Something the benchmark needs could not be prepared; exit 1."""


class Deadline(Exception):
    """The hard deadline passed; everything is torn down."""


@dataclass
class ClientResult:
    """What one client process saw, sent back to the parent in one piece."""

    # (completed at on the machine-wide monotonic clock, latency in s, HTTP status or 0)
    samples: list[tuple[float, float, int]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    references: list[str] = field(default_factory=list)
    accepted_urls: set[str] = field(default_factory=set)


# --- client side (runs in child processes) ------------------------------------------------


def _client_thread(
    base_url: str,
    proc: int,
    thread: int,
    start_at: float,
    stop_at: float,
    sent_urls: list[str],
    out: ClientResult,
    lock: threading.Lock,
) -> None:
    rng = random.Random(f"{proc}-{thread}")
    result = ClientResult()
    # One keep-alive connection per thread: no pool contention between threads.
    with httpx.Client(
        base_url=base_url,
        trust_env=False,
        timeout=httpx.Timeout(REQUEST_TIMEOUT_S),
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        headers={"Content-Type": "application/json"},
    ) as client:
        while time.monotonic() < start_at:
            time.sleep(0.001)
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            if sent_urls and rng.random() < REUSE_SHARE:
                url = rng.choice(sent_urls)
            else:
                # Unique by path; hosts repeat, as real reports cluster on sites.
                url = f"http://site-{rng.randrange(1000)}.test/page/{proc}-{thread}-{n}"
                sent_urls.append(url)  # list.append is atomic under the GIL
            body = json.dumps({"urls": [url], "description": f"bench report {n}", "contact": ""})
            t0 = time.perf_counter()
            try:
                response = client.post(ENDPOINT, content=body.encode())
                status = response.status_code
            except httpx.HTTPError as exc:
                status = 0
                result.errors[type(exc).__name__] += 1
            result.samples.append((time.monotonic(), time.perf_counter() - t0, status))
            if status == 201:
                result.references.append(response.json()["reference"])
                result.accepted_urls.add(url)
            elif status:
                result.errors[f"HTTP {status}"] += 1
    with lock:
        out.samples.extend(result.samples)
        out.errors.update(result.errors)
        out.references.extend(result.references)
        out.accepted_urls |= result.accepted_urls


def client_process(
    base_url: str,
    proc: int,
    concurrency: int,
    start_at: float,
    stop_at: float,
    results: multiprocessing.Queue[ClientResult],
) -> None:
    out = ClientResult()
    lock = threading.Lock()
    sent_urls: list[str] = []
    threads = [
        threading.Thread(
            target=_client_thread,
            args=(base_url, proc, t, start_at, stop_at, sent_urls, out, lock),
            daemon=True,
        )
        for t in range(concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, stop_at - time.monotonic()) + REQUEST_TIMEOUT_S + 5)
    results.put(out)


# --- where the CPU goes (Linux /proc; skipped elsewhere) ------------------------------------

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rpartition(")")[2].split()  # the command name may contain spaces


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = _proc_stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def children_of(parent: int) -> list[int]:
    found: list[int] = []
    if not Path("/proc").is_dir():
        return found
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc_stat(int(entry.name))
            if fields and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def machine_busy_seconds() -> float:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def pg_processes() -> list[int]:
    """The bench database's backends and PostgreSQL's own (WAL writer, checkpointer...)."""
    # The server's connections persist (CONN_MAX_AGE), so one look finds them all.
    with psycopg.connect(PG_BENCH, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND (datname = %s OR backend_type <> 'client backend')",
            [BENCH_DB],
        ).fetchall()
    return [int(row[0]) for row in rows]


def redis_cpu_seconds() -> float:
    try:
        info = redis.Redis.from_url(REDIS_URL, socket_timeout=2).info("cpu")
    except redis.RedisError:
        return 0.0
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    snapshot = {name: cpu_seconds(pids) for name, pids in groups.items()}
    snapshot["redis"] = redis_cpu_seconds()
    snapshot["machine"] = machine_busy_seconds()
    return snapshot


# --- setup and teardown -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    # Only what the bench sets: no outside database, cache or proxy settings leak in.
    for name in list(env):
        if name.startswith("OPENHOTLINE_") or name in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}:
            del env[name]
    env.update(
        DATABASE_URL=f"postgres://postgres@{HOST}:5432/{BENCH_DB}",
        **fresh_environment(),
        OPENHOTLINE_VAR_DIR=str(VAR),
        OPENHOTLINE_SSL_REDIRECT="false",
        OPENHOTLINE_ALLOWED_HOSTS=f"{HOST},localhost",
        OPENHOTLINE_SITE_URL=f"http://{HOST}:{port}",
        # All clients share one address: lift the anti-abuse throttle, but keep it running.
        OPENHOTLINE_REPORT_RATE="1000000/min",
        OPENHOTLINE_DB_CONN_MAX_AGE="600",
        OPENHOTLINE_REDIS_URL=REDIS_URL,
        OPENHOTLINE_LOG_LEVEL="WARNING",
    )
    return env


def admin_execute(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.encode())  # our own constant SQL, never user input


def create_database() -> None:
    try:
        admin_execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        admin_execute(f'CREATE DATABASE "{BENCH_DB}"')
    except psycopg.Error as exc:
        raise SetupFailed(f"PostgreSQL at {HOST}:5432: {exc}") from exc


def drop_database() -> None:
    try:
        admin_execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    except psycopg.Error as exc:
        print(f"warning: could not drop {BENCH_DB}: {exc}", file=sys.stderr)


def migrate(env: dict[str, str]) -> None:
    try:
        done = subprocess.run(
            [str(BIN / "openhotline"), "migrate", "--no-input", "-v", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired as exc:
        raise SetupFailed("migrate took longer than 120 s") from exc
    if done.returncode:
        raise SetupFailed(f"migrate failed:\n{done.stdout}{done.stderr}")


def start_server(
    env: dict[str, str], port: int, args: argparse.Namespace, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    command = [
        str(BIN / "gunicorn"), "openhotline.wsgi",
        "--bind", f"{HOST}:{port}",
        "--workers", str(args.server_workers),
        "--worker-class", args.worker_class,
        "--threads", str(args.threads),
        "--graceful-timeout", "10",
        "--backlog", "2048",
        "--no-control-socket",
    ]  # fmt: skip
    # Own session: the server's workers are stopped with it, never anything else.
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 30
    with httpx.Client(trust_env=False, timeout=2.0) as probe:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SetupFailed(f"gunicorn exited with {server.returncode}; see {log.name}")
            try:
                probe.get(f"http://{HOST}:{port}{ENDPOINT}")  # any answer will do (403)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if not Path("/proc").is_dir() or len(children_of(server.pid)) >= args.server_workers:
                return server
            time.sleep(0.2)  # the first worker answered; wait for the others to boot
    stop_server(server)
    raise SetupFailed(f"gunicorn did not answer within 30 s; see {log.name}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)  # our own session only
            server.wait(timeout=5)


def stored_counts(references: list[str]) -> dict[str, int]:
    with psycopg.connect(PG_BENCH, connect_timeout=5) as conn:
        reports = conn.execute("SELECT count(*) FROM intake_report").fetchone()
        acked = conn.execute(
            "SELECT count(*) FROM intake_report WHERE reference = ANY(%s)", [references]
        ).fetchone()
        cases = conn.execute(
            "SELECT count(*), coalesce(sum(report_count), 0) FROM cases_case"
        ).fetchone()
    assert reports and acked and cases
    return {
        "reports": int(reports[0]),
        "acknowledged_found": int(acked[0]),
        "cases": int(cases[0]),
        "case_report_count_sum": int(cases[1]),
    }


# --- the run --------------------------------------------------------------------------------


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def measure(
    port: int, args: argparse.Namespace, server: subprocess.Popen[bytes]
) -> tuple[list[ClientResult], dict[str, float], float, float]:
    """Run the clients; return their results, CPU seconds per component, and the window."""
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter, no inherited state
    results_queue: multiprocessing.Queue[ClientResult] = ctx.Queue()
    start_at = time.monotonic() + 2.0  # time for the clients to spawn and import
    measure_from = start_at + args.warmup
    stop_at = measure_from + args.seconds
    procs = [
        ctx.Process(
            target=client_process,
            args=(f"http://{HOST}:{port}", p, args.concurrency, start_at, stop_at, results_queue),
            daemon=True,
        )
        for p in range(args.clients)
    ]
    results: list[ClientResult] = []
    try:
        for proc in procs:
            proc.start()
        sleep_until(measure_from)
        groups = {
            "server": [server.pid, *children_of(server.pid)],
            "database": pg_processes(),
            "clients": [p.pid for p in procs if p.pid is not None],
        }
        before = cpu_snapshot(groups)
        sleep_until(stop_at)
        after = cpu_snapshot(groups)
        for _ in procs:
            # Read before joining: a child cannot exit while its result fills the pipe.
            wait = max(0.0, stop_at - time.monotonic()) + REQUEST_TIMEOUT_S + 30
            results.append(results_queue.get(timeout=wait))
    except queue.Empty as exc:
        raise SetupFailed("a client process sent no results") from exc
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
    cpu = {name: after[name] - before[name] for name in before}
    # Everything else that ran meanwhile (the kernel, other people's jobs).
    cpu["other"] = max(0.0, cpu["machine"] - sum(cpu[name] for name in [*groups, "redis"]))
    return results, cpu, measure_from, stop_at


def run(args: argparse.Namespace) -> dict[str, Any]:
    VAR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_env(port)
    print(
        f"intake bench: {os.cpu_count()} cores; gunicorn {args.server_workers} x "
        f"{args.worker_class} ({args.threads} thread(s)); {args.clients} client processes x "
        f"{args.concurrency} connections; {args.warmup:g} s warm-up + {args.seconds:g} s measured"
    )
    create_database()
    server: subprocess.Popen[bytes] | None = None
    log_path = VAR / "intake-gunicorn.log"
    try:
        migrate(env)
        with log_path.open("wb") as log:
            server = start_server(env, port, args, log)
            results, cpu, measure_from, stop_at = measure(port, args, server)
            stop_server(server)  # before counting: every request it took is finished
        counts = stored_counts([ref for res in results for ref in res.references])
    finally:
        if server is not None:
            stop_server(server)
        drop_database()

    samples = [s for res in results for s in res.samples]
    window = [s for s in samples if measure_from <= s[0] < stop_at]
    accepted = [s for s in window if s[2] == 201]
    latencies_ms = sorted(s[1] * 1000 for s in window)
    per_second = Counter(int(s[0] - measure_from) for s in accepted)
    seconds = [per_second.get(i, 0) for i in range(int(args.seconds))]
    errors: Counter[str] = Counter()
    for res in results:
        errors.update(res.errors)
    acked_total = sum(1 for s in samples if s[2] == 201)
    accepted_urls: set[str] = set().union(*(res.accepted_urls for res in results))
    handled = max(1, len(window))
    return {
        "cores": os.cpu_count(),
        "server": {
            "workers": args.server_workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
        },
        "clients": {"processes": args.clients, "concurrency": args.concurrency},
        "warmup_s": args.warmup,
        "measured_s": args.seconds,
        "accepted_per_s": len(accepted) / args.seconds,
        "accepted_per_s_min": min(seconds, default=0),
        "accepted_per_s_max": max(seconds, default=0),
        "requests_in_window": len(window),
        "latency_ms": {
            "p50": percentile(latencies_ms, 0.50),
            "p95": percentile(latencies_ms, 0.95),
            "p99": percentile(latencies_ms, 0.99),
            "max": latencies_ms[-1] if latencies_ms else None,
        },
        "errors": dict(errors),
        "error_count": sum(errors.values()),
        # CPU in the measured window: cores kept busy, and milliseconds per request.
        "cpu_cores_busy": {name: secs / args.seconds for name, secs in cpu.items()},
        "cpu_ms_per_request": {name: secs * 1000 / handled for name, secs in cpu.items()},
        "acknowledged_total": acked_total,
        "distinct_urls_acknowledged": len(accepted_urls),
        "stored": counts,
        "nothing_lost": counts["reports"] == acked_total == counts["acknowledged_found"],
        "cases_match": counts["cases"] == len(accepted_urls)
        and counts["case_report_count_sum"] == acked_total,
    }


def print_summary(fig: dict[str, Any], log_path: Path) -> None:
    lat = fig["latency_ms"]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rate_ok = fig["accepted_per_s"] >= TARGET_RATE
    p99_ok = lat["p99"] is not None and lat["p99"] <= TARGET_P99_MS
    srv, stored = fig["server"], fig["stored"]
    busy, per_req = fig["cpu_cores_busy"], fig["cpu_ms_per_request"]
    rows = [
        ("cores", f"{fig['cores']}", ""),
        ("server", f"{srv['workers']} x {srv['worker_class']}", f"{srv['threads']} thread(s)"),
        ("clients", f"{fig['clients']['processes']} x {fig['clients']['concurrency']}", ""),
        (
            "accepted reports/s",
            f"{fig['accepted_per_s']:.0f}",
            f"target >= {TARGET_RATE:.0f}: {verdict(rate_ok)}",
        ),
        ("  slowest/fastest s", f"{fig['accepted_per_s_min']} / {fig['accepted_per_s_max']}", ""),
        ("latency p50 ms", ms(lat["p50"]), ""),
        ("latency p95 ms", ms(lat["p95"]), ""),
        ("latency p99 ms", ms(lat["p99"]), f"target <= {TARGET_P99_MS:.0f}: {verdict(p99_ok)}"),
        ("latency max ms", ms(lat["max"]), ""),
        (
            "errors",
            f"{fig['error_count']}",
            f"{json.dumps(fig['errors'])}; see {log_path.relative_to(ROOT)}"
            if fig["errors"]
            else "",
        ),
        (
            "nothing lost",
            "yes" if fig["nothing_lost"] else "NO",
            f"{fig['acknowledged_total']} acknowledged (201), {stored['reports']} stored, "
            f"{stored['acknowledged_found']} found by reference",
        ),
        (
            "cases (dedup)",
            "yes" if fig["cases_match"] else "NO",
            f"{stored['cases']} cases for {fig['distinct_urls_acknowledged']} distinct URLs",
        ),
    ]
    rows += [
        (
            f"CPU {name}",
            f"{busy[name]:.2f} cores",
            f"{per_req[name]:.1f} ms per request",
        )
        for name in ("server", "database", "redis", "clients", "other", "machine")
    ]
    print()
    for name, value, note in rows:
        print(f"  {name:<20}{value:>14}  {note}")
    if busy["other"] > OTHER_LOAD_WARNING:
        print(
            f"\n  warning: {busy['other']:.2f} cores went to other work on this machine "
            "during the run; the figures understate the server"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured time first")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=8, help="connections per client")
    parser.add_argument("--server-workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    args = parser.parse_args()
    if min(args.seconds, args.clients, args.concurrency, args.server_workers, args.threads) < 1:
        parser.error("--seconds, --clients, --concurrency, --server-workers, --threads: >= 1")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")

    def on_deadline(signum: int, frame: FrameType | None) -> None:
        raise Deadline()

    # Hard deadline: whatever hangs, the finally-blocks stop the server and drop the database.
    signal.signal(signal.SIGALRM, on_deadline)
    signal.alarm(int(args.warmup + args.seconds) + SETUP_BUDGET_S)
    try:
        figures = run(args)
    except SetupFailed as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 1
    except Deadline:
        print("hard deadline passed; stopped", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    print_summary(figures, VAR / "intake-gunicorn.log")
    out = VAR / "intake.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n  written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
