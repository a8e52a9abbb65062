"""`openhotline run-demo` (what `make run` does): the platform and its demo world.

Starts the simulated internet, the production web server (gunicorn) and a task worker as
child processes in their own process groups, so Ctrl-C reaches only this supervisor, which
then stops them in order and waits for them.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from openhotline.demo.environment import write_marker
from openhotline.simnet.atlas import default_world

BIN = Path(sys.executable).parent


class Command(BaseCommand):
    help = "Run OpenHotline with the demo world: simnet, web server, worker. Ctrl-C stops all."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--simnet-http-port", type=int, default=8480)
        parser.add_argument("--simnet-dns-port", type=int, default=53535)
        parser.add_argument("--workers", type=int, default=2)

    def handle(
        self,
        *args: Any,
        port: int,
        simnet_http_port: int,
        simnet_dns_port: int,
        workers: int,
        **options: Any,
    ) -> None:
        var = Path(settings.VAR_DIR)
        # In this process: the children's settings read these files at start-up.
        call_command("generate_secrets", str(var / "secrets"))
        env = self._environment(var, port, simnet_dns_port, simnet_http_port)
        # For `openhotline …` typed in another terminal: cli.py adopts it (no secret values).
        write_marker(var, env)
        self._step(["migrate", "--no-input", "-v", "0"], env)
        self._step(["collectstatic", "--no-input", "-v", "0"], env)
        children: list[subprocess.Popen[bytes]] = []
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            children.append(self._spawn(
                ["simnet", "--http-port", str(simnet_http_port), "--dns-port",
                 str(simnet_dns_port), "--data-dir", str(var / "simnet")], env))  # fmt: skip
            time.sleep(1.0)

            # The first page of the first few sites with pages: pictures to capture.
            pages = [(h.name, next(iter(h.pages))) for h in default_world().hosts if h.pages]
            urls = [f"http://{name}:{simnet_http_port}{path}" for name, path in pages[:4]]
            self._step(["demo-seed", *[f"--report-url={u}" for u in urls]], env)
            children.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "openhotline.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(workers), "--graceful-timeout", "10",
                 "--no-control-socket"],
                env=env, start_new_session=True))  # fmt: skip
            children.append(self._spawn(["db_worker"], env))
            self.stdout.write(self.style.SUCCESS(
                f"\nOpenHotline is running. Open:\n"
                f"  report form     http://localhost:{port}/report/\n"
                f"  portal (fr)     http://localhost:{port}/portal/senegal/\n"
                f"  staff sign-in   http://localhost:{port}/staff/sign-in/\n"
                f"  member portal   http://localhost:{port}/members/ (sign in as demo-member)\n"
                f"  API docs        http://localhost:{port}/api/docs/\n"
                f"  demo reports    of simnet pages such as {urls[0]}\n"
                f"Press Ctrl-C to stop.\n"))  # fmt: skip
            while not stopping:
                if any(child.poll() is not None for child in children):
                    self.stderr.write("a component stopped unexpectedly; shutting down")
                    break
                time.sleep(0.5)
        finally:
            self._stop_all(children)

    def _environment(self, var: Path, port: int, dns_port: int, http_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("OPENHOTLINE_SECRET_KEY_FILE", str(var / "secrets" / "secret_key"))
        env.setdefault("OPENHOTLINE_MASTER_KEY_FILE", str(var / "secrets" / "master_key"))
        env.setdefault("OPENHOTLINE_STORAGE_KEY_FILE", str(var / "secrets" / "storage_key"))
        env.setdefault("OPENHOTLINE_SIGNING_KEY_FILE", str(var / "secrets" / "signing_key"))
        env.setdefault("OPENHOTLINE_VAR_DIR", str(var))
        env.setdefault("OPENHOTLINE_SITE_URL", f"http://localhost:{port}")
        env.setdefault("OPENHOTLINE_SSL_REDIRECT", "false")
        env.setdefault("OPENHOTLINE_HSTS_SECONDS", "0")
        env.setdefault("OPENHOTLINE_DNS_SERVERS", f"127.77.0.53:{dns_port}")
        env.setdefault("OPENHOTLINE_FETCH_ALLOW_NETS", "127.77.0.0/16")
        # Tracing and mail go to the simulated internet's RDAP, IP database and SMTP server
        # (which keeps every message under var/simnet/mail/).
        env.setdefault("OPENHOTLINE_RDAP_BOOTSTRAP", f"http://127.77.0.43:{http_port}/bootstrap/")
        env.setdefault("OPENHOTLINE_GEOIP_DB", str(var / "simnet" / "simnet.mmdb"))
        env.setdefault("OPENHOTLINE_EMAIL_HOST", "127.77.0.25")
        env.setdefault("OPENHOTLINE_EMAIL_PORT", str(http_port))
        env.setdefault("OPENHOTLINE_FROM_EMAIL", "hotline@openhotline.test")
        env.setdefault("OPENHOTLINE_POLICE_CONTACT", "cyber-unit@police.test")
        # The demo's hosts act two minutes after a notice: recheck within minutes.
        env.setdefault("OPENHOTLINE_RECHECK_DELAYS", "60,180,600,3600")
        env.setdefault("OPENHOTLINE_RECHECK_CONFIRM_SECONDS", "30")
        return env

    def _step(self, args: list[str], env: dict[str, str]) -> None:
        subprocess.run([str(BIN / "openhotline"), *args], env=env, check=True)

    def _spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(BIN / "openhotline"), *args], env=env, start_new_session=True)

    def _stop_all(self, children: list[subprocess.Popen[bytes]]) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(children):
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.stdout.write("stopped.")
