"""Matching API benchmark: PDQ hashes looked up per second over HTTP against a Hash List
of 10 million PDQ hashes, in batches of 100 and of 1,000, with 1 and 2 clients.

    .venv/bin/python bench/match_bench.py [--entries 10000000] [--seconds 20]
        [--batches 100,1000] [--clients 1,2] [--server-workers 2] [--near-share 0.05]
        [--index-budget 900] [--deadline 3600] [--rebuild] [--wsgi MODULE_OR_FILE] [--json]

The database is `bench/feeds_bench.py`'s (built there, cached under
var/bench/hashlist-<entries>/): `--entries` list entries of the enabled, shared list
"own-grading" (PDQ threshold 31), each with one PDQ `EntryHash` (64 random hex digits)
and its Hash List feed item. The PDQ index snapshot (var/bench/hashlist-<entries>/index/
pdq.idx, what `pdq_store.current()` memory-maps) is made once by `openhotline pdq-index
rebuild` in a child process (time and peak RSS printed) and cached beside the database.
If the command has not finished within `--index-budget` seconds it is stopped, and the
bench builds the same snapshot itself (the same rows, read in id order through the primary
key, `PdqIndex.build` with pdq_store's radius, `save`), saying so.

gunicorn (`--server-workers` sync workers, production settings) serves the platform on
127.0.0.1. A member organisation with the matching API (`Membership.can_match`, a call
limit far above what the bench can send) and a full-tier Hash List licence gets a key.
Warm-up: calls until every worker has loaded the index (the first call of each worker
maps the snapshot and checks its CRC32s; its latency is shown). Then, for each batch size
and number of clients, `--seconds` of `POST /api/v1/match` with {"hashes": [{"type":
"pdq", "value": …}, …]} from client threads in this process (one keep-alive connection
each, request bodies made beforehand). The queries: (1 - `--near-share`) random codes
(misses: a random code is never within 31 bits of any of 10 million others) and
`--near-share` near-duplicates of listed codes (1 to 16 bits flipped), each of which must
come back matched to its entry; any match of a random code is counted as wrong.

Every call started in the window counts, however long it takes (the window closes when
the last of them has finished), so a slow server is measured rather than left out.
It prints, per configuration: hashes looked up per second (hashes in answered calls /
that window), calls per second, latency per call (median, p95, max), errors, and
matches found against expected; then each worker's resident memory and how much of it is
the index (the memory-mapped snapshot's resident pages, shared between workers through
the page cache, from /proc/<pid>/smaps) and the cores kept busy by the server and by
other processes. `--wsgi` serves another WSGI module (a .py file that imports
openhotline.wsgi and patches something) to measure a candidate change.

No target is given in issue 7 for matching throughput, so the exit status is 1 only when
an answer is wrong (a near-duplicate missed, a random code matched, an error), 2 when
setup fails. Figures go to var/bench/match.json; the server log to
var/bench/match-gunicorn.log. Everything stays on 127.0.0.1; a hard `--deadline` stops
the run and the server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import feeds_bench as fb  # noqa: E402

POOL = 60_000  # distinct query codes, reused round-robin
MAX_FLIP = 16
WARM_CALLS = 4  # answered calls per worker after it has loaded the index


@dataclass
class Query:
    value: str
    entry: int | None  # the listed entry it is a near-duplicate of, or None (random)


@dataclass
class ClientLog:
    # (started at, finished at, status, hashes, near-dups expected, found, wrong matches)
    calls: list[tuple[float, float, int, int, int, int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# --- data ---------------------------------------------------------------------------------


def listed_codes(db_path: Path, count: int, entries: int, rng: random.Random) -> dict[int, str]:
    """{entry id: its PDQ hex} for `count` random entries, read from the database."""
    ids = rng.sample(range(1, entries + 1), count)
    found: dict[int, str] = {}
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            where = f"hash_type = 'pdq' AND entry_id IN ({marks})"
            sql = f"SELECT entry_id, value FROM signals_entryhash WHERE {where}"  # noqa: S608
            rows = db.execute(sql, part).fetchall()
            found.update((int(entry), str(value)) for entry, value in rows)
    return found


def flip(value: str, bits: int, rng: random.Random) -> str:
    number = int(value, 16)
    for bit in rng.sample(range(256), bits):
        number ^= 1 << bit
    return f"{number:064x}"


def make_pool(db_path: Path, entries: int, near_share: float, seed: int) -> list[Query]:
    rng = random.Random(seed)
    near = max(1, round(POOL * near_share))
    listed = listed_codes(db_path, near, entries, rng)
    pool = [Query(flip(v, rng.randint(1, MAX_FLIP), rng), e) for e, v in listed.items()]
    numpy_rng = np.random.default_rng(seed)
    randoms = numpy_rng.integers(0, 256, size=(POOL - len(pool), 32), dtype=np.uint8)
    text = randoms.tobytes().hex()
    pool += [Query(text[64 * i : 64 * i + 64], None) for i in range(len(randoms))]
    rng.shuffle(pool)
    return pool


def bodies(
    pool: list[Query], batch: int, count: int, offset: int
) -> list[tuple[bytes, list[Query]]]:
    """`count` request bodies of `batch` queries each, taken round-robin from the pool."""
    out = []
    for n in range(count):
        start = (offset + n * batch) % len(pool)
        chosen = [pool[(start + i) % len(pool)] for i in range(batch)]
        body = orjson.dumps({"hashes": [{"type": "pdq", "value": q.value} for q in chosen]})
        out.append((body, chosen))
    return out


# --- the server ---------------------------------------------------------------------------


def ensure_index(folder: Path, env: dict[str, str], budget: float) -> dict[str, Any]:
    """The PDQ snapshot of the cached database: made by `openhotline pdq-index rebuild`
    unless a readable one of this database is there already."""
    from openhotline.signals.pdq_index import PdqIndex, SnapshotError

    path = folder / "index" / "pdq.idx"
    record_path = folder / "index" / "build.json"
    record: dict[str, Any] = {}
    if path.exists() and record_path.exists():
        try:
            record = json.loads(record_path.read_text())
            PdqIndex.load(path, mmap=True, verify=False)  # the header and layout only
            fb.progress(
                f"cached PDQ index {path.relative_to(fb.ROOT)} (rebuilt "
                f"{record['built_at']} in {record['wall_s']:.0f} s)"
            )
            return {**record, "fresh": False}
        except (OSError, ValueError, KeyError, SnapshotError):
            fb.progress("the cached PDQ index cannot be read: rebuilding it")
    fb.progress(f"openhotline pdq-index rebuild (budget {budget:.0f} s) …")
    run = fb.run_measured(
        [str(fb.BIN / "openhotline"), "pdq-index", "rebuild"],
        env,
        budget,
        fb.VAR / "match-logs",
        "pdq-index-rebuild",
    )
    record = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "command": "openhotline pdq-index rebuild",
        "wall_s": run.wall_s,
        "peak_rss_mib": run.peak_rss_mib,
        "cpu_s": run.cpu_s,
        "timed_out": run.timed_out,
        "output": run.stdout.strip()[-500:],
    }
    if run.timed_out:
        fb.progress(
            f"pdq-index rebuild did not finish within {budget:.0f} s: building the same "
            "snapshot from the rows directly instead"
        )
        direct = fb.run_measured(
            [sys.executable, str(Path(__file__).resolve()), "--direct-snapshot", str(folder)],
            env,
            budget,
            fb.VAR / "match-logs",
            "direct-snapshot",
        )
        if direct.exit != 0:
            raise fb.SetupFailed(f"the direct snapshot failed:\n{direct.stderr[-2000:]}")
        record["direct"] = {
            **json.loads(direct.stdout.strip().splitlines()[-1]),
            "peak_rss_mib": direct.peak_rss_mib,
        }
    elif run.exit != 0:
        raise fb.SetupFailed(
            f"pdq-index rebuild failed ({run.exit}):\n{run.stdout[-1000:]}{run.stderr[-2000:]}"
        )
    record["bytes"] = path.stat().st_size
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    fb.progress(
        f"PDQ index ready: rebuild {run.wall_s:.0f} s, peak RSS {run.peak_rss_mib:,.0f} MiB"
    )
    return {**record, "fresh": True}


def direct_snapshot(folder: Path) -> dict[str, float]:
    """What `pdq_store.rebuild` makes (every usable PDQ row of a live entry, by id), read
    in id order through the primary key (no sort), built and saved the same way. Runs in
    a child with Django set up on the bench database."""
    import django

    django.setup()
    from openhotline.signals.pdq_index import PdqIndex
    from openhotline.signals.pdq_store import MAX_RADIUS, snapshot_path

    db_path, path = folder / "openhotline.sqlite3", snapshot_path()

    started = time.monotonic()
    ids: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    last = 0
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        while True:
            rows = db.execute(
                "SELECT h.id, h.value, h.hash_type, h.usable_for_matching, e.retired_at"
                " FROM signals_entryhash h JOIN signals_listentry e ON e.id = h.entry_id"
                " WHERE h.id > ? ORDER BY h.id LIMIT 200000",
                (last,),
            ).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            kept = [
                (i, v)
                for i, v, t, usable, retired in rows
                if t == "pdq" and usable and retired is None
            ]
            ids.append(np.fromiter((i for i, _ in kept), np.int64, len(kept)))
            codes.append(
                np.frombuffer(bytes.fromhex("".join(v for _, v in kept)), np.uint8).reshape(-1, 32)
            )
    read = time.monotonic() - started
    index = PdqIndex.build(np.concatenate(ids), np.concatenate(codes), max_radius=MAX_RADIUS)
    built = time.monotonic() - started - read
    path.parent.mkdir(parents=True, exist_ok=True)
    index.save(path)
    total = time.monotonic() - started
    fb.progress(f"direct snapshot: read {read:.0f} s, build {built:.0f} s, total {total:.0f} s")
    return {"read_s": read, "build_s": built, "total_s": total}


def index_memory(pid: int) -> dict[str, float]:
    """MiB: the process's RSS, its anonymous part, and the resident (and proportional)
    pages of the memory-mapped PDQ snapshot."""
    rss = anon = idx_rss = idx_pss = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1]) / 1024
        mapping = False
        for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                mapping = line.rstrip().endswith("pdq.idx")
            elif mapping and line.startswith("Rss:"):
                idx_rss += int(head[1]) / 1024
            elif mapping and line.startswith("Pss:"):
                idx_pss += int(head[1]) / 1024
    except OSError:
        pass
    return {"rss": rss, "anon": anon, "index_rss": idx_rss, "index_pss": idx_pss}


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def call(client: Any, body: bytes, chosen: list[Query]) -> tuple[int, int, int, int, str]:
    """(status, near-dups expected, found, wrong matches, problem) of one match call."""
    response = client.post(
        "/api/v1/match", content=body, headers={"Content-Type": "application/json"}
    )
    expected = sum(1 for q in chosen if q.entry is not None)
    if response.status_code != 200:
        return (
            response.status_code,
            expected,
            0,
            0,
            f"HTTP {response.status_code}: " + (response.text[:200]),
        )
    answer = orjson.loads(response.content)
    found = wrong = 0
    for query, result in zip(chosen, answer["results"], strict=True):
        keys = {m["entry"] for m in result["matches"]}
        if query.entry is None:
            wrong += len(keys)
        elif fb.key_of(query.entry) in keys:
            found += 1
    problem = "" if answer["checked"] == len(chosen) else f"checked {answer['checked']}"
    return 200, expected, found, wrong, problem


def warm_up(
    base: str, key: str, pool: list[Query], workers: list[int], budget: float
) -> dict[str, Any]:
    """Calls from two threads until every worker has mapped the index and answered a few
    more; the slowest call (a worker's first: loading the index) and how long it took."""
    import httpx

    deadline = time.monotonic() + budget
    latencies: list[float] = []
    stop = threading.Event()
    lock = threading.Lock()
    failures: list[str] = []

    def loop(n: int) -> None:
        with httpx.Client(
            base_url=base,
            trust_env=False,
            timeout=budget,
            headers={"Authorization": f"Bearer {key}"},
        ) as client:
            for i, (body, chosen) in enumerate(bodies(pool, 100, 10_000, n * 7919)):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                t0 = time.perf_counter()
                status, *_rest, problem = call(client, body, chosen)
                with lock:
                    latencies.append(time.perf_counter() - t0)
                    if status != 200 or problem:
                        failures.append(problem)
                if failures:
                    return
                del i

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(2)]
    for thread in threads:
        thread.start()
    while time.monotonic() < deadline and not failures:
        loaded = [pid for pid in workers if index_memory(pid)["index_rss"] > 0]
        with lock:
            answered = len(latencies)
        if len(loaded) == len(workers) and answered >= WARM_CALLS * len(workers) + 2:
            break
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=budget)
    if failures:
        raise fb.SetupFailed(f"warm-up calls failed: {failures[:3]}")
    if time.monotonic() >= deadline:
        raise fb.SetupFailed(f"the workers did not all load the index within {budget:.0f} s")
    return {
        "warm_up_s": time.monotonic() - started,
        "first_call_s": max(latencies),
        "calls": len(latencies),
    }


