"""The safe fetcher: fetches hostile URLs without letting them reach inside the network.

Each hop's host is resolved once per fetch through the platform's resolver and every
address is checked (policy.check_address) before any connection. The connection then goes
to a checked address and nowhere else: the network backend below httpx looks the host up
in the fetch's pins and never resolves, so DNS rebinding has no second lookup to win. The
URL keeps the name, so the Host header and TLS SNI (and certificate check) use the name.

Limits hold whatever the server does: one wall-clock deadline covers DNS, connects, TLS,
slow headers and slow bodies; bodies are streamed and cut by decoded size (we decompress
ourselves, in bounded steps, so a gzip bomb cannot expand in memory). Nothing touches disk.

With a proxy (e.g. Tor for .onion), the proxy resolves names and we cannot see addresses:
only literal IP hosts are checked, so a proxy is used only when the caller passes one.
"""

import contextlib
import functools
import importlib.util
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urljoin

import httpcore
import httpx
from django.conf import settings

from openhotline.urlnorm import UrlRejected, normalise_url, parse_ipv4

from .policy import IPNetwork, check_address, check_name, parse_address
from .resolver import ErrorKind, Resolution, resolve

DEFAULT_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
DEFAULT_ACCEPT_LANGUAGE = "en"
_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Only what we can decode in bounded steps below; never br/zstd behind our back.
_ACCEPT_ENCODING = "gzip, deflate"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PIECE = 64 * 1024
_PROXY_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}
MIB = 1024 * 1024


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0  # wall clock for the whole fetch, redirects included
    max_redirects: int = 10
    max_page_bytes: int = 5 * MIB
    max_media_bytes: int = 50 * MIB

    @classmethod
    def from_settings(cls) -> "FetchLimits":
        """The limits in settings (FETCH_*), each defaulting to the value above."""
        default = cls()

        def get(name: str, fallback: float) -> float:
            return float(getattr(settings, f"FETCH_{name}", fallback))

        return cls(
            connect_timeout=get("CONNECT_TIMEOUT", default.connect_timeout),
            read_timeout=get("READ_TIMEOUT", default.read_timeout),
            total_timeout=get("TOTAL_TIMEOUT", default.total_timeout),
            max_redirects=int(get("MAX_REDIRECTS", default.max_redirects)),
            max_page_bytes=int(get("MAX_PAGE_BYTES", default.max_page_bytes)),
            max_media_bytes=int(get("MAX_MEDIA_BYTES", default.max_media_bytes)),
        )


@dataclass(frozen=True)
class Hop:
    """One request made: its URL, the answer's status and the address actually connected."""

    url: str
    status: int | None
    address: str | None  # None through a proxy (the proxy chose it) or when no connection
    headers: list[tuple[str, str]]
    elapsed_ms: float


@dataclass
class FetchResult:
    url: str
    final_url: str  # the last URL reached (or refused)
    hops: list[Hop] = field(default_factory=list)
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    truncated: bool = False
    truncated_reason: str | None = None
    addresses: list[str] = field(default_factory=list)  # the final host's checked addresses
    cnames: list[str] = field(default_factory=list)  # the final host's CNAME chain
    elapsed_ms: float = 0.0
    refused: str | None = None  # policy said no, in plain words; nothing was sent there
    error: str | None = None  # the network said no (see error_kind)
    error_kind: ErrorKind | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error is None and self.status is not None


class SafeFetcher:
    """``SafeFetcher().fetch(url, max_bytes=...)``; never raises for refusals or network
    failures, which come back in the result."""

    def __init__(
        self,
        *,
        dns_servers: Sequence[tuple[str, int]] | None = None,
        allow_nets: Sequence[IPNetwork] | None = None,
        limits: FetchLimits | None = None,
        verify: ssl.SSLContext | bool = True,
        user_agent: str | None = None,
        accept_language: str | None = None,
    ) -> None:
        self.dns_servers = list(
            getattr(settings, "DNS_SERVERS", []) if dns_servers is None else dns_servers
        )
        self.allow_nets = list(
            getattr(settings, "FETCH_ALLOW_NETS", []) if allow_nets is None else allow_nets
        )
        self.limits = limits or FetchLimits.from_settings()
        self.ssl_context = verify if isinstance(verify, ssl.SSLContext) else _ssl_context(verify)
        self.user_agent = user_agent or str(
            getattr(settings, "FETCH_USER_AGENT", DEFAULT_USER_AGENT)
        )
        self.accept_language = accept_language or str(
            getattr(settings, "FETCH_ACCEPT_LANGUAGE", DEFAULT_ACCEPT_LANGUAGE)
        )

    def fetch(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        user_agent: str | None = None,
        referrer: str | None = None,
        accept_language: str | None = None,
        proxy: str | None = None,
    ) -> FetchResult:
        headers = {
            "User-Agent": user_agent or self.user_agent,
            "Accept": _ACCEPT,
            "Accept-Language": accept_language or self.accept_language,
            "Accept-Encoding": _ACCEPT_ENCODING,
        }
        limit = self.limits.max_page_bytes if max_bytes is None else max_bytes
        try:
            proxy_config = _proxy_config(proxy)
        except ValueError as exc:
            return FetchResult(url, url, error=str(exc), error_kind=ErrorKind.PROXY)
        return _Fetch(self, url, headers, limit, proxy_config, referrer or None).run()


