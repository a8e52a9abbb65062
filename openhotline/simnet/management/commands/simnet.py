"""``manage.py simnet``: run the simulated internet in the foreground for the demo.

Prints the environment the platform needs to use it, then each step of the notice-and-takedown
loop as the abuse desks act, so ``make run`` shows the whole loop on its console.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openhotline.simnet.atlas import default_world
from openhotline.simnet.runner import Simnet
from openhotline.simnet.state import NoticeEvent

DEMO_NOTICE_DELAY = 120.0


class Command(BaseCommand):
    help = "Run the simulated internet (DNS, web, RDAP, SMTP on 127.77.0.0/16) until interrupted."
    # It touches neither the database nor the platform's secrets, so it runs before setup too.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--http-port", type=int, default=8480, help="port for every web site")
        parser.add_argument("--dns-port", type=int, default=53535, help="DNS port (UDP and TCP)")
        parser.add_argument(
            "--rdap-port",
            type=int,
            default=None,
            help="RDAP port on 127.77.0.43 (default: the web port)",
        )
        parser.add_argument(
            "--smtp-port",
            type=int,
            default=None,
            help="SMTP port on 127.77.0.25 (default: the web port)",
        )
        parser.add_argument(
            "--data-dir",
            default=None,
            help="where to write simnet.mmdb and received mail (mail/*.eml)",
        )
        parser.add_argument(
            "--notice-delay",
            type=float,
            default=DEMO_NOTICE_DELAY,
            help="seconds abuse desks take to act on a notice",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            done.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            net = Simnet(
                default_world(notice_delay=options["notice_delay"]),
                http_port=options["http_port"],
                dns_port=options["dns_port"],
                rdap_port=options["rdap_port"],
                smtp_port=options["smtp_port"],
                data_dir=options["data_dir"],
                on_event=self._on_event,
            )
            with net:
                self._describe(net)
                # Short waits so the signal handler gets a chance to run promptly.
                while not done.wait(0.5):
                    pass
                self.stdout.write("Stopping the simulated internet.")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_event(self, event: NoticeEvent) -> None:
        self.stdout.write(f"notice {event.describe()}")
        self.stdout.flush()

    def _describe(self, net: Simnet) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS("Simulated internet running (loopback only)."))
        for host in net.world.hosts:
            sample = next(iter(host.pages), "/")
            provider = net.world.provider_at(host.address)
            extra = f"  abuse: {provider.abuse_email}" if provider else ""
            if host.cdn:
                extra += f"  via CDN at {host.cdn}"
            if host.on_notice is not None and host.on_notice.action == "moves":
                extra += f"  moves to {host.on_notice.to} after a notice"
            out.write(
                f"  {host.name:<24} {host.address:<13} {host.country}  "
                f"{net.url(host.name, sample)}{extra}"
            )
        for alias, target in net.world.aliases.items():
            out.write(f"  {alias:<24} CNAME {target}")
        out.write(
            f"RDAP {net.rdap_url}  SMTP {net.smtp_host}:{net.smtp_port}  GeoIP {net.mmdb_path}"
        )
        out.write(f"NNTP {net.nntp_host}:{net.nntp_port} (plain, no login)")
        out.write("Settings for OpenHotline (copy into the environment):")
        for name, value in net.environment().items():
            out.write(f"{name}={value}")
        out.write("Press Ctrl-C to stop.")
        # Piped stdout is block-buffered; the demo script waits for these lines.
        out.flush()
