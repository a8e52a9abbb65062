"""``Simnet``: start the whole simulated internet (DNS + web) and tell clients how to reach it.

with Simnet() as net:
    settings.OPENHOTLINE_DNS_SERVERS = net.dns_servers
    settings.OPENHOTLINE_FETCH_ALLOW_NETS = net.allow_nets
    httpx.get(net.url("gallery-one.test"))  # only if the client resolves via net.dns_servers
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from .dns import SimDNSServer
from .web import SimWebServer
from .world import World, default_world


class Simnet:
    def __init__(
        self,
        world: World | None = None,
        http_port: int = 0,
        dns_port: int = 0,
        dns_address: str | None = None,
    ) -> None:
        self.world = world if world is not None else default_world()
        self.dns = SimDNSServer(self.world, dns_address or self.world.dns_address, dns_port)
        self.web = SimWebServer(self.world, http_port)
        self._running = False

    def start(self) -> Self:
        if self._running:
            return self
        self.dns.start()
        try:
            self.web.start()
        except BaseException:
            self.dns.stop()
            raise
        self._running = True
        return self

    def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self.web.stop()
        self.dns.stop()

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
        host = self.world.host_by_name(host_name)
        if host is None:
            raise KeyError(f"no host {host_name!r} in the simulated world")
        return host.address