def referrer_allowed(referrer: str, url: str) -> bool:
    """Whether a request to `url` may carry `referrer` as its Referer.

    An onion address never leaves its own site (as Tor Browser's hideOnionSource): a
    clear-web host told the onion page would learn what the hotline was looking at.
    Checked on every hop, so a redirect to another site drops it too.
    """
    referring_host = _host_of(referrer)
    return not referring_host.endswith(".onion") or _host_of(url) == referring_host


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host.rstrip(".").lower()
    except (httpx.InvalidURL, UnicodeError):
        return ""


def _proxy_config(proxy: str | None) -> httpx.Proxy | None:
    if not proxy:
        return None
    try:
        parsed = httpx.Proxy(proxy)
    except (ValueError, httpx.InvalidURL):
        # The URL may hold the proxy's password: not repeated in the message.
        raise ValueError("the proxy is not an http, https, socks5 or socks5h URL") from None
    if parsed.url.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise ValueError("SOCKS proxies need the socksio package (httpx[socks])")
    return parsed


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    # One per process: building a context reloads the CA bundle (tens of milliseconds),
    # and a context is safe to share between connections and threads once configured.
    if verify:
        return httpx.create_ssl_context()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class _Stop(Exception):
    """Ends a fetch early; the result already says why."""


class _Fetch:
    """The state of one fetch: its deadline, its pinned addresses, its result."""

    def __init__(
        self,
        fetcher: SafeFetcher,
        url: str,
        headers: dict[str, str],
        limit: int,
        proxy: httpx.Proxy | None,
        referrer: str | None,
    ) -> None:
        self.url = url
        self.fetcher = fetcher
        self.limits = fetcher.limits
        self.headers = headers
        self.referrer = referrer
        self.limit = limit
        self.proxy = proxy
        self.started = time.monotonic()
        self.deadline = self.started + self.limits.total_timeout
        self.pins: dict[str, tuple[str, ...]] = {}
        self.resolutions: dict[str, Resolution] = {}
        self.result = FetchResult(url=url, final_url=url)

    def run(self) -> FetchResult:
        with contextlib.suppress(_Stop):
            self._run(self.url)
        self.result.elapsed_ms = (time.monotonic() - self.started) * 1000
        return self.result

    def _run(self, url: str) -> None:
        try:
            current = normalise_url(url)
        except UrlRejected as exc:
            self._refuse(exc.message)
        backend = _PinnedBackend(self.pins, self.deadline, _proxy_origin(self.proxy))
        transport = _PinnedTransport(backend, self.fetcher.ssl_context, self.proxy)
        seen: set[str] = set()
        with httpx.Client(transport=transport, follow_redirects=False, trust_env=False) as client:
            while True:
                self.result.final_url = current
                seen.add(current)
                self._admit(current, redirected=len(seen) > 1)
                location = self._request(client, current)
                if location is None:
                    return
                current = self._next_url(current, location, seen)

    def _refuse(self, reason: str) -> NoReturn:
        self.result.refused = reason if reason.startswith("refused") else f"refused: {reason}"
        raise _Stop

    def _fail(self, kind: ErrorKind, message: str) -> NoReturn:
        self.result.error, self.result.error_kind = message, kind
        raise _Stop

    def _remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _admit(self, url: str, *, redirected: bool) -> None:
        """Check the hop's host and pin its addresses, or stop with the reason."""
        prefix = f"redirect to {url}: " if redirected else ""
        try:
            host = httpx.URL(url).raw_host.decode("ascii")
        except (httpx.InvalidURL, UnicodeDecodeError):
            self._refuse(f"{prefix}the address is not valid")
        reason = check_name(host, via_proxy=self.proxy is not None)
        if reason:
            self._refuse(prefix + reason)
        literal = parse_address(host) or _odd_ipv4(host)
        if literal is not None:
            reason = check_address(literal, self.fetcher.allow_nets)
            if reason:
                self._refuse(f"{prefix}{host} is {reason}")
            self.pins[host] = (str(literal),)
            self.result.addresses, self.result.cnames = [str(literal)], []
            return
        if self.proxy is not None:
            self.result.addresses, self.result.cnames = [], []
            return  # the proxy resolves; nothing here to check or pin
        resolution = self.resolutions.get(host)
        if resolution is None:
            # Once per host per fetch: a later hop to the same host reuses the checked answer.
            timeout = min(self.limits.connect_timeout, self._remaining())
            if timeout <= 0:
                self._fail(ErrorKind.TOTAL_TIMEOUT, self._total_message())
            resolution = resolve(host, servers=self.fetcher.dns_servers, timeout=timeout)
            self.resolutions[host] = resolution
        self.result.addresses = list(resolution.addresses)
        self.result.cnames = list(resolution.cnames)
        if resolution.error_kind is not None:
            self._fail(resolution.error_kind, prefix + (resolution.error or "DNS failure"))
        # Attackers mix records: one forbidden address refuses the whole name.
        for address in resolution.addresses:
            reason = check_address(address, self.fetcher.allow_nets)
            if reason:
                self._refuse(f"{prefix}{host} resolves to {address}, {reason}")
        self.pins[host] = resolution.addresses

    def _request(self, client: httpx.Client, url: str) -> str | None:
        """Make one request; the Location to follow, or None when the fetch is over."""
        remaining = self._remaining()
        if remaining <= 0:
            self._fail(ErrorKind.TOTAL_TIMEOUT, self._total_message())
        timeout = httpx.Timeout(
            connect=min(self.limits.connect_timeout, remaining),
            read=min(self.limits.read_timeout, remaining),
            write=min(self.limits.read_timeout, remaining),
            pool=min(self.limits.connect_timeout, remaining),
        )
        sent = dict(self.headers)
        if self.referrer and referrer_allowed(self.referrer, url):
            sent["Referer"] = self.referrer
        request = client.build_request("GET", url, headers=sent, timeout=timeout)
        started = time.monotonic()
        try:
            response = client.send(request, stream=True)
        except httpx.HTTPError as exc:
            self.result.hops.append(Hop(url, None, None, [], _ms_since(started)))
            self._fail(*self._classify(exc))
        try:
            status = response.status_code
            # As sent (original case, latin-1 is lossless for any bytes): this is evidence.
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
            address = None if self.proxy is not None else _peer_address(response)
            location = response.headers.get("location")
            if status in _REDIRECT_STATUSES and location:
                self.result.hops.append(Hop(url, status, address, headers, _ms_since(started)))
                return location
            self.result.status, self.result.headers = status, headers
            try:
                self._read_body(response)
            finally:
                self.result.hops.append(Hop(url, status, address, headers, _ms_since(started)))
        finally:
            response.close()
        return None

    def _read_body(self, response: httpx.Response) -> None:
        chunks: list[bytes] = []
        size = 0
        encodings = response.headers.get_list("content-encoding", split_commas=True)
        try:
            for piece in _decode(response.iter_raw(), encodings):
                room = self.limit - size
                if len(piece) > room:
                    chunks.append(piece[:room])
                    size += room
                    self.result.truncated = True
                    self.result.truncated_reason = f"the body is larger than {self.limit} bytes"
                    break
                chunks.append(piece)
                size += len(piece)
        except httpx.HTTPError as exc:
            kind, message = self._classify(exc)
            self.result.truncated, self.result.truncated_reason = True, message
            self.result.error, self.result.error_kind = message, kind
        except _DecodeError as exc:
            message = f"the body could not be decompressed ({exc})"
            self.result.truncated, self.result.truncated_reason = True, message
            self.result.error, self.result.error_kind = message, ErrorKind.DECODING
        finally:
            self.result.body = b"".join(chunks)

    def _next_url(self, current: str, location: str, seen: set[str]) -> str:
        target = urljoin(current, location.strip())
        try:
            following = normalise_url(target)
        except UrlRejected as exc:
            if exc.code == "scheme":
                self._refuse(f"redirect to {target[:200]}: only http and https are followed")
            self._refuse(f"redirect to {target[:200]}: {exc.message}")
        if following in seen:
            self.result.final_url = following
            self._fail(ErrorKind.REDIRECT_LOOP, f"redirect loop: {following} was visited before")
        if len(seen) > self.limits.max_redirects:
            self.result.final_url = following
            self._fail(
                ErrorKind.TOO_MANY_REDIRECTS,
                f"more than {self.limits.max_redirects} redirects; stopped before {following}",
            )
        return following

    def _total_message(self) -> str:
        return f"gave up: the fetch took longer than {self.limits.total_timeout:g} s in total"

    def _classify(self, exc: httpx.HTTPError) -> tuple[ErrorKind, str]:
        causes = _causes(exc)
        if isinstance(exc, httpx.TimeoutException):
            if self._remaining() <= 0.001:
                return ErrorKind.TOTAL_TIMEOUT, self._total_message()
            if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                return ErrorKind.CONNECT_TIMEOUT, "timed out connecting to the server"
            return ErrorKind.READ_TIMEOUT, "timed out waiting for the server to send data"
        if isinstance(exc, httpx.ProxyError):
            return ErrorKind.PROXY, f"the proxy failed: {exc}"
        if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
            return ErrorKind.CONNECTION_REFUSED, "the server refused the connection"
        if any(isinstance(cause, ssl.SSLError | ssl.CertificateError) for cause in causes):
            return ErrorKind.TLS, f"TLS failed: {exc}"
        if isinstance(exc, httpx.ProtocolError):
            return ErrorKind.PROTOCOL, f"the server broke the HTTP protocol: {exc}"
        return ErrorKind.CONNECTION_ERROR, f"connection failed: {exc}"


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _odd_ipv4(host: str) -> str | None:
    # normalise_url writes IPv4 in dotted decimal; this catches any spelling that slipped
    # through as a "name" (a browser would still treat it as an address).
    try:
        parsed = parse_ipv4(host)
    except UrlRejected:
        return None
    return None if parsed is None else str(parsed)


