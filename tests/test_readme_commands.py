"""Every `openhotline` command in the README works as written, in another terminal, after
`make run` started (issue 15, item 4).

GIVEN `openhotline run-demo` on free ports with its own var directory
AND   a second "terminal": the venv's bin on the PATH, OPENHOTLINE_VAR_DIR and nothing else
      of OpenHotline's in the environment (no secret)
WHEN  each `openhotline …` command of the README's code blocks runs, in order, then each
      runnable command written inline in its text
THEN  every one exits 0; a command shown only as a synopsis (`USERNAME`, `[--jobs N]`)
      has a runnable example in a code block, or a reason here why not.

The one rewrite: a path under the clone's `var/` (the demo's var directory) is read under
the test's var directory instead.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_run_demo import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
README = (ROOT / "README.md").read_text()

# Written in the README but not run here, and why.
NOT_RUN = {
    "run-demo": "the demo itself, already running",
    "simnet": "a server that runs until stopped (the demo's own is running)",
    "db_worker": "a worker that runs until stopped (the demo's own is running)",
    "generate-secrets /etc/openhotline": "a deployment step writing to /etc",
    "revoke-api-token": "needs the token create-api-token has just printed",
    "demo-seed": "run by the demo at start; again, it gives every demo account a new password",
}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*(\.\.\.)?$|[\[\]|…]|\.\.\.")


def code_block_commands(text: str) -> Iterator[str]:
    for block in re.findall(r"^```(?:sh|bash|console)?\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            if line.strip().startswith("openhotline "):
                yield line.strip()


def inline_commands(text: str) -> Iterator[str]:
    for span in re.findall(r"`(openhotline [^`]+)`", text):
        yield re.sub(r"\s+", " ", span.replace("\\|", "|")).strip()


def is_synopsis(command: str) -> bool:
    return any(PLACEHOLDER.search(word) for word in shlex.split(command)[1:])


def subcommand(command: str) -> str:
    return shlex.split(command)[1].replace("_", "-")


def excluded(command: str) -> bool:
    rest = command.removeprefix("openhotline ")
    return rest in NOT_RUN or subcommand(command) in NOT_RUN


def test_the_readme_lists_commands_and_examples_for_every_synopsis() -> None:
    examples = list(code_block_commands(README))
    synopses = [c for c in inline_commands(README) if is_synopsis(c)]
    assert len(examples) >= 10 and len(synopses) >= 10
    shown = {subcommand(c) for c in examples}
    missing = {subcommand(c) for c in synopses if not excluded(c)} - shown
    assert not missing, f"README shows no runnable example of: {sorted(missing)}"


def as_run(command: str, var_dir: Path) -> list[str]:
    words = shlex.split(command, comments=True)
    return [str(var_dir / w.removeprefix("var/")) if w.startswith("var/") else w for w in words]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The demo running on free ports, and the environment of a second terminal."""
    port, http_port, dns_port = free_port(), free_port("127.77.1.10"), free_port("127.77.0.53")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENHOTLINE_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env["OPENHOTLINE_VAR_DIR"] = str(tmp_path)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # `. .venv/bin/activate`
    supervisor = subprocess.Popen(
        [str(BIN / "openhotline"), "run-demo", "--port", str(port), "--workers", "1",
         "--simnet-http-port", str(http_port), "--simnet-dns-port", str(dns_port)],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and supervisor.poll() is None:
            try:  # the web server starts after migrate and demo-seed
                httpx.get(f"http://127.0.0.1:{port}/report/", timeout=2, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert supervisor.poll() is None, "run-demo stopped"
        yield env
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGINT)
            try:
                supervisor.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(supervisor.pid, signal.SIGKILL)
                supervisor.wait()


def test_every_readme_command_works_as_written_after_the_demo_started(
    demo: dict[str, str], tmp_path: Path
) -> None:
    written = [*code_block_commands(README), *inline_commands(README)]
    runnable = [c for c in dict.fromkeys(written) if not is_synopsis(c)]
    failures = []
    ran = 0
    for command in runnable:
        if excluded(command):
            continue
        done = subprocess.run(
            as_run(command, tmp_path), cwd=ROOT, env=demo, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        ran += 1
        if done.returncode != 0:
            failures.append(f"{command!r} exited {done.returncode}: {done.stderr[-600:]}")
        elif "using the demo's" not in done.stderr and subcommand(command) != "generate-secrets":
            failures.append(f"{command!r} did not say it used the demo's secrets")
    assert not failures, "\n".join(failures)
    assert ran >= 15
