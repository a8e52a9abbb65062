"""RDAP's connections go only where captures may go.

RDAP servers are named by IANA's registries, but a registry's server (hundreds of them,
some small) may redirect anywhere, and the RDAP client keeps what it is answered for the
record: a redirect to the cloud's metadata service or the hotline's own network would read
it back. So every connection, the first request's and every redirect hop's, is checked
with the capture fetcher's policy (`evidence.net.policy`) against the addresses the
platform's resolver gives (`evidence.net.resolver`), and goes to those checked addresses
only: names are resolved here, once per connection, never again below us.
"""

import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

from openhotline.evidence.net.checked import NameRefused, NameUnresolved, checked_addresses
from openhotline.evidence.net.policy import IPNetwork

_DNS_TIMEOUT = 5.0


class AddressRefused(httpcore.ConnectError):
    """The policy refused the host; nothing was sent to it. The message says why."""


class _CheckedBackend(httpcore.NetworkBackend):
    """Resolves each host through the platform's resolver, refuses it if any address is
    forbidden, and connects to the checked addresses in turn."""

    def __init__(
        self, allow_nets: Sequence[IPNetwork], dns_servers: Sequence[tuple[str, int]] | None
    ) -> None:
        self._allow_nets = list(allow_nets)
        self._dns_servers = dns_servers
        self._inner = httpcore.SyncBackend()

    def checked_addresses(self, host: str, timeout: float | None) -> tuple[str, ...]:
        dns_timeout = min(timeout or _DNS_TIMEOUT, _DNS_TIMEOUT)
        try:
            return checked_addresses(host, self._allow_nets, self._dns_servers, dns_timeout)
        except NameRefused as refused:
            raise AddressRefused(str(refused)) from None
        except NameUnresolved as unresolved:
            raise httpcore.ConnectError(str(unresolved)) from None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception = httpcore.ConnectError(f"could not connect to {host}")
        for address in self.checked_addresses(host, timeout):
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )  # fmt: skip
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next checked address, as browsers do
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise AddressRefused("unix sockets are never used")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class CheckedTransport(httpx.HTTPTransport):
    """httpx's own transport over a connection pool that only makes checked connections.
    TLS still names the host (SNI and the certificate check use the URL's name)."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        allow_nets: Sequence[IPNetwork],
        dns_servers: Sequence[tuple[str, int]] | None = None,
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            network_backend=_CheckedBackend(allow_nets, dns_servers),
            max_connections=4,
        )


def refusal_in(exc: BaseException) -> str | None:
    """The policy's reason if `exc` (an httpx error) was caused by a refusal, else None."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        if isinstance(current, AddressRefused):
            return str(current)
        seen.append(current)
        current = current.__cause__ or current.__context__
    return None
