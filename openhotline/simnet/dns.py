"""Authoritative-only DNS for the simulated world, over UDP and TCP on one loopback port.

Names in the world's zone get A records (aliases get their CNAME chain plus the final A);
other names under the zone get NXDOMAIN; names outside it get REFUSED. It never recurses, so
nothing asked of it can make it talk to the real internet. Answers follow the shared
``NetState``: a host behind a CDN resolves to the CDN's edge, a host that moved after a notice
to its new address.
"""

from __future__ import annotations

import errno
import socketserver
import threading

from dnslib import CNAME, QTYPE, RCODE, RR, SOA, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

from .state import NetState
from .world import World, normalize_name

TTL = 60
_BIND_ATTEMPTS = 20


# dnslib ships no type hints; under --strict the Any base class would be an error.
class WorldResolver(BaseResolver):  # type: ignore[misc, unused-ignore]
    def __init__(self, world: World, ttl: int = TTL, state: NetState | None = None) -> None:
        self.world = world
        self.ttl = ttl
        self.state = state if state is not None else NetState(world)
        self._asked: dict[str, int] = {}
        self._lock = threading.Lock()

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        # ra=0: we are authoritative only and say so.
        reply: DNSRecord = request.reply(ra=0, aa=1)
        qname = str(request.q.qname)
        qtype = request.q.qtype
        name = normalize_name(qname)
        if not self.world.in_zone(name):
            reply.header.aa = 0
            reply.header.rcode = RCODE.REFUSED
            return reply
        if name == self.world.zone:
            if qtype in (QTYPE.SOA, QTYPE.ANY):
                reply.add_answer(self._soa())
            else:
                reply.add_auth(self._soa())
            return reply
        chain = self.world.cname_chain(name)
        host = self.world.host_by_name(name)
        if host is None:
            reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(self._soa())
            return reply
        for alias, target in chain:
            reply.add_answer(RR(alias, QTYPE.CNAME, rdata=CNAME(target), ttl=self.ttl))
        if qtype in (QTYPE.A, QTYPE.ANY):
            address = self.state.dns_address(host)
            if host.rebind_to is not None:
                # A hostile resolver: a checked answer first, a forbidden one next time.
                with self._lock:
                    self._asked[host.name] = self._asked.get(host.name, 0) + 1
                    if self._asked[host.name] % 2 == 0:
                        address = host.rebind_to
            reply.add_answer(RR(host.name, QTYPE.A, rdata=A(address), ttl=0))
        elif not (chain and qtype == QTYPE.CNAME):
            # The name exists but has no record of this type (e.g. AAAA): NODATA.
            reply.add_auth(self._soa())
        return reply

    def _soa(self) -> RR:
        zone = self.world.zone
        times = (1, 3600, 600, 86400, self.ttl)
        return RR(zone, QTYPE.SOA, rdata=SOA(f"ns.{zone}", f"hostmaster.{zone}", times), ttl=0)


class _UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    # No SO_REUSEADDR for UDP: on Linux it would let two servers share a port silently.
    allow_reuse_address = False
    daemon_threads = True


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True  # restart at once despite TIME_WAIT
    daemon_threads = True


class SimDNSServer:
    """``SimDNSServer(world).start()``; ``port`` is the real bound port (UDP and TCP)."""

    def __init__(
        self,
        world: World,
        address: str = "127.77.0.53",
        port: int = 0,
        state: NetState | None = None,
    ) -> None:
        self.world = world
        self.state = state if state is not None else NetState(world)
        self.address = address
        self.requested_port = port
        self.port = port
        self._servers: list[DNSServer] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._servers:
            raise RuntimeError("DNS server already started")
        resolver = WorldResolver(self.world, state=self.state)
        logger = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        attempts = _BIND_ATTEMPTS if self.requested_port == 0 else 1
        for attempt in range(attempts):
            tcp = DNSServer(
                resolver, self.address, self.requested_port, tcp=True, logger=logger,
                server=_TCPServer,
            )  # fmt: skip
            port: int = tcp.server.server_address[1]
            try:
                udp = DNSServer(resolver, self.address, port, logger=logger, server=_UDPServer)
            except OSError as exc:
                tcp.server.server_close()
                # An ephemeral TCP port may be taken on UDP; pick another one.
                if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                continue
            self.port = port
            self._servers = [udp, tcp]
            break
        for server in self._servers:
            thread = threading.Thread(
                target=server.server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"simnet-dns-{self.address}:{self.port}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers = []
        self._threads = []

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"
