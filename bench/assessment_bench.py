"""Assessment benchmark: reveals and keyboard actions per decided case, measured by driving
the analyst's case screen in headless Chromium with the keyboard only.

    .venv/bin/python bench/assessment_bench.py [--cases 200] [--media 20]
        [--known-share 0.3] [--near-dup-share 0.2] [--benign-share 0.25] [--json]

Generates a scenario in a fresh SQLite database under var/ (removed at the end): cases of
`--media` benign generated pictures each; `--known-share` of them are on a hash list
(near-exact matches, pre-graded); `--near-dup-share` of the others are near-duplicates of
another unknown picture of the same case. Every picture carries a "truth" label (a grade
label on a benign picture); `--benign-share` of the cases hold no CSAM label and are to be
closed. gunicorn serves the platform on 127.0.0.1; Chromium signs in as an analyst and
works the queue from the keyboard only: Enter on the queue claims the first case, `j`/`k`
move between the tiles (the one grading panel follows the focused tile), `v` reveals, a
digit pair or a letter grades, Enter confirms a known hash's grade, `d` goes to the
decision, Tab/arrows/Enter choose and submit it; a decision opens the next case, already
claimed, so only the first case costs a claim key. Every `page.keyboard.press` is
counted; the screen is only read. Afterwards the database is checked: every case decided
as its truth says, every item graded as labelled, every reveal counted. CPU seconds (the
server, the browser with its driver, this process, everything else on the machine) and
the load average are reported beside the figures, so a busy machine shows.

Bounded: a fixed number of cases, 10 s per browser step, a deadline (`--deadline`,
default 1,650 s) after which no case is started, and a hard stop two minutes later. Exit
status 1 when not every case was decided, an outcome check failed or the page showed an
error (console error, script error, 404 or 5xx)."""

import argparse
import json
import os
import random
import re
import resource
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openhotline.core.secret_values import fresh_environment  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throw-away bench account
STEP_MS = 10_000
KEY_KINDS = ("claim", "moves", "reveals", "grade keys", "Enter confirms", "decision keys")

# Truth labels (grade, age band) on benign pictures, cycled over a case's unknown pictures.
CSAM_CYCLE = [
    ("sexual_posing", "7-10"),
    ("adult", ""),
    ("non_penetrative", "11-13"),
    ("innocent", ""),
    ("indecent_other", "14-15"),
]
BENIGN_CYCLE = [("adult", ""), ("innocent", ""), ("off_remit", "")]
KNOWN_CSAM = ("sexual_posing", "7-10")
KNOWN_BENIGN = ("adult", "")


# --- Safety and setup -----------------------------------------------------------------


class BenchError(RuntimeError):
    pass


def guard_loopback() -> None:
    """No connection from this process leaves 127.0.0.0/8 (or ::1)."""
    import ipaddress

    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else ""
            if not ipaddress.ip_address(host).is_loopback:
                raise ConnectionRefusedError(f"bench refused to reach {address!r}")
        return real_connect(sock, address)

    connect: Callable[..., Any] = guarded
    socket.socket.connect = connect  # type: ignore[method-assign]


