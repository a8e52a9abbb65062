"""``manage.py simnet``: run the simulated internet in the foreground for the demo."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.simnet.runner import Simnet


class Command(BaseCommand):
    help = "Run the simulated internet (DNS + web sites on 127.77.0.0/16) until interrupted."
    # It touches neither the database nor the platform's secrets, so it runs before setup too.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--http-port", type=int, default=8480, help="port for every web site")
        parser.add_argument("--dns-port", type=int, default=53535, help="DNS port (UDP and TCP)")

    def handle(self, *args: Any, **options: Any) -> None:
        done = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            done.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            with Simnet(http_port=options["http_port"], dns_port=options["dns_port"]) as net:
                self._describe(net)
                # Short waits so the signal handler gets a chance to run promptly.
                while not done.wait(0.5):
                    pass
                self.stdout.write("Stopping the simulated internet.")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _describe(self, net: Simnet) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS("Simulated internet running (loopback only)."))
        for host in net.world.hosts:
            sample = next(iter(host.pages), "/")
            out.write(
                f"  {host.name:<24} {host.address:<13} {host.country}  {net.url(host.name, sample)}"
            )
        for alias, target in net.world.aliases.items():
            out.write(f"  {alias:<24} CNAME {target}")
        out.write("Settings for OpenHotline (copy into the environment):")
        out.write(f"OPENHOTLINE_DNS_SERVERS={net.dns_servers}")
        out.write(f"OPENHOTLINE_FETCH_ALLOW_NETS={net.allow_nets}")
        out.write("Press Ctrl-C to stop.")
        # Piped stdout is block-buffered; the demo script waits for these lines.
        out.flush()