def measure(
    base: str,
    key: str,
    pool: list[Query],
    batch: int,
    clients: int,
    seconds: float,
    pids: dict[str, list[int]],
) -> dict[str, Any]:
    import httpx

    # Enough bodies for a fast server; each thread reuses its own round-robin.
    per_client = max(20, min(2000, int(seconds * 20_000 / batch)))
    work = [bodies(pool, batch, per_client, c * 104_729) for c in range(clients)]
    logs = [ClientLog() for _ in range(clients)]
    start_at = time.monotonic() + 1.0
    measure_from = start_at + 2.0  # 2 s unmeasured at the start
    stop_at = measure_from + seconds

    def loop(n: int) -> None:
        log = logs[n]
        with httpx.Client(
            base_url=base,
            trust_env=False,
            timeout=120.0,
            headers={"Authorization": f"Bearer {key}"},
        ) as client:
            time.sleep(max(0.0, start_at - time.monotonic()))
            i = 0
            while time.monotonic() < stop_at:
                body, chosen = work[n][i % len(work[n])]
                i += 1
                t0 = time.monotonic()
                try:
                    status, expected, found, wrong, problem = call(client, body, chosen)
                except httpx.HTTPError as exc:
                    status, expected, found, wrong = 0, 0, 0, 0
                    problem = type(exc).__name__
                log.calls.append(
                    (
                        t0,
                        time.monotonic(),
                        status,
                        len(chosen),
                        expected,
                        found,
                        wrong,
                    )
                )
                if problem and len(log.errors) < 20:
                    log.errors.append(problem)

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    cpu_before = {name: cpu_seconds(group) for name, group in pids.items()}
    bench_before = os.times()
    machine_before = fb.machine_busy_s()
    # No call starts after stop_at; those started before finish (and count: a slow server
    # is measured by the calls it was given in the window, however long they take).
    for thread in threads:
        thread.join(timeout=600)
    window = [c for log in logs for c in log.calls if measure_from <= c[0] < stop_at]
    ended = max([stop_at, *(c[1] for c in window)])
    elapsed = ended - measure_from
    cpu_after = {name: cpu_seconds(group) for name, group in pids.items()}
    bench_after = os.times()
    machine = (fb.machine_busy_s() - machine_before) / elapsed
    ok = [c for c in window if c[2] == 200]
    stats = fb.latency_stats([(c[1] - c[0]) * 1000 for c in window])
    cpu = {name: (cpu_after[name] - cpu_before[name]) / elapsed for name in pids}
    cpu["bench_clients"] = (
        bench_after.user + bench_after.system - bench_before.user - bench_before.system
    ) / elapsed
    cpu["other_processes"] = max(0.0, machine - sum(cpu.values()))
    return {
        "batch": batch,
        "clients": clients,
        "seconds": elapsed,
        "hashes_per_s": sum(c[3] for c in ok) / elapsed,
        "calls_per_s": len(ok) / elapsed,
        "latency_ms": stats,
        "calls": len(window),
        "errors": sum(1 for c in window if c[2] != 200),
        "first_errors": [e for log in logs for e in log.errors][:5],
        "near_expected": sum(c[4] for c in ok),
        "near_found": sum(c[5] for c in ok),
        "wrong_matches": sum(c[6] for c in ok),
        "cores_busy": cpu,
    }


