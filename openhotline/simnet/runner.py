"""``Simnet``: start the whole simulated internet and tell clients how to reach it.

DNS, the web sites, RDAP, a mail exchanger whose abuse desks act on notices and a news
server (NNTP, benign binaries), plus a .mmdb file describing the networks. Everything binds
to 127.77.0.0/16 addresses only.

with Simnet() as net:
    settings.OPENHOTLINE_DNS_SERVERS = net.dns_servers
    settings.OPENHOTLINE_FETCH_ALLOW_NETS = net.allow_nets
    httpx.get(net.url("gallery-one.test"))  # only if the client resolves via net.dns_servers
    smtplib.SMTP(net.smtp_host, net.smtp_port, local_hostname="hotline.test")  # notices
    net.mail.wait_for(lambda m: "abuse@uk-hosting.test" in m.rcpt_tos)
    net.reset()  # undo takedowns and moves, forget mail, between tests

RDAP and SMTP listen on their own addresses at the web sites' port unless given other ports,
so a supervisor that knows the web port knows every URL without asking.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from .atlas import default_world
from .dns import SimDNSServer
from .geo import FILE_NAME, write_mmdb
from .nntp import DEFAULT_NNTP_ADDRESS, NewsState, SimNNTPServer
from .notices import NoticeDesks
from .rdap import SimRDAPServer
from .smtp import MailStore, SimSMTPServer
from .state import WHOLE_SITE, NetState, NoticeEvent
from .web import SimWebServer
from .world import HostingFacts, World


class Simnet:
    def __init__(
        self,
        world: World | None = None,
        http_port: int = 0,
        dns_port: int = 0,
        dns_address: str | None = None,
        *,
        rdap_port: int | None = None,
        smtp_port: int | None = None,
        data_dir: str | Path | None = None,
        on_event: Callable[[NoticeEvent], None] | None = None,
    ) -> None:
        """``rdap_port``/``smtp_port``: None means the web port (each on its own address).

        ``data_dir`` receives the .mmdb file and every accepted message as ``mail/*.eml``;
        without it the .mmdb goes to a temporary directory removed on stop, and mail stays
        in memory only. ``on_event`` sees each step of the notice-and-takedown loop.
        """
        self.world = world if world is not None else default_world()
        self.state = NetState(self.world)
        self.dns = SimDNSServer(
            self.world, dns_address or self.world.dns_address, dns_port, state=self.state
        )
        self.web = SimWebServer(self.world, http_port, state=self.state)
        self.rdap = SimRDAPServer(self.world, self.world.rdap_address)
        self.desks = NoticeDesks(self.world, self.state, on_event)
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self.mail = MailStore(self._data_dir / "mail" if self._data_dir else None)
        self.smtp = SimSMTPServer(self.world.smtp_address, 0, self.mail, self.desks.receive)
        self.nntp = SimNNTPServer(DEFAULT_NNTP_ADDRESS)
        self._rdap_port, self._smtp_port = rdap_port, smtp_port
        self._mmdb_path: Path | None = None
        self._temp_dir: Path | None = None
        self._running = False

    def start(self) -> Self:
        if self._running:
            return self
        stops: list[Callable[[], None]] = []
        try:
            self.dns.start()
            stops.append(self.dns.stop)
            self.web.start()
            stops.append(self.web.stop)
            self._start_on_port(self.rdap, self._rdap_port)
            stops.append(self.rdap.stop)
            self._start_on_port(self.smtp, self._smtp_port)
            stops.append(self.smtp.stop)
            self._start_on_port(self.nntp, None)
            stops.append(self.nntp.stop)
            self._mmdb_path = write_mmdb(self.world, self._mmdb_dir() / FILE_NAME)
        except BaseException:
            for stop in reversed(stops):
                stop()
            self._remove_temp_dir()
            raise
        self._running = True
        return self

    def _start_on_port(
        self, server: SimRDAPServer | SimSMTPServer | SimNNTPServer, port: int | None
    ) -> None:
        server.requested_port = self.web.port if port is None else port
        try:
            server.start()
        except OSError as exc:
            # The web port was picked at random; on this address it may be taken.
            if not (port is None and self.web.requested_port == 0):
                raise
            if exc.errno != errno.EADDRINUSE:
                raise
            server.requested_port = 0
            server.start()

    def _mmdb_dir(self) -> Path:
        if self._data_dir is not None:
            self._data_dir.mkdir(parents=True, exist_ok=True)
            return self._data_dir
        self._temp_dir = Path(tempfile.mkdtemp(prefix="simnet-"))
        return self._temp_dir

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self.desks.cancel()
        self.nntp.stop()
        self.smtp.stop()
        self.rdap.stop()
        self.web.stop()
        self.dns.stop()
        self._remove_temp_dir()

    def reset(self) -> None:
        """Back to the world as built: nothing removed or moved, no pending action, no mail."""
        self.desks.cancel()
        self.state.reset()
        self.mail.clear()
        self.nntp.state.reset()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    # -- DNS and web ---------------------------------------------------------------------------

    @property
    def http_port(self) -> int:
        return self.web.port

    @property
    def dns_port(self) -> int:
        return self.dns.port

    @property
    def dns_address(self) -> str:
        return self.dns.address

    @property
    def dns_servers(self) -> str:
        """Value for ``OPENHOTLINE_DNS_SERVERS``, e.g. ``"127.77.0.53:53535"``."""
        return self.dns.endpoint

    @property
    def allow_nets(self) -> str:
        """Value for ``OPENHOTLINE_FETCH_ALLOW_NETS``, e.g. ``"127.77.0.0/16"``."""
        return self.world.network

    def url(self, host_name: str, path: str = "/") -> str:
        if self.world.host_by_name(host_name) is None:
            raise KeyError(f"no host {host_name!r} in the simulated world")
        return self.web.url(host_name, path)

    def address_of(self, host_name: str) -> str:
        """What the name resolves to now (a CDN edge, or a moved host's new address)."""
        host = self.world.host_by_name(host_name)
        if host is None:
            raise KeyError(f"no host {host_name!r} in the simulated world")
        return self.state.dns_address(host)

    # -- RDAP, mail, GeoIP ---------------------------------------------------------------------

    @property
    def rdap_url(self) -> str:
        """The RDAP server's base URL, e.g. ``http://127.77.0.43:8480/`` (``ip/…`` under it)."""
        return self.rdap.base_url

    @property
    def rdap_bootstrap_url(self) -> str:
        """Base of ``ipv4.json``, ``ipv6.json``, ``dns.json``, ``asn.json`` (for RDAP_BOOTSTRAP)."""
        return self.rdap.base_url + "bootstrap/"

    @property
    def smtp_host(self) -> str:
        return self.smtp.address

    @property
    def smtp_port(self) -> int:
        return self.smtp.port

    @property
    def nntp_host(self) -> str:
        """The news server (plain NNTP at the web port, or any free port if that is taken)."""
        return self.nntp.address

    @property
    def nntp_port(self) -> int:
        return self.nntp.port

    @property
    def news(self) -> NewsState:
        """The news server's articles; ``news.remove(message_id, delay)`` as an admin would."""
        return self.nntp.state

    @property
    def mmdb_path(self) -> Path:
        """The .mmdb describing the world's networks (for GEOIP_DB); exists while running."""
        if self._mmdb_path is None:
            raise RuntimeError("the simnet has not been started")
        return self._mmdb_path

    def environment(self) -> dict[str, str]:
        """The platform's environment variables for this simnet (what the demo passes on)."""
        return {
            "OPENHOTLINE_DNS_SERVERS": self.dns_servers,
            "OPENHOTLINE_FETCH_ALLOW_NETS": self.allow_nets,
            "OPENHOTLINE_RDAP_BOOTSTRAP": self.rdap_bootstrap_url,
            "OPENHOTLINE_GEOIP_DB": str(self.mmdb_path),
            "OPENHOTLINE_EMAIL_HOST": self.smtp_host,
            "OPENHOTLINE_EMAIL_PORT": str(self.smtp_port),
        }

    # -- hosting facts and takedowns -------------------------------------------------------------

    def facts(self, host_name: str) -> HostingFacts:
        """What tracing ``host_name`` should find (see ``World.facts``)."""
        return self.world.facts(host_name)

    def events(self) -> list[NoticeEvent]:
        return self.state.events()

    def wait_for_event(
        self, predicate: Callable[[NoticeEvent], bool], timeout: float = 10.0
    ) -> NoticeEvent:
        return self.state.wait_for_event(predicate, timeout)

    def remove(self, host_name: str, *paths: str) -> None:
        """Take content down at once, as a desk would (no paths: the whole site)."""
        host = self.world.host_by_name(host_name)
        if host is None:
            raise KeyError(f"no host {host_name!r} in the simulated world")
        self.state.remove(host.name, paths or (WHOLE_SITE,))

    def move(self, host_name: str, address: str) -> None:
        """Point the host's name at ``address`` (one the web servers listen on) at once."""
        host = self.world.host_by_name(host_name)
        if host is None:
            raise KeyError(f"no host {host_name!r} in the simulated world")
        if address not in self.world.addresses():
            raise ValueError(f"no web server listens on {address}")
        self.state.move(host.name, address)