def _peer_address(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return None
    parsed = parse_address(str(peer[0]))
    return str(parsed) if parsed is not None else None


def _proxy_origin(proxy: httpx.Proxy | None) -> tuple[str, int] | None:
    if proxy is None:
        return None
    scheme = proxy.url.scheme
    return proxy.url.raw_host.decode("ascii"), proxy.url.port or _PROXY_PORTS.get(scheme, 80)


# --- Connections: pinned addresses, one deadline -------------------------------------------


class _DeadlineStream(httpcore.NetworkStream):
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
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, limit), self._deadline
        )

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
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
            return _DeadlineStream(stream, self._deadline)
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
            return _DeadlineStream(stream, self._deadline)
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


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's own request/response mapping over a pool that uses our backend."""

    def __init__(
        self, backend: _PinnedBackend, ssl_context: ssl.SSLContext, proxy: httpx.Proxy | None
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
            port=url.port or _PROXY_PORTS.get(url.scheme, 80),
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


# --- Bodies: decompressed in bounded steps ---------------------------------------------------


class _DecodeError(Exception):
    pass


class _Inflater:
    """gzip or deflate, yielding at most _PIECE bytes at a time however dense the input."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
        self._z = zlib.decompressobj(self._wbits)
        self._started = False
        self._done = False

    def run(self, upstream: Iterable[bytes]) -> Iterator[bytes]:
        for data in upstream:
            yield from self._feed(data)
        yield from self._feed(b"")

    def _feed(self, data: bytes) -> Iterator[bytes]:
        while not self._done:
            try:
                out = self._z.decompress(data, _PIECE)
            except zlib.error as exc:
                if not self._started and not self._gzip and self._wbits > 0:
                    # "deflate" is sometimes raw deflate without the zlib wrapper.
                    self._wbits = -zlib.MAX_WBITS
                    self._z = zlib.decompressobj(self._wbits)
                    continue
                raise _DecodeError(str(exc)) from None
            self._started = True
            if out:
                yield out
            if self._z.eof:
                rest = self._z.unused_data
                if self._gzip and rest.startswith(b"\x1f\x8b"):
                    self._z = zlib.decompressobj(self._wbits)  # another gzip member
                    data = rest
                    continue
                self._done = True  # bytes after the end are ignored, as browsers do
                return
            data = self._z.unconsumed_tail
            if not data and len(out) < _PIECE:
                return


def _decode(raw: Iterator[bytes], encodings: list[str]) -> Iterator[bytes]:
    """The body as the browser would see it; raw if an encoding is one we do not know."""
    names = [name.strip().lower() for name in encodings if name.strip()]
    names = [name for name in names if name != "identity"]
    if any(name not in ("gzip", "x-gzip", "deflate") for name in names):
        return raw
    stream: Iterator[bytes] = raw
    # Encodings are listed in the order applied; undo them last first.
    for name in reversed(names):
        stream = _Inflater(gzip=name != "deflate").run(stream)
    return stream