def configure(var: Path) -> None:
    os.environ.update(
        OPENHOTLINE_VAR_DIR=str(var),
        **fresh_environment(),
        DJANGO_SETTINGS_MODULE="tests.settings",
        OPENHOTLINE_SSL_REDIRECT="false",
        OPENHOTLINE_ALLOWED_HOSTS="127.0.0.1,localhost",
        OPENHOTLINE_SITE_URL="http://127.0.0.1",
        # The welfare limits would send our one analyst on a break after 150 reveals.
        OPENHOTLINE_REVEALS_PER_HOUR="1000000",
        OPENHOTLINE_REVEALS_PER_DAY="1000000",
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("OPENHOTLINE_REDIS_URL", None)


# --- Scenario -------------------------------------------------------------------------


@dataclass
class CaseTruth:
    case_id: int
    criminal: bool
    labels: dict[int, tuple[str, str]]  # media id -> (grade, age band)
    known: set[int]
    expected_groups: int


def split(media: int, known_share: float, near_dup_share: float) -> tuple[int, int, int]:
    """Known pictures, distinct unknown pictures, near-duplicates of those."""
    known = min(media, round(media * known_share))
    unknown = media - known
    dups = round(unknown * near_dup_share)
    bases = unknown - dups
    if bases == 0 and unknown:
        bases, dups = 1, unknown - 1
    return known, bases, dups


def is_benign(index: int, share: float) -> bool:
    """Spreads the benign cases evenly over the run."""
    return int((index + 1) * share + 0.5) != int(index * share + 0.5)


def seed_scenario(args: argparse.Namespace) -> list[CaseTruth]:
    from openhotline.evidence.models import CaptureItem
    from tests.assessment.factory import known_list, make_case, picture

    rng = random.Random(args.seed)
    known_n, bases_n, dups_n = split(args.media, args.known_share, args.near_dup_share)
    plans: list[tuple[bool, list[tuple[bytes, tuple[str, str], bool]]]] = []
    known_csam: list[bytes] = []
    known_benign: list[bytes] = []
    for index in range(args.cases):
        benign = is_benign(index, args.benign_share)
        cycle = BENIGN_CYCLE if benign else CSAM_CYCLE
        seed = 1_000_000 + index * 1000
        items: list[tuple[bytes, tuple[str, str], bool]] = []
        for k in range(known_n):
            data = picture(seed + 500 + k)
            (known_benign if benign else known_csam).append(data)
            items.append((data, KNOWN_BENIGN if benign else KNOWN_CSAM, True))
        base_labels = [cycle[(index + b) % len(cycle)] for b in range(bases_n)]
        for b in range(bases_n):
            items.append((picture(seed + b), base_labels[b], False))
        for d in range(dups_n):
            # A near-duplicate: the same picture scaled down and re-encoded (PDQ 10-16).
            base = d % bases_n
            items.append((picture(seed + base, 1 + (d // bases_n) % 3), base_labels[base], False))
        rng.shuffle(items)
        plans.append((benign, items))
    # Lists first, so the cases' media match when they are captured.
    if known_csam:
        known_list(known_csam, grade=KNOWN_CSAM[0], age_band=KNOWN_CSAM[1], name="police-known")
    if known_benign:
        known_list(known_benign, grade=KNOWN_BENIGN[0], age_band="", name="known-not-csam")
    truths = []
    for index, (benign, items) in enumerate(plans):
        case = make_case([data for data, _label, _known in items])
        media_ids = list(
            CaptureItem.objects.filter(capture__case=case)
            .order_by("pk")
            .values_list("media_id", flat=True)
        )
        labels = {m: label for m, (_d, label, _k) in zip(media_ids, items, strict=True) if m}
        known = {m for m, (_d, _l, k) in zip(media_ids, items, strict=True) if k and m}
        truths.append(
            CaseTruth(
                case_id=case.pk,
                criminal=not benign,
                labels=labels,
                known=known,
                expected_groups=known_n + bases_n,
            )
        )
        if (index + 1) % max(1, args.cases // 10) == 0 or index + 1 == args.cases:
            progress(f"seeded {index + 1} / {args.cases} cases")
    return truths


_started = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f} s] {message}", file=sys.stderr, flush=True)


# --- The server -----------------------------------------------------------------------


SERVER_WORKERS = 3
_server: subprocess.Popen[bytes] | None = None


def wsgi_app() -> Any:
    """What gunicorn serves (`bench.assessment_bench:wsgi_app()`): the platform with the
    apps' static files (no collectstatic), its connections held to loopback too."""
    import logging

    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    guard_loopback()
    app = get_wsgi_application()
    logging.getLogger("axes").setLevel(logging.WARNING)
    return StaticFilesHandler(app)


class LiveServer:
    """gunicorn on 127.0.0.1 with a few sync workers, as in production, on the bench's
    database; the workers use the second core while this process drives the browser."""

    def __init__(self, var: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = var / "gunicorn.log"

    def __enter__(self) -> "LiveServer":
        global _server
        command = [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(SERVER_WORKERS), "--chdir", str(ROOT), "--log-level", "warning",
            "--error-logfile", str(self.log), "bench.assessment_bench:wsgi_app()",
        ]  # fmt: skip
        _server = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL)
        until = time.monotonic() + 60
        while time.monotonic() < until:
            if _server.poll() is not None:
                raise BenchError(f"gunicorn ended at start: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise BenchError("gunicorn did not start listening within 60 s")

    def __exit__(self, *exc: object) -> None:
        stop_server()


def stop_server() -> None:
    global _server
    if _server is not None and _server.poll() is None:
        _server.terminate()
        try:
            _server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _server.kill()
            _server.wait(timeout=10)
    _server = None


# --- What the machine spent -------------------------------------------------------------


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has spent busy so far (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(root: int) -> float:
    """CPU seconds of a live process and its descendants (their reaped children included)."""
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name: state ppid ... utime(12) stime cutime cstime.
            after = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        parents[int(entry.name)] = int(after[1])
        spent[int(entry.name)] = sum(int(x) for x in after[11:15]) / tick
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(spent.get(pid, 0.0) for pid in tree)


@dataclass
class CpuMark:
    """A point in time to measure the driving window from."""

    machine: float
    server: float
    everything_here: float  # this process, its browser and the server
    this_process: float
    load: tuple[float, float, float]

    @classmethod
    def now(cls, server_pid: int) -> "CpuMark":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            machine=machine_busy_s(),
            server=tree_cpu_s(server_pid),
            everything_here=tree_cpu_s(os.getpid()),
            this_process=usage.ru_utime + usage.ru_stime,
            load=os.getloadavg(),
        )


def cpu_spent(start: CpuMark, end: CpuMark, wall: float) -> dict[str, Any]:
    server = end.server - start.server
    here = end.everything_here - start.everything_here
    bench = end.this_process - start.this_process
    machine = end.machine - start.machine
    return {
        "window_seconds": wall,
        "server_cpu_s": server,
        "browser_cpu_s": max(0.0, here - server - bench),
        "bench_process_cpu_s": bench,
        "other_processes_cpu_s": max(0.0, machine - here),
        "cores": os.cpu_count(),
        "load_average_start": list(start.load),
        "load_average_end": list(end.load),
    }


# --- The analyst at the keyboard --------------------------------------------------------

# What the focus is on, and which groups are still to grade (read off the screen).
STATE_JS = """() => {
    const el = document.activeElement;
    const g = el && el.closest ? el.closest('li.group') : null;
    return {
        group: g ? g.id : '', onGroup: g !== null && g === el,
        lead: g ? Number(g.dataset.lead) : 0, known: g ? g.dataset.known === '1' : false,
        graded: g ? g.classList.contains('graded') : false,
        ungraded: [...document.querySelectorAll('li.group:not(.graded)')].map(x => x.id),
        all: [...document.querySelectorAll('li.group')].map(x => x.id),
    };
}"""

# How many Tab and Shift+Tab presses reach an element matching `sel` from the focus: the
# page's tab stops in document order (a radio group is one stop), the body between the
# last and the first, as Chromium cycles. -1: nothing to reach.
TAB_PLAN_JS = """sel => {
    const all = [...document.querySelectorAll(
        'a[href], button, input, select, textarea, summary, [tabindex]')]
        .filter(e => !e.disabled && e.type !== 'hidden' && e.tabIndex >= 0
                && e.getClientRects().length > 0);
    const stops = [document.body];
    const groups = [];
    for (const e of all) {
        if (e.type === 'radio') {
            const group = groups.find(g => g[0].name === e.name && g[0].form === e.form);
            if (group) { group.push(e); continue; }
            groups.push([e]);
        }
        stops.push(e);
    }
    const members = e => (e.type === 'radio'
        ? groups.find(g => g.includes(e)) : [e]);
    const active = document.activeElement;
    let here = stops.findIndex(s => members(s).includes(active));
    if (here < 0) here = 0;
    const n = stops.length;
    let forward = -1, backward = -1;
    stops.forEach((s, i) => {
        if (i === here || !members(s).some(m => m.matches(sel))) return;
        const f = (i - here + n) % n, b = (here - i + n) % n;
        if (forward < 0 || f < forward) forward = f;
        if (backward < 0 || b < backward) backward = b;
    });
    return {forward, backward, n};
}"""

VERDICT_JS = """() => {
    const r = document.querySelector('#decision input[name=criminal]:checked');
    return r ? r.value : '';
}"""

# Saved: the tile comes back graded and the focus moves on to a tile. Refused: the one
# grading panel lists why in #grade-errors.
GRADED_JS = """id => {
    if (document.querySelector('#grade-errors li')) return true;
    const g = document.getElementById(id);
    if (!g) return false;
    const el = document.activeElement;
    return g.classList.contains('graded') && el && el.isConnected && el.matches('li.group');
}"""

REVEALED_JS = """id => {
    const img = document.querySelector('#' + id + '.revealed .viewer .revealed-media');
    return Boolean(img) && (img.tagName !== 'IMG' || (img.complete && img.naturalWidth > 0));
}"""

CLOSURE_REASON = "not_csam"
CASE_SCREEN = r"/staff/assess/cases/(\d+)/$"
VERDICT = "#decision input[name=criminal]"
DECIDE_OR_VERDICT = "#decision input[name=criminal], #decision button[type=submit]"


@dataclass
class CaseRun:
    case_id: int = 0
    groups: int = 0
    media: int = 0
    reveals: int = 0
    reloads: int = 0
    seconds: float = 0.0
    keys: Counter[str] = field(default_factory=Counter)  # by KEY_KINDS
    why: Counter[str] = field(default_factory=Counter)  # decision keys by purpose

    @property
    def total_keys(self) -> int:
        return sum(self.keys.values())


class Analyst:
    """Works the queue from the keyboard. The screen is read (as an analyst reads it) with
    page.evaluate; it is changed only by page.keyboard.press, and every press is counted.

    A documented key that does not do what the screen says (`d`, the arrow keys on the
    verdict) is tried once, noted, and from then on worked around with the keys that do
    work: Tab / Shift+Tab, Enter, and reloading the case through the queue."""

    def __init__(self, page: Any, truths: dict[int, CaseTruth]) -> None:
        from django.urls import reverse

        from openhotline.assessment.views import ACTIVITY_ROWS, AGE_ROWS, NOT_CSAM_ROWS

        self.page = page
        self.truths = truths
        self.queue_path = reverse("assessment:queue")
        self.next_path = reverse("assessment:next")
        self.activity_key = {code: key for code, _label, key in ACTIVITY_ROWS}
        self.age_key = {code: key for code, _label, key in AGE_ROWS}
        self.not_csam_key = {code: key for code, _label, key in NOT_CSAM_ROWS}
        self.works: dict[str, bool] = {}  # documented key -> did it work when tried
        self.failures: list[str] = []
        self.run = CaseRun()

    # -- keys and the screen --

    def press(self, key: str, kind: str, why: str = "") -> None:
        assert kind in KEY_KINDS
        self.page.keyboard.press(key)
        self.run.keys[kind] += 1
        if kind == "decision keys":
            self.run.why[why or key] += 1

    def matches(self, selector: str) -> bool:
        return bool(
            self.page.evaluate(
                "sel => Boolean(document.activeElement && document.activeElement.matches(sel))",
                selector,
            )
        )

    def verdict_shown(self) -> str:
        return str(self.page.evaluate(VERDICT_JS))

    def tab_to(self, selector: str, why: str) -> None:
        """Tab (or Shift+Tab, whichever is fewer presses) until the focus matches."""
        if self.matches(selector):
            return
        plan = self.page.evaluate(TAB_PLAN_JS, selector)
        if plan["forward"] < 0:
            raise BenchError(f"case {self.run.case_id}: nothing on the page matches {selector}")
        key = "Tab" if plan["forward"] <= plan["backward"] else "Shift+Tab"
        for _ in range(plan["n"] + 2):
            self.press(key, "decision keys", why)
            if self.matches(selector):
                return
        raise BenchError(f"case {self.run.case_id}: {key} never reached {selector}")

    def note(self, key: str, worked: bool, what: str) -> None:
        if key not in self.works:
            self.works[key] = worked
            if not worked:
                self.failures.append(f"{what} (first tried on case #{self.run.case_id})")

    def wait_for_queue_button(self) -> None:
        """The queue page autofocuses "Claim the next case" (or "Continue with case #N")."""
        self.page.wait_for_function(
            """path => {
                const el = document.activeElement;
                return Boolean(el && el.form && new URL(el.form.action).pathname === path);
            }""",
            arg=self.next_path,
        )

    # -- one case --

    def work_case(self) -> CaseRun:
        page = self.page
        self.run = run = CaseRun()
        started = time.perf_counter()
        found = re.search(CASE_SCREEN, page.url)
        if found is None:
            # On the queue (the first case, or after one landed there): claim from it. After
            # a decision the screen has already claimed and opened the next case.
            self.wait_for_queue_button()
            with page.expect_navigation():
                self.press("Enter", "claim")
            found = re.search(CASE_SCREEN, page.url)
        if found is None:
            raise BenchError(f"claiming the next case led to {page.url}")
        run.case_id = int(found.group(1))
        truth = self.truths[run.case_id]
        state = page.evaluate(STATE_JS)
        run.groups, run.media = len(state["all"]), len(truth.labels)
        while state["ungraded"]:
            if state["onGroup"] and not state["graded"]:
                self.grade_focused(state, truth)
            else:
                self.move(state)
            state = page.evaluate(STATE_JS)
        self.decide(truth)
        run.seconds = time.perf_counter() - started
        return run

    def move(self, state: dict[str, Any]) -> None:
        """`j` or `k` towards the nearest ungraded group (`j` from nowhere: the first)."""
        if not state["group"]:
            self.press("j", "moves")
            return
        here = state["all"].index(state["group"])
        ahead = [state["all"].index(g) for g in state["ungraded"]]
        after = [i for i in ahead if i > here]
        before = [i for i in ahead if i < here]
        if after and (not before or min(after) - here <= here - max(before)):
            self.press("j", "moves")
        else:
            self.press("k", "moves")

    def grade_focused(self, state: dict[str, Any], truth: CaseTruth) -> None:
        lead, group_id = state["lead"], state["group"]
        grade, age = truth.labels[lead]
        if state["known"]:
            # Pre-graded by a known hash: Enter confirms what is shown, no reveal.
            self.press("Enter", "Enter confirms")
        else:
            self.press("v", "reveals")
            self.run.reveals += 1
            self.page.wait_for_function(REVEALED_JS, arg=group_id)
            if age:
                self.press(self.activity_key[grade], "grade keys")
                self.press(self.age_key[age], "grade keys")
            else:
                self.press(self.not_csam_key[grade], "grade keys")
        # Saved: the group comes back graded and the focus goes on to the next one.
        self.page.wait_for_function(GRADED_JS, arg=group_id)
        errors = self.page.locator("#grade-errors li").all_inner_texts()
        if errors:
            raise BenchError(f"case {self.run.case_id}, {group_id}: {' '.join(errors)}")

    def decide(self, truth: CaseTruth) -> None:
        want = "yes" if truth.criminal else "no"
        if self.works.get("d", True):
            self.press("d", "decision keys", "d")
            self.note(
                "d", self.matches("#decision *"), "`d` did not move the focus to the decision"
            )
        if self.verdict_shown() != want and self.matches(f'{VERDICT}[value="{want}"]'):
            self.press("Space", "decision keys", "choose the verdict")
        if self.verdict_shown() != want and self.works.get("arrows", True):
            self.tab_to(VERDICT, "Tab to the verdict")
            self.press(
                "ArrowUp" if want == "yes" else "ArrowDown", "decision keys", "choose the verdict"
            )
            self.note(
                "arrows",
                self.verdict_shown() == want and self.matches(VERDICT),
                "an arrow key on the verdict radio did not change it",
            )
        if self.verdict_shown() != want:
            self.reload_via_queue()
            if self.verdict_shown() != want:
                raise BenchError(f"case {self.run.case_id}: cannot get the verdict to {want}")
        # The screen fills in the likeliest closure reason; the analyst reads it and goes
        # there only to change it.
        if not truth.criminal and self.closure_reason() != CLOSURE_REASON:
            self.tab_to("#decision select[name=closure_reason]", "Tab to the closure reason")
            for _ in range(8):
                if self.closure_reason() == CLOSURE_REASON:
                    break
                self.press("ArrowDown", "decision keys", "choose the closure reason")
        self.tab_to(DECIDE_OR_VERDICT, "Tab to Decide")
        with self.page.expect_navigation():
            self.press("Enter", "decision keys", "submit")
        self.check_decided()

    def closure_reason(self) -> str:
        return str(
            self.page.eval_on_selector("#decision select[name=closure_reason]", "s => s.value")
        )

    def check_decided(self) -> None:
        """A decision lands on the next case, claimed and opened (or on the queue when
        nothing else waits), saying the case was decided; a refusal stays on this case."""
        landed = re.search(CASE_SCREEN, self.page.url)
        on_queue = self.page.url.endswith(self.queue_path)
        if (landed is None or int(landed.group(1)) == self.run.case_id) and not on_queue:
            problems = self.page.locator(".form-errors").all_inner_texts()
            raise BenchError(f"case {self.run.case_id}: decision refused: {problems}")
        said = " ".join(self.page.locator("[role=status] .messages li").all_inner_texts())
        if f"Case #{self.run.case_id} decided" not in said:
            raise BenchError(f"case {self.run.case_id}: no word of the decision ({said!r})")

    def reload_via_queue(self) -> None:
        """The verdict is pre-selected from the grades when the page was rendered: go to
        the queue (nav link) and back to the case (its autofocused Continue button)."""
        self.tab_to(f'nav a[href="{self.queue_path}"]', "reload via the queue")
        with self.page.expect_navigation():
            self.press("Enter", "decision keys", "reload via the queue")
        self.wait_for_queue_button()
        with self.page.expect_navigation():
            self.press("Enter", "decision keys", "reload via the queue")
        if f"/cases/{self.run.case_id}/" not in self.page.url:
            raise BenchError(f"case {self.run.case_id}: the queue led to {self.page.url}")
        self.run.reloads += 1


# --- The run --------------------------------------------------------------------------


def sign_in(page: Any, base: str, user: Any) -> None:
    from tests.conftest import totp_now

    page.goto(f"{base}/staff/assess/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(totp_now(user))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if not page.url.endswith("/staff/assess/"):
        raise BenchError(f"sign-in led to {page.url}")


def watch(page: Any, problems: list[str]) -> None:
    """What the browser tests count as a failure of the page."""

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"script: {error}"))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}") if r.status == 404 or r.status >= 500 else None
        ),
    )


def drive(
    args: argparse.Namespace, truths: list[CaseTruth], deadline: float, var: Path
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import make_user

    user = make_user("bench-analyst", "analyst")
    runs: list[CaseRun] = []
    problems: list[str] = []
    stopped = ""
    by_id = {t.case_id: t for t in truths}
    every = max(1, len(truths) // 20)
    with LiveServer(var) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-GB")
            page = context.new_page()
            page.set_default_timeout(STEP_MS)
            watch(page, problems)
            sign_in(page, server.url, user)
            analyst = Analyst(page, by_id)
            started = time.monotonic()
            assert _server is not None
            mark = CpuMark.now(_server.pid)
            for n in range(1, len(truths) + 1):
                if time.monotonic() > deadline:
                    stopped = f"deadline reached after {len(runs)} cases"
                    break
                try:
                    runs.append(analyst.work_case())
                except Exception as error:  # a timeout or a refusal: stop, report
                    stopped = f"case {n}: {type(error).__name__}: {error}".splitlines()[0]
                    break
                if n % every == 0 or n == len(truths):
                    elapsed = time.monotonic() - started
                    progress(f"{n} / {len(truths)} cases decided, {elapsed:.0f} s in the browser")
            cpu = cpu_spent(mark, CpuMark.now(_server.pid), time.monotonic() - started)
            context.close()
        finally:
            browser.close()
        if problems or stopped:
            log = var / "gunicorn.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            print(f"server log (end):\n{tail}", file=sys.stderr)
    return {
        "runs": runs,
        "problems": problems,
        "stopped": stopped,
        "failures": analyst.failures,
        "cpu": cpu,
    }


# --- Checks and figures -----------------------------------------------------------------


def check_outcomes(truths: list[CaseTruth], runs: list[CaseRun]) -> list[str]:
    """Each decided case decided as its truth says, each item graded as labelled."""
    from openhotline.assessment.models import Decision, MediaGrade, Reveal, Via

    wrong: list[str] = []
    by_id = {t.case_id: t for t in truths}
    for run in runs:
        truth = by_id[run.case_id]
        decision = Decision.objects.filter(case_id=run.case_id).first()
        if decision is None:
            wrong.append(f"case {run.case_id}: no decision")
            continue
        if decision.criminal != truth.criminal:
            wrong.append(f"case {run.case_id}: criminal={decision.criminal}")
        if not truth.criminal and decision.closure_reason != CLOSURE_REASON:
            wrong.append(f"case {run.case_id}: closed as {decision.closure_reason!r}")
        grades = {g.media_id: g for g in MediaGrade.objects.filter(decision=decision)}
        for media_id, (grade, age) in truth.labels.items():
            given = grades.get(media_id)
            if given is None or (given.grade, given.age_band) != (grade, age):
                wrong.append(f"case {run.case_id}: media {media_id} graded {given}")
            elif (given.via == Via.KNOWN_MATCH) != (media_id in truth.known):
                wrong.append(f"case {run.case_id}: media {media_id} graded via {given.via}")
        reveals = Reveal.objects.filter(case_id=run.case_id).count()
        if reveals != run.reveals:
            wrong.append(f"case {run.case_id}: {reveals} reveals recorded, {run.reveals} made")
    return wrong


def _mean_median(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "median": 0.0}
    return {"mean": statistics.fmean(values), "median": statistics.median(values)}


def figures(
    args: argparse.Namespace, truths: list[CaseTruth], outcome: dict[str, Any], wall: float
) -> dict[str, Any]:
    runs: list[CaseRun] = outcome["runs"]
    decided = len(runs)
    keys = Counter[str]()
    why = Counter[str]()
    for run in runs:
        keys.update(run.keys)
        why.update(run.why)
    total_keys = sum(keys.values())
    media = sum(r.media for r in runs)
    groups = sum(r.groups for r in runs)
    expected_groups = sum(t.expected_groups for t in truths[:decided])
    per_case = max(decided, 1)
    known_n, bases_n, dups_n = split(args.media, args.known_share, args.near_dup_share)
    return {
        "scenario": {
            "cases": args.cases,
            "media_per_case": args.media,
            "known_share": args.known_share,
            "near_dup_share": args.near_dup_share,
            "benign_share": args.benign_share,
            "per_case": {"known": known_n, "unknown_distinct": bases_n, "near_duplicates": dups_n},
            "criminal_cases": sum(t.criminal for t in truths),
        },
        "cases_decided": decided,
        "media": media,
        "groups": groups,
        "groups_expected": expected_groups,
        "reveals_per_case": _mean_median([float(r.reveals) for r in runs]),
        "keys_per_case": _mean_median([float(r.total_keys) for r in runs]),
        "keys_per_graded_item": total_keys / max(media, 1),
        "keys_per_group": total_keys / max(groups, 1),
        "seconds_per_case": _mean_median([r.seconds for r in runs]),
        "keys_by_kind_per_case": {k: keys[k] / per_case for k in KEY_KINDS},
        "decision_keys_by_purpose_per_case": {k: v / per_case for k, v in why.most_common()},
        "keys_per_case_by_verdict": {
            verdict: _mean_median(
                [float(r.total_keys) for r in runs if truth_of(truths, r).criminal == criminal]
            )
            for verdict, criminal in (("criminal", True), ("closed", False))
        },
        "reloads_via_queue": sum(r.reloads for r in runs),
        "documented_keys_that_failed": outcome["failures"],
        "page_problems": outcome["problems"],
        "outcome_problems": outcome.get("wrong", []),
        "stopped_early": outcome["stopped"],
        "seed_seconds": outcome.get("seed_seconds", 0.0),
        "cpu": outcome["cpu"],
        "wall_seconds": wall,
    }


def truth_of(truths: list[CaseTruth], run: CaseRun) -> CaseTruth:
    return next(t for t in truths if t.case_id == run.case_id)


def table(result: dict[str, Any]) -> str:
    s = result["scenario"]
    per = s["per_case"]
    rows = [
        f"Assessment bench: {s['cases']} cases x {s['media_per_case']} media "
        f"({per['known']} known, {per['unknown_distinct']} unknown, "
        f"{per['near_duplicates']} near-duplicates of those); "
        f"{s['criminal_cases']} cases criminal, the rest to close",
        "",
        f"{'cases decided':<28}{result['cases_decided']:>10}",
        f"{'media graded':<28}{result['media']:>10}",
        f"{'groups (expected)':<28}{result['groups']:>10}  ({result['groups_expected']})",
        f"{'':<28}{'mean':>10}{'median':>10}",
    ]
    for label, name in (
        ("reveals / case", "reveals_per_case"),
        ("keys / case", "keys_per_case"),
        ("seconds / case", "seconds_per_case"),
    ):
        rows.append(f"{label:<28}{result[name]['mean']:>10.2f}{result[name]['median']:>10.2f}")
    for verdict, mm in result["keys_per_case_by_verdict"].items():
        rows.append(
            f"{'  keys / ' + verdict + ' case':<28}{mm['mean']:>10.2f}{mm['median']:>10.2f}"
        )
    rows += [
        f"{'keys / graded item':<28}{result['keys_per_graded_item']:>10.2f}",
        f"{'keys / group':<28}{result['keys_per_group']:>10.2f}",
        "",
        "where the keys went (per case):",
    ]
    rows += [f"  {k:<26}{v:>10.2f}" for k, v in result["keys_by_kind_per_case"].items()]
    rows.append("decision keys by purpose (per case):")
    rows += [f"  {k:<26}{v:>10.2f}" for k, v in result["decision_keys_by_purpose_per_case"].items()]
    rows.append(f"{'reloads via the queue':<28}{result['reloads_via_queue']:>10}")
    for failure in result["documented_keys_that_failed"]:
        rows.append(f"documented key failed: {failure}")
    for name in ("page_problems", "outcome_problems"):
        for problem in result[name][:20]:
            rows.append(f"{name.replace('_', ' ')}: {problem}")
    if result["stopped_early"]:
        rows.append(f"STOPPED EARLY: {result['stopped_early']}")
    rows.append(f"seeding {result['seed_seconds']:.0f} s; wall time {result['wall_seconds']:.0f} s")
    rows += cpu_rows(result["cpu"], max(result["cases_decided"], 1))
    return "\n".join(rows)


def cpu_rows(cpu: dict[str, Any], cases: int) -> list[str]:
    window = max(cpu["window_seconds"], 1e-9)
    rows = [
        f"CPU while driving ({cpu['window_seconds']:.0f} s, {cpu['cores']} cores): "
        "seconds, per case, cores kept busy",
    ]
    for label, name in (
        ("server (gunicorn)", "server_cpu_s"),
        ("browser and its driver", "browser_cpu_s"),
        ("this bench process", "bench_process_cpu_s"),
        ("other processes", "other_processes_cpu_s"),
    ):
        spent = cpu[name]
        rows.append(f"  {label:<26}{spent:>10.1f}{spent / cases:>10.3f}{spent / window:>10.2f}")
    start, end = cpu["load_average_start"], cpu["load_average_end"]
    rows.append(
        "load average (1, 5, 15 min): "
        f"{start[0]:.2f} {start[1]:.2f} {start[2]:.2f} at the start, "
        f"{end[0]:.2f} {end[1]:.2f} {end[2]:.2f} at the end"
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--media", type=int, default=20)
    parser.add_argument("--known-share", type=float, default=0.3)
    parser.add_argument("--near-dup-share", type=float, default=0.2)
    parser.add_argument("--benign-share", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=1650.0, help="seconds")
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout")
    args = parser.parse_args()
    if args.cases < 1 or args.media < 1 or not 0 <= args.known_share <= 1:
        parser.error("need at least one case and one medium, and a share within 0..1")
    if not (0 <= args.near_dup_share < 1 and 0 <= args.benign_share <= 1):
        parser.error("shares are within 0..1")
    started = time.monotonic()
    deadline = started + args.deadline
    guard_loopback()
    # A SIGTERM (timeout, kill) unwinds like Ctrl+C: the server stops, the files go.
    signal.signal(signal.SIGTERM, _terminated)
    var = Path(tempfile.mkdtemp(prefix="bench-assess-", dir=ROOT / "var"))
    # The last resort: whatever hangs, the process ends (the browser with its driver).
    watchdog = threading.Timer(args.deadline + 120, _hard_stop, args=(var,))
    watchdog.daemon = True
    watchdog.start()
    try:
        configure(var)
        result = run(args, deadline, var)
    finally:
        watchdog.cancel()
        stop_server()
        shutil.rmtree(var, ignore_errors=True)
    result["wall_seconds"] = time.monotonic() - started
    text = table(result)
    if args.json:
        print(text, file=sys.stderr)
        print(json.dumps(result, indent=2))
    else:
        print(text)
    bad = (
        result["page_problems"]
        or result["outcome_problems"]
        or result["stopped_early"]
        or result["cases_decided"] != args.cases
    )
    return 1 if bad else 0


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(f"assessment bench: stopped by signal {signum}")


def _hard_stop(var: Path) -> None:
    print("assessment bench: hard deadline passed, stopping", file=sys.stderr, flush=True)
    if _server is not None:
        _server.kill()
    shutil.rmtree(var, ignore_errors=True)
    os._exit(2)


def run(args: argparse.Namespace, deadline: float, var: Path) -> dict[str, Any]:
    import logging

    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    t0 = time.monotonic()
    truths = seed_scenario(args)
    seed_seconds = time.monotonic() - t0
    outcome = drive(args, truths, deadline, var)
    outcome["wrong"] = check_outcomes(truths, outcome["runs"])
    outcome["seed_seconds"] = seed_seconds
    return figures(args, truths, outcome, 0.0)


if __name__ == "__main__":
    sys.exit(main())