# --- the run ------------------------------------------------------------------------------


def print_summary(fig: dict[str, Any]) -> bool:
    """The table; True when every answer was right."""
    right = True
    build, index = fig["build"], fig["index"]
    print()
    print(
        f"Matching API against {fig['entries']:,} listed PDQ hashes (generated, random; "
        f"bulk-loaded), {os.cpu_count()} cores, gunicorn {fig['server_workers']} sync workers"
    )
    print(
        f"  database: {'built this run' if build['fresh'] else 'cached'}, build "
        f"{build['build_s']:.0f} s, {build['db_bytes'] / 2**30:.1f} GiB"
    )
    rebuild = "not finished within its budget" if index.get("timed_out") else "finished"
    print(
        f"  PDQ index: `openhotline pdq-index rebuild` {rebuild} after {index['wall_s']:.0f} s"
        f" (peak RSS {index['peak_rss_mib']:,.0f} MiB)"
        f"{' this run' if index['fresh'] else ', cached'};"
        f" snapshot {index['bytes'] / 2**20:,.0f} MiB"
    )
    if index.get("direct"):
        direct = index["direct"]
        print(
            f"    the snapshot was built directly instead: rows read in id order "
            f"{direct['read_s']:.0f} s, index built {direct['build_s']:.0f} s, saved "
            f"(total {direct['total_s']:.0f} s)"
        )
    warm = fig["warm_up"]
    print(
        f"  warm-up: {warm['warm_up_s']:.1f} s; slowest call (a worker's first: maps the "
        f"snapshot, checks its CRC32s) {warm['first_call_s']:.2f} s"
    )
    print()
    print(
        f"  {'batch':>5} {'clients':>7} {'hashes/s':>10} {'calls/s':>8} {'median ms':>10} "
        f"{'p95 ms':>8} {'max ms':>8} {'errors':>6}  near-dups found   server cores"
    )
    for run in fig["runs"]:
        lat = run["latency_ms"]
        good = (
            not run["errors"]
            and run["near_found"] == run["near_expected"]
            and not run["wrong_matches"]
            and run["calls"] > 0
        )
        right &= good
        print(
            f"  {run['batch']:>5} {run['clients']:>7} {run['hashes_per_s']:>10,.0f} "
            f"{run['calls_per_s']:>8.2f} {lat.get('median', 0):>10.1f} {lat.get('p95', 0):>8.1f} "
            f"{lat.get('max', 0):>8.1f} {run['errors']:>6}  {run['near_found']:>6} / "
            f"{run['near_expected']:<6}{'' if good else ' WRONG'}   "
            f"{run['cores_busy']['server']:.2f}   "
            f"(others {run['cores_busy']['other_processes']:.2f})"
        )
        if run["wrong_matches"]:
            print(f"        {run['wrong_matches']} matches of random codes")
        if run["first_errors"]:
            print(f"        errors: {run['first_errors']}")
    print()
    for pid, memory in fig["memory"].items():
        print(
            f"  worker {pid}: RSS {memory['rss']:,.0f} MiB, of which the PDQ snapshot's "
            f"mapped pages {memory['index_rss']:,.0f} MiB (shared page cache; PSS "
            f"{memory['index_pss']:,.0f}) and {memory['anon']:,.0f} MiB private"
        )
    print(f"  answers: {'all right' if right else 'WRONG (see above)'}")
    return right


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=fb.DEFAULT_ENTRIES)
    parser.add_argument(
        "--changes",
        type=int,
        default=fb.DEFAULT_CHANGES,
        help="as feeds_bench, so both share one cached database",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured per configuration")
    parser.add_argument("--batches", default="100,1000")
    parser.add_argument("--clients", default="1,2")
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--near-share", type=float, default=0.05)
    parser.add_argument(
        "--index-budget",
        type=float,
        default=900.0,
        help="s for pdq-index rebuild; then the snapshot is built directly",
    )
    parser.add_argument("--deadline", type=float, default=3600.0, help="s for everything")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--direct-snapshot", help=argparse.SUPPRESS)
    parser.add_argument(
        "--wsgi",
        default="openhotline.wsgi",
        help="WSGI module (or .py file) the server runs, to measure a candidate change",
    )
    args = parser.parse_args()
    if args.direct_snapshot:
        print(json.dumps(direct_snapshot(Path(args.direct_snapshot))))
        return 0
    batches = [int(b) for b in args.batches.split(",") if b]
    client_counts = [int(c) for c in args.clients.split(",") if c]
    if not batches or max(batches) > 1000 or min(batches) < 1:
        parser.error("--batches: 1 to 1,000 hashes per call")
    fb.set_deadline(args.deadline)
    figures: dict[str, Any] = {"entries": args.entries, "server_workers": args.server_workers}
    server = None
    try:
        folder, build = fb.ensure_sqlite(args.entries, args.changes, args.rebuild)
        figures["build"] = build
        env = fb.base_env(folder)
        figures["index"] = ensure_index(folder, env, args.index_budget)
        pool = make_pool(folder / "openhotline.sqlite3", args.entries, args.near_share, args.seed)
        key = fb.run_task(env, "member", {"match": True, "per_minute": 100_000_000})["key"]
        port = fb.free_port()
        base = f"http://{fb.HOST}:{port}"
        log_path = fb.VAR / "match-gunicorn.log"
        with log_path.open("wb") as log:
            server = fb.start_server(env, port, args.server_workers, log, app=args.wsgi)
            workers = fb.children_of(server.pid)
            fb.progress(f"server up ({len(workers)} workers); warming up (index loads)")
            figures["warm_up"] = warm_up(base, key, pool, workers, budget=600)
            fb.progress(f"warm: slowest call {figures['warm_up']['first_call_s']:.1f} s")
            pids = {"server": [server.pid, *workers]}
            figures["runs"] = []
            for batch in batches:
                for clients in client_counts:
                    run = measure(base, key, pool, batch, clients, args.seconds, pids)
                    figures["runs"].append(run)
                    fb.progress(
                        f"batch {batch} x {clients} client(s): "
                        f"{run['hashes_per_s']:,.0f} hashes/s, median "
                        f"{run['latency_ms'].get('median', 0):.0f} ms"
                    )
            figures["memory"] = {str(pid): index_memory(pid) for pid in workers}
            fb.stop_server(server)
    except fb.SetupFailed as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 2
    except fb.Deadline:
        print(f"hard deadline ({args.deadline:.0f} s) passed; stopped", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        if server is not None:
            fb.stop_server(server)
    right = print_summary(figures)
    figures["answers_right"] = right
    out = fb.VAR / "match.json"
    out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    print(f"\n  written to {out.relative_to(fb.ROOT)}")
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())
