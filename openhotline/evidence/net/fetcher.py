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

This module is one fetch's course (check and pin each hop, request, follow redirects,
classify failures); its parts live beside it: `limits` (request headers, FETCH_* limits),
`pinned` (connections to pinned addresses within the deadline), `inflate` (bounded
decompression) and `result` (`FetchResult`, `Hop`).
"""

import contextlib
import importlib.util
import ssl
import time
from collections.abc import Sequence
from typing import NoReturn
from urllib.parse import urljoin

import httpx
from django.conf import settings

from openhotline.urlnorm import UrlRejected, normalise_url, parse_ipv4

from .inflate import DecodeError, decode_body
from .limits import (
    ACCEPT,
    ACCEPT_ENCODING,
    DEFAULT_ACCEPT_LANGUAGE,
    DEFAULT_USER_AGENT,
    FetchLimits,
)
from .pinned import PinnedBackend, PinnedTransport, proxy_origin, ssl_context
from .policy import IPNetwork, check_address, check_name, parse_address
from .resolver import ErrorKind, Resolution, resolve
from .result import FetchResult, Hop

# Named as `fetcher.<name>` by captures, takedown probes, the package and the benchmarks.
__all__ = ["ErrorKind", "FetchLimits", "FetchResult", "Hop", "SafeFetcher", "referrer_allowed"]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


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
        self.ssl_context = verify if isinstance(verify, ssl.SSLContext) else ssl_context(verify)
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
            "Accept": ACCEPT,
            "Accept-Language": accept_language or self.accept_language,
            "Accept-Encoding": ACCEPT_ENCODING,
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
        backend = PinnedBackend(self.pins, self.deadline, proxy_origin(self.proxy))
        transport = PinnedTransport(backend, self.fetcher.ssl_context, self.proxy)
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
            for piece in decode_body(response.iter_raw(), encodings):
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
        except DecodeError as exc:
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
