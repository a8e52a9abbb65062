"""Takedown benchmark: decision → notice accepted by the mail server, and rechecks per
second, on the simulated internet with real task worker processes.

    .venv/bin/python bench/takedown_bench.py [--cases 1000] [--workers 2] [--rate 2]
        [--rechecks N] [--interval 1] [--deadline 1200] [--json]

Starts simnet (DNS, web, RDAP, SMTP and a GeoIP .mmdb, all on 127.77.0.0/16) in this
process and `--workers` `openhotline db_worker` processes on a fresh SQLite database under
var/ (removed at the end), with the environment simnet gives a deployment. It seeds
`--cases` captured cases of distinct URLs on stubborn-us.test (whose provider ignores
notices, so the page stays up: `?n=<i>` makes each URL distinct; simnet serves the page
whatever the query), each showing the site's two pictures (benign generated images, stored
and hashed as a capture would) graded with a criminal label, and a routing rule for the US:
home route, so each case gets a notice to the host's abuse desk and a police notification.

Then an analyst decides the cases criminal with `decide()` (what the case screen calls), at
`--rate` decisions per second (0: as fast as this process can), after a few warm-up cases
that are not counted. `decide()` queues `act_on_task`; a worker traces the host (DNS, GeoIP,
RDAP), plans the route, creates the actions and queues their sends; a worker composes the
notice (text and X-ARF) and hands it to simnet's SMTP server, which stamps `received_at`.
Latency per case: `Decision.decided_at` → `received_at` of the message whose
X-Notice-Reference is the case's notice. The task rows' start and end times split it into
stages. Throughput: notices accepted per second from the first measured decision to the last
notice. Finally `--rechecks` `recheck_task`s (default: one per case) are queued at once for
the actioned cases and the workers run them (trace again, fetch the page and the criminal
pictures, compare hashes): rechecks per second from the commit to the last one finished.

Production settings otherwise (worker poll interval 1 s as in `run-demo`, the default
retry, stall and recheck schedules); QA sampling off, so every decision takes the same
path. Nothing leaves loopback: this process and the workers refuse any connection or
datagram to an address outside 127.0.0.0/8. Bounded: a global `--deadline` (default
20 minutes) after which it stops, reports what it has and stops the workers; a hard stop
90 s later. Exit status 1 if a case got no notice, a task failed, the run stopped early or
the median is over the target (5 s); 2 if setup failed.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "stubborn-us.test"
PAGE = "/pics/1"
PICTURES = ("stub-1.jpg", "stub-2.png")
POLICE = "cyber@police.test"
LABEL = ("sexual_posing", "7-10")  # a label on a benign generated picture
TARGET_MEDIAN_S = 5.0
HARD_STOP_GRACE_S = 90.0
STUCK_S = 60.0  # no notice and no task due or running for this long: stop waiting


class BenchError(RuntimeError):
    pass


# --- Safety ---------------------------------------------------------------------------


def guard_loopback() -> None:
    """No connection or datagram from this process to anything outside 127.0.0.0/8 / ::1."""
    import ipaddress

    def allowed(address: Any) -> bool:
        if not (isinstance(address, tuple) and address):
            return False
        try:
            return ipaddress.ip_address(address[0]).is_loopback
        except ValueError:
            return False  # a name: nothing here connects by name

    def wrap(real: Callable[..., Any], target_last: bool) -> Any:
        def guarded(sock: socket.socket, *args: Any) -> Any:
            target = args[-1] if target_last else args[0]
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not allowed(target):
                raise ConnectionRefusedError(f"takedown bench refused to reach {target!r}")
            return real(sock, *args)

        return guarded

    socket.socket.connect = wrap(socket.socket.connect, False)  # type: ignore[method-assign]
    socket.socket.connect_ex = wrap(socket.socket.connect_ex, False)  # type: ignore[method-assign]
    socket.socket.sendto = wrap(socket.socket.sendto, True)  # type: ignore[method-assign]


_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f} s] {message}", file=sys.stderr, flush=True)


# --- The worker processes -------------------------------------------------------------


def worker_process(interval: float) -> None:
    """What each child runs: the real `openhotline db_worker`, behind the loopback guard."""
    guard_loopback()
    from django.core.management import execute_from_command_line

    execute_from_command_line(
        ["openhotline", "db_worker", "--no-reload", "--interval", f"{interval:g}"]
    )


class Workers:
    """`count` worker processes, each in its own session, logging to var/worker-N.log."""

    def __init__(self, count: int, interval: float, env: dict[str, str], var: Path) -> None:
        self.count, self.interval, self.env, self.var = count, interval, env, var
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for n in range(self.count):
            log = (self.var / f"worker-{n}.log").open("wb")
            command = [sys.executable, str(Path(__file__).resolve()), "--worker-process",
                       "--interval", f"{self.interval:g}"]  # fmt: skip
            proc = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            self.procs.append(proc)
            log.close()

    def check(self) -> None:
        for n, proc in enumerate(self.procs):
            if proc.poll() is not None:
                tail = (self.var / f"worker-{n}.log").read_text(errors="replace")[-2000:]
                raise BenchError(f"worker {n} ended (status {proc.returncode}):\n{tail}")

    def cpu_seconds(self) -> float:
        """User + system CPU of the live workers so far (from /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for proc in self.procs:
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        """SIGTERM (a worker finishes its task), then SIGKILL after 15 s; only our children."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        until = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, until - time.monotonic()))
            except subprocess.TimeoutExpired:
                kill_group(proc.pid)
                proc.wait(timeout=10)
        self.procs = []


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # the child's own session: itself and nothing else


_workers: Workers | None = None


def _system_busy_seconds() -> float:
    """CPU seconds all processes on the machine spent busy so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Cores kept busy over a phase: the workers, this process (simnet's servers, the
    decisions, the polling) and everything else on the machine."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        own = os.times()
        workers = _workers.cpu_seconds() if _workers is not None else 0.0
        return workers, own.user + own.system, _system_busy_seconds()

    def read(self) -> dict[str, float]:
        workers, bench, system = (b - a for a, b in zip(self.start, self._sample(), strict=True))
        wall = max(time.monotonic() - self.t0, 1e-9)
        return {
            "wall_s": wall,
            "workers_cpu_s": workers,
            "workers_cores": workers / wall,
            "bench_process_cores": bench / wall,
            "other_processes_cores": max(0.0, system - workers - bench) / wall,
        }


# --- Setup ----------------------------------------------------------------------------


def environment(var: Path, net: Any) -> dict[str, str]:
    from openhotline.core.secret_values import fresh_environment

    env = {
        "OPENHOTLINE_VAR_DIR": str(var),
        **fresh_environment(),
        "DJANGO_SETTINGS_MODULE": "openhotline.settings",
        "OPENHOTLINE_DEBUG": "false",
        "OPENHOTLINE_SITE_URL": "http://127.0.0.1:8000",
        "OPENHOTLINE_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OPENHOTLINE_FROM_EMAIL": "hotline@openhotline.test",
        "OPENHOTLINE_QA_SHARE_PERCENT": "0",
        "OPENHOTLINE_POLICE_CONTACT": POLICE,
        **net.environment(),
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "OPENHOTLINE_REDIS_URL", "OPENHOTLINE_EMAIL_BACKEND"):
        os.environ.pop(name, None)
    os.environ.update(env)
    return dict(os.environ)


def seed(count: int, net: Any) -> tuple[Any, list[int]]:
    """An analyst, the US routing rule and `count` captured cases with draft grades."""
    from django.db import transaction
    from django.utils import timezone

    from openhotline import grading
    from openhotline.accounts.models import Role, User
    from openhotline.assessment.models import MediaGrade, Stage, Via
    from openhotline.cases.models import Case, CaseKind, CaseState
    from openhotline.evidence.models import Capture, CaptureItem, CaptureState, ItemState
    from openhotline.tracing.models import Route, RoutingRule
    from tests.assessment.factory import store_media

    analyst = User.objects.create_user(username="bench-analyst")
    analyst.role = Role.ANALYST
    analyst.save()
    RoutingRule.objects.create(country="US", route=Route.HOME, police_contact=POLICE)
    host = net.world.host_by_name(HOST)
    media = []
    for name in PICTURES:
        # The bytes simnet serves for the picture, so a recheck finds them by hash.
        status, _ctype, body = net.web.respond(host.address, HOST, f"/img/{name}")
        if status != 200:
            raise BenchError(f"simnet did not serve {HOST}/img/{name}: {status}")
        media.append((net.url(HOST, f"/img/{name}"), store_media(body)))
    meaning = grading.classify(LABEL[0], LABEL[1], False)
    page = net.url(HOST, PAGE)
    ids: list[int] = []
    chunk = 250
    for start in range(0, count, chunk):
        now = timezone.now()
        with transaction.atomic():
            cases = Case.objects.bulk_create(
                Case(kind=CaseKind.URL, url=f"{page}?n={i}", host=HOST, state=CaseState.CAPTURED,
                     report_count=1, created_at=now, last_reported_at=now)
                for i in range(start, min(count, start + chunk))
            )  # fmt: skip
            captures = Capture.objects.bulk_create(
                Capture(case=case, requested_url=case.url or "", state=CaptureState.DONE,
                        final_url=case.url or "", status_code=200)
                for case in cases
            )  # fmt: skip
            CaptureItem.objects.bulk_create(
                CaptureItem(capture=capture, url=url, found_in="img", state=ItemState.STORED,
                            media=medium)
                for capture in captures for url, medium in media
            )  # fmt: skip
            MediaGrade.objects.bulk_create(
                MediaGrade(case=case, media=medium, stage=Stage.FIRST, grader=analyst,
                           grade=LABEL[0], age_band=LABEL[1], uk_category=meaning.uk or "",
                           interpol_baseline=meaning.interpol_baseline,
                           vics_category=meaning.vics, via=Via.REVEALED)
                for case in cases for _url, medium in media
            )  # fmt: skip
        ids += [case.pk for case in cases]
        progress(f"seeded {len(ids)} / {count} cases")
    return analyst, ids


def decide_criminal(case_id: int, analyst: Any) -> tuple[int, datetime]:
    """The analyst's decision, as the case screen makes it: (decision id, decided_at)."""
    from openhotline.assessment.decisions import DecisionInput, decide
    from openhotline.assessment.groups import groups_for
    from openhotline.cases.models import Case

    case = Case.objects.get(pk=case_id)
    given = DecisionInput(
        criminal=True, mapping="uk", closure_reason="", site_type="image_host",
        commercial=False, disguised=False, tor=False, notes="",
    )  # fmt: skip
    decision = decide(case, analyst, given, groups_for(case))
    return decision.pk, decision.decided_at


# --- Observing ------------------------------------------------------------------------


def accepted_notices(net: Any) -> dict[str, datetime]:
    """X-Notice-Reference → when simnet's SMTP server accepted that message."""
    out: dict[str, datetime] = {}
    for mail in net.mail.messages():
        reference = str(mail.message.get("X-Notice-Reference", "")).strip()
        if reference:
            out.setdefault(reference, mail.received_at)
    return out


def notice_references(case_ids: Iterable[int]) -> dict[int, str]:
    from openhotline.takedown.models import Action, ActionKind

    rows = Action.objects.filter(kind=ActionKind.NOTICE, case_id__in=list(case_ids))
    return dict(rows.values_list("case_id", "reference"))


def queue_busy() -> bool:
    """A task due or running (the queue is not stuck)."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().exists() or DBTaskResult.objects.running().exists()


def failed_tasks(since: datetime) -> list[str]:
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.failed().filter(enqueued_at__gte=since)
    return [
        f"{r.task_path.rsplit('.', 1)[-1]}{tuple(r.args_kwargs['args'])}: "
        f"{r.exception_class_path}: {r.traceback.strip().splitlines()[-1] if r.traceback else ''}"
        for r in rows[:20]
    ]


def wait_for_notices(
    net: Any, decided: dict[int, datetime], deadline: float, label: str
) -> dict[int, datetime]:
    """Case id → notice accepted, for the decided cases, until all are in or time is up."""
    done: dict[int, datetime] = {}
    last_change = time.monotonic()
    last_report = 0.0
    while True:
        refs = notice_references(decided)
        accepted = accepted_notices(net)
        before = len(done)
        done = {c: accepted[r] for c, r in refs.items() if r in accepted}
        now = time.monotonic()
        if len(done) != before:
            last_change = now
        if len(done) == len(decided):
            return done
        if now > deadline:
            progress(f"{label}: deadline reached with {len(done)} / {len(decided)} notices")
            return done
        if now - last_change > STUCK_S and not queue_busy():
            progress(f"{label}: no progress for {STUCK_S:.0f} s and nothing queued: giving up")
            return done
        if _workers is not None:
            _workers.check()
        if now - last_report > 10:
            progress(f"{label}: {len(done)} / {len(decided)} notices accepted")
            last_report = now
        time.sleep(0.25)


# --- The run --------------------------------------------------------------------------


def run_decisions(
    args: argparse.Namespace, net: Any, analyst: Any, case_ids: list[int], deadline: float
) -> dict[str, Any]:
    warm = case_ids[: args.warmup]
    measured = case_ids[args.warmup :]
    if warm:
        progress(f"warm-up: {len(warm)} cases (not counted)")
        warm_decided = {}
        for case_id in warm:
            warm_decided[case_id] = decide_criminal(case_id, analyst)[1]
            time.sleep(0.5)
        got = wait_for_notices(net, warm_decided, min(deadline, time.monotonic() + 120), "warm-up")
        if len(got) != len(warm):
            raise BenchError("the warm-up cases got no notice: see the worker logs")
    if args.rate > 0:
        progress(f"deciding {len(measured)} cases at {args.rate:g} per second")
    else:
        progress(f"deciding {len(measured)} cases as fast as possible")
    meter = CpuMeter()
    decided: dict[int, datetime] = {}
    decide_seconds: list[float] = []
    start = time.monotonic()
    stopped = ""
    last_report = start
    for n, case_id in enumerate(measured):
        if args.rate > 0:
            pause = start + n / args.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        if time.monotonic() > deadline:
            stopped = f"deadline reached after {n} decisions"
            break
        t0 = time.perf_counter()
        decided[case_id] = decide_criminal(case_id, analyst)[1]
        decide_seconds.append(time.perf_counter() - t0)
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            if _workers is not None:
                _workers.check()
            sent = len(notice_references(decided).keys() & set(decided))
            progress(f"decided {len(decided)} / {len(measured)}; {sent} with a notice created")
    deciding = time.monotonic() - start
    progress(f"decided {len(decided)} cases in {deciding:.1f} s; waiting for the notices")
    accepted = wait_for_notices(net, decided, deadline, "notices")
    return {
        "warmup_cases": len(warm),
        "decided": decided,
        "accepted": accepted,
        "deciding_seconds": deciding,
        "decide_call_seconds": decide_seconds,
        "cpu": meter.read(),
        "stopped": stopped,
    }


def run_rechecks(count: int, case_ids: list[int], deadline: float) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from openhotline.takedown.models import Recheck
    from openhotline.takedown.tasks import recheck_task

    if not case_ids or count <= 0:
        return {"queued": 0}
    targets = [case_ids[i % len(case_ids)] for i in range(count)]
    before = timezone.now()
    meter = CpuMeter()
    with transaction.atomic():
        ids = [str(recheck_task.enqueue(case_id, "schedule", 0).id) for case_id in targets]
    queued_at = timezone.now()
    t0 = time.monotonic()
    progress(f"rechecks: {count} queued for {len(set(targets))} actioned cases")
    finished = 0
    last_report = t0
    stopped = ""
    while finished < count:
        finished = DBTaskResult.objects.filter(id__in=ids).finished().count()
        now = time.monotonic()
        if now > deadline:
            stopped = f"deadline reached with {finished} / {count} rechecks done"
            break
        if _workers is not None:
            _workers.check()
        if now - last_report > 10:
            progress(f"rechecks: {finished} / {count} done")
            last_report = now
        time.sleep(0.25)
    rows = DBTaskResult.objects.filter(id__in=ids).finished()
    ends = [r.finished_at for r in rows if r.finished_at is not None]
    starts = [r.started_at for r in rows if r.started_at is not None]
    span = (max(ends) - queued_at).total_seconds() if ends else 0.0
    results = Counter(Recheck.objects.filter(at__gte=before).values_list("result", flat=True))
    cpu = meter.read()
    return {
        "queued": count,
        "done": len(ends),
        "failed": rows.filter(status="FAILED").count(),
        "seconds": span,
        "per_second": len(ends) / span if span > 0 else 0.0,
        "first_start_after_s": (min(starts) - queued_at).total_seconds() if starts else None,
        "results": dict(results),
        "worker_cpu_ms_per_recheck": 1000 * cpu["workers_cpu_s"] / len(ends) if ends else None,
        "cpu": cpu,
        "wall_seconds": time.monotonic() - t0,
        "stopped": stopped,
    }


# --- Figures --------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "median": None, "p95": None, "max": None, "min": None}
    ordered = sorted(values)
    p95 = ordered[0] if len(ordered) == 1 else statistics.quantiles(ordered, n=100)[94]
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p95": p95,
        "max": ordered[-1],
        "min": ordered[0],
    }


def stages(decided: dict[int, datetime], accepted: dict[int, datetime]) -> dict[str, Any]:
    """Where the time goes, from the task rows: waiting for a worker, running act_on,
    waiting for the send, sending until the server accepted."""
    from django_tasks_db.models import DBTaskResult

    from openhotline.takedown.models import Action, ActionKind

    act: dict[int, DBTaskResult] = {}
    for row in DBTaskResult.objects.filter(task_path__endswith=".act_on_task"):
        act.setdefault(row.args_kwargs["args"][0], row)
    notices = dict(
        Action.objects.filter(kind=ActionKind.NOTICE, case_id__in=list(accepted)).values_list(
            "pk", "case_id"
        )
    )
    send: dict[int, DBTaskResult] = {}
    for row in DBTaskResult.objects.filter(task_path__endswith=".send_task"):
        action_id = row.args_kwargs["args"][0]
        if action_id in notices:
            send.setdefault(notices[action_id], row)
    parts: dict[str, list[float]] = {
        "decision → act_on starts": [],
        "act_on runs": [],
        "act_on ends → send starts": [],
        "send starts → accepted": [],
    }
    for case_id, got in accepted.items():
        a, s = act.get(case_id), send.get(case_id)
        if a is None or s is None or None in (a.started_at, a.finished_at, s.started_at):
            continue
        assert a.started_at and a.finished_at and s.started_at
        parts["decision → act_on starts"].append((a.started_at - decided[case_id]).total_seconds())
        parts["act_on runs"].append((a.finished_at - a.started_at).total_seconds())
        parts["act_on ends → send starts"].append((s.started_at - a.finished_at).total_seconds())
        parts["send starts → accepted"].append((got - s.started_at).total_seconds())
    return {name: summary(values) for name, values in parts.items()}


def task_counts(since: datetime) -> dict[str, dict[str, int]]:
    from django_tasks_db.models import DBTaskResult

    counts: dict[str, Counter[str]] = {}
    for path, status in DBTaskResult.objects.filter(enqueued_at__gte=since).values_list(
        "task_path", "status"
    ):
        counts.setdefault(path.rsplit(".", 1)[-1], Counter())[status] += 1
    return {name: dict(c) for name, c in sorted(counts.items())}


def action_states(case_ids: list[int]) -> dict[str, int]:
    from openhotline.takedown.models import Action

    rows = Action.objects.filter(case_id__in=case_ids).values_list("kind", "state")
    return dict(sorted(Counter(f"{kind} {state}" for kind, state in rows).items()))


def figures(args: argparse.Namespace, run: dict[str, Any], since: datetime) -> dict[str, Any]:
    decided: dict[int, datetime] = run["decided"]
    accepted: dict[int, datetime] = run["accepted"]
    latency = [(accepted[c] - decided[c]).total_seconds() for c in accepted]
    span = (max(accepted.values()) - min(decided.values())).total_seconds() if accepted else 0.0
    lat = summary(latency)
    median = lat["median"]
    return {
        "setup": {
            "cases": len(decided),
            "warmup_cases": run["warmup_cases"],
            "workers": args.workers,
            "worker_kind": "processes (openhotline db_worker)",
            "worker_poll_interval_s": args.interval,
            "rate_per_s": args.rate,
            "host": HOST,
            "database": "SQLite (WAL, synchronous=FULL)",
        },
        "latency_s": lat,
        "within_5s": sum(1 for v in latency if v <= TARGET_MEDIAN_S),
        "target_median_s": TARGET_MEDIAN_S,
        "target_met": median is not None and median <= TARGET_MEDIAN_S,
        "stages_s": stages(decided, accepted),
        "notices_accepted": len(accepted),
        "no_notice": sorted(set(decided) - set(accepted))[:20],
        "throughput_notices_per_s": len(accepted) / span if span > 0 else 0.0,
        "decisions_per_s": len(decided) / run["deciding_seconds"] if run["deciding_seconds"] else 0,
        "decide_call_ms": {
            k: (v * 1000 if isinstance(v, float) else v)
            for k, v in summary(run["decide_call_seconds"]).items()
        },
        "worker_cpu_ms_per_case": 1000 * run["cpu"]["workers_cpu_s"] / max(len(accepted), 1),
        "cpu": run["cpu"],
        "actions": action_states(list(decided)),
        "tasks": task_counts(since),
        "failed_tasks": failed_tasks(since),
        "stopped_early": run["stopped"],
    }


def cores(cpu: dict[str, float]) -> str:
    return (
        f"workers {cpu['workers_cores']:.2f}, this process (simnet, decisions) "
        f"{cpu['bench_process_cores']:.2f}, other processes {cpu['other_processes_cores']:.2f}"
    )


def task_times(since: datetime) -> dict[str, dict[str, float]]:
    """Worker time per kind of task: how many ran, median and total seconds."""
    from django_tasks_db.models import DBTaskResult

    spans: dict[str, list[float]] = {}
    rows = DBTaskResult.objects.filter(enqueued_at__gte=since, finished_at__isnull=False)
    for path, began, ended in rows.values_list("task_path", "started_at", "finished_at"):
        if began is not None and ended is not None:
            spans.setdefault(path.rsplit(".", 1)[-1], []).append((ended - began).total_seconds())
    return {
        name: {"n": len(v), "median_ms": 1000 * statistics.median(v), "total_s": sum(v)}
        for name, v in sorted(spans.items(), key=lambda kv: -sum(kv[1]))
    }


def table(result: dict[str, Any]) -> str:
    s = result["setup"]
    rate = f"{s['rate_per_s']:g}/s" if s["rate_per_s"] > 0 else "all at once"
    lines = [
        f"Takedown bench: {s['cases']} cases decided criminal ({rate}, after "
        f"{s['warmup_cases']} warm-up), {s['workers']} worker {s['worker_kind']}, "
        f"poll {s['worker_poll_interval_s']:g} s, {s['database']}",
        "",
        f"{'decision → notice accepted by SMTP':<40}{'median':>9}{'p95':>9}{'max':>9}",
    ]

    def row(label: str, values: dict[str, Any], unit: str = "s") -> str:
        width = 9 - len(unit)
        cells = "".join(
            f"{values[k]:>{width}.2f}{unit}" if values[k] is not None else f"{'-':>9}"
            for k in ("median", "p95", "max")
        )
        return f"{label:<40}{cells}"

    lines.append(row("  all cases", result["latency_s"]))
    lines.append("  of which:")
    for name, values in result["stages_s"].items():
        lines.append(row(f"    {name}", values))
    lines.append(row("decide() call in the bench", result["decide_call_ms"], "ms"))
    lines += [
        "",
        f"notices accepted          {result['notices_accepted']} / {s['cases']} "
        f"({result['within_5s']} within {result['target_median_s']:g} s)",
        f"throughput                {result['throughput_notices_per_s']:.2f} notices/s "
        f"(decisions offered at {result['decisions_per_s']:.2f}/s)",
        f"worker CPU                {result['worker_cpu_ms_per_case']:.0f} ms per case",
        "cores busy (decisions)    " + cores(result["cpu"]),
    ]
    rc = result.get("rechecks") or {}
    if rc.get("queued"):
        lines.append(
            f"rechecks                  {rc['per_second']:.2f}/s ({rc['done']} / {rc['queued']} "
            f"in {rc['seconds']:.1f} s; results {rc['results']}; "
            f"{rc['worker_cpu_ms_per_recheck'] or 0:.0f} ms worker CPU each)"
        )
        lines.append("cores busy (rechecks)     " + cores(rc["cpu"]))
        if rc.get("stopped"):
            lines.append(f"RECHECKS STOPPED EARLY: {rc['stopped']}")
    lines.append(f"actions                   {result['actions']}")
    lines.append(f"tasks                     {result['tasks']}")
    lines.append("worker time by task       (runs, median, total)")
    for name, t in result["task_times"].items():
        lines.append(f"  {name:<24}{t['n']:>6} {t['median_ms']:>8.1f} ms {t['total_s']:>8.1f} s")
    for failure in result["failed_tasks"]:
        lines.append(f"FAILED TASK: {failure}")
    if result["no_notice"]:
        lines.append(f"NO NOTICE for cases (first 20): {result['no_notice']}")
    if result["stopped_early"]:
        lines.append(f"STOPPED EARLY: {result['stopped_early']}")
    verdict = "met" if result["target_met"] else "MISSED"
    lines.append(f"target: median ≤ {result['target_median_s']:g} s — {verdict}")
    m = result["machine"]
    lines.append(
        f"load average {m['load_before']} before, {m['load_after']} after; {m['cpus']} CPUs; "
        f"wall time {result['wall_seconds']:.0f} s"
    )
    return "\n".join(lines)


# --- Main -----------------------------------------------------------------------------


def run(args: argparse.Namespace, var: Path, deadline: float) -> dict[str, Any]:
    global _workers
    from openhotline.simnet.runner import Simnet

    with Simnet() as net:
        env = environment(var, net)
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        since = timezone.now()
        analyst, case_ids = seed(args.cases + args.warmup, net)
        _workers = Workers(args.workers, args.interval, env, var)
        _workers.start()
        progress(f"{args.workers} worker processes started")
        decisions = run_decisions(args, net, analyst, case_ids, deadline)
        result = figures(args, decisions, since)
        actioned = sorted(decisions["accepted"])
        if time.monotonic() < deadline:
            result["rechecks"] = run_rechecks(args.rechecks, actioned, deadline)
        else:
            result["rechecks"] = {"queued": 0, "skipped": "deadline reached"}
        result["failed_tasks"] = failed_tasks(since)
        result["tasks"] = task_counts(since)
        result["task_times"] = task_times(since)
        result["actions"] = action_states(list(decisions["decided"]))
        _workers.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--rate", type=float, default=2.0, help="decisions/s; 0: all at once")
    parser.add_argument("--rechecks", type=int, default=None, help="default: --cases")
    parser.add_argument("--warmup", type=int, default=None, help="default: 2 per worker")
    parser.add_argument("--interval", type=float, default=1.0, help="worker poll interval, s")
    parser.add_argument("--deadline", type=float, default=1200.0, help="seconds in all")
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout")
    parser.add_argument("--worker-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_process:
        worker_process(args.interval)
        return 0
    if args.cases < 1 or args.workers < 1 or args.rate < 0 or args.interval < 0:
        parser.error("need at least one case and one worker, and no negative rate or interval")
    if args.rechecks is None:
        args.rechecks = args.cases
    if args.warmup is None:
        args.warmup = 2 * args.workers
    started = time.monotonic()
    deadline = started + args.deadline
    load_before = [round(x, 2) for x in os.getloadavg()]
    guard_loopback()
    signal.signal(signal.SIGTERM, _terminated)
    (ROOT / "var").mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="bench-takedown-", dir=ROOT / "var"))
    watchdog = threading.Timer(args.deadline + HARD_STOP_GRACE_S, _hard_stop, args=(var,))
    watchdog.daemon = True
    watchdog.start()
    try:
        result = run(args, var, deadline)
    except BenchError as error:
        print(f"takedown bench: {error}", file=sys.stderr)
        return 2
    finally:
        watchdog.cancel()
        if _workers is not None:
            _workers.stop()
        shutil.rmtree(var, ignore_errors=True)
    result["wall_seconds"] = time.monotonic() - started
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    text = table(result)
    if args.json:
        print(text, file=sys.stderr)
        print(json.dumps(result, indent=2, default=str))
    else:
        print(text)
    bad = (
        result["failed_tasks"]
        or result["no_notice"]
        or result["stopped_early"]
        or not result["target_met"]
    )
    return 1 if bad else 0


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"takedown bench: stopped by signal {signum}")


def _hard_stop(var: Path) -> None:
    print("takedown bench: hard deadline passed, stopping", file=sys.stderr, flush=True)
    if _workers is not None:
        for proc in _workers.procs:
            kill_group(proc.pid)
    shutil.rmtree(var, ignore_errors=True)
    os._exit(2)


if __name__ == "__main__":
    sys.exit(main())
