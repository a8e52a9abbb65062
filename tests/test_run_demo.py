"""`make run`'s supervisor starts the whole demo world and stops all of it on Ctrl-C.

GIVEN `openhotline run-demo` on free ports with its own var directory
WHEN  the report page answers and a person reports a simnet page
AND   the supervisor receives SIGINT (Ctrl-C)
THEN  it exits 0, and the web server, simnet and worker are all gone.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def processes_using(var_dir: Path) -> list[int]:
    """Processes whose environment names our var directory."""
    found = []
    marker = f"OPENHOTLINE_VAR_DIR={var_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_run_demo_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port, http_port, dns_port = free_port(), free_port("127.77.1.10"), free_port("127.77.0.53")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENHOTLINE_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env["OPENHOTLINE_VAR_DIR"] = str(tmp_path)
    supervisor = subprocess.Popen(
        [str(BIN / "openhotline"), "run-demo", "--port", str(port), "--workers", "1",
         "--simnet-http-port", str(http_port), "--simnet-dns-port", str(dns_port)],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        page = None
        while time.monotonic() < deadline and supervisor.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/report/", timeout=2, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert page is not None and page.status_code == 200
        assert "Report child sexual abuse material" in page.text
        demo = httpx.get(
            f"http://127.77.1.10:{http_port}/", headers={"Host": "gallery-one.test"},
            trust_env=False,
        )  # fmt: skip
        assert demo.status_code == 200
        assert len(processes_using(tmp_path)) >= 4  # supervisor, simnet, gunicorn, worker
        # The worker captures the demo reports from simnet, pictures and all, hashes them
        # and matches them against the demo list.
        database = tmp_path / "openhotline.sqlite3"
        stored = matched = 0
        while time.monotonic() < deadline and not (stored and matched):
            time.sleep(0.5)
            with sqlite3.connect(database) as conn:
                stored = conn.execute("SELECT COUNT(*) FROM signals_mediahash").fetchone()[0]
                matched = conn.execute("SELECT COUNT(*) FROM signals_match").fetchone()[0]
        assert stored > 0, "the demo worker captured and hashed nothing"
        assert matched > 0, "the demo worker matched nothing against the demo list"
        os.killpg(supervisor.pid, signal.SIGINT)
        output, _ = supervisor.communicate(timeout=40)
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait()
    text = output.decode()
    assert supervisor.returncode == 0, text[-2000:]
    assert "demo-analyst" in text and "stopped." in text
    time.sleep(0.5)
    assert processes_using(tmp_path) == []
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
