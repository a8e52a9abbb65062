"""The fetcher's connections: only to the addresses checked for a host, within one deadline.

httpx keeps the URL's name (so the Host header, TLS SNI and certificate check use it), but
the network backend below it (`PinnedBackend`) looks the host up in the fetch's pins (the
addresses `policy` approved for it in this fetch) and never resolves, so DNS rebinding has
no second lookup to win; unix sockets are refused. Every connect, read and write waits at
most until the fetch's one deadline (`DeadlineStream`), slow drips included. Through a
proxy (e.g. Tor for .onion) only the proxy itself is connected to (`PinnedTransport`).
"""

import functools
import ssl
import time
from collections.abc import Iterable

import httpcore
import httpx

PROXY_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}


@functools.cache
def ssl_context(verify: bool) -> ssl.SSLContext:
    # One per process: building a context reloads the CA bundle (tens of milliseconds),
    # and a context is safe to share between connections and threads once configured.
    if verify:
        return httpx.create_ssl_context()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def proxy_origin(proxy: httpx.Proxy | None) -> tuple[str, int] | None:
    """(host, port) of the proxy, the only place a proxied fetch connects to."""
    if proxy is None:
        return None
    scheme = proxy.url.scheme
    return proxy.url.raw_host.decode("ascii"), proxy.url.port or PROXY_PORTS.get(scheme, 80)


class DeadlineStream(httpcore.NetworkStream):
    """Every read and write waits at most until the fetch's deadline (slow drips included)."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise error("the total time limit was reached")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        limit = self._timeout(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, limit), self._deadline
        )

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects a host to the addresses checked for it in this fetch; never resolves."""

    def __init__(
        self, pins: dict[str, tuple[str, ...]], deadline: float, proxy: tuple[str, int] | None
    ) -> None:
        self._pins = pins
        self._deadline = deadline
        self._proxy = proxy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self._proxy is not None:
            if (host, port) != self._proxy:
                raise httpcore.ConnectError(f"refused: {host}:{port} is not the proxy")
            # The operator's own proxy: the system resolves its name, if it has one. Failing
            # to reach it says nothing about the site, so it is a proxy error.
            try:
                stream = self._inner.connect_tcp(
                    host, port, self._limit(timeout), local_address, socket_options
                )  # fmt: skip
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                raise httpcore.ProxyError(f"could not connect to the proxy: {exc}") from exc
            return DeadlineStream(stream, self._deadline)
        targets = self._pins.get(host, ())
        if not targets:
            raise httpcore.ConnectError(f"refused: no checked address for {host}")
        failure: Exception = httpcore.ConnectError(f"could not connect to {host}")
        for address in targets:
            try:
                stream = self._inner.connect_tcp(
                    address, port, self._limit(timeout), local_address, socket_options
                )  # fmt: skip
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next checked address, as browsers do
                continue
            return DeadlineStream(stream, self._deadline)
        raise failure

    def _limit(self, timeout: float | None) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ConnectTimeout("the total time limit was reached")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("refused: unix sockets are never used")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own request/response mapping over a pool that uses our backend."""

    def __init__(
        self, backend: PinnedBackend, ssl_context: ssl.SSLContext, proxy: httpx.Proxy | None
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool.close()
        if proxy is None:
            self._pool = httpcore.ConnectionPool(
                ssl_context=ssl_context, network_backend=backend, max_connections=4
            )
            return
        url = proxy.url
        proxy_url = httpcore.URL(
            scheme=url.raw_scheme,
            host=url.raw_host,
            port=url.port or PROXY_PORTS.get(url.scheme, 80),
            target=url.raw_path,
        )
        if url.scheme in ("http", "https"):
            self._pool = httpcore.HTTPProxy(
                proxy_url=proxy_url,
                proxy_auth=proxy.raw_auth,
                proxy_headers=proxy.headers.raw,
                ssl_context=ssl_context,
                network_backend=backend,
            )
        else:
            self._pool = httpcore.SOCKSProxy(
                proxy_url=proxy_url,
                proxy_auth=proxy.raw_auth,
                ssl_context=ssl_context,
                network_backend=backend,
            )
