"""Abuse contacts over RDAP: the IP network's, and the domain registrar's.

RDAP (RFC 9083) answers are JSON objects whose `entities` nest (a network's registrant
holds its abuse contact), each with a list of `roles` and a jCard `vcardArray`. Which
server to ask comes from IANA's bootstrap registries (RFC 9224): `ipv4.json`, `ipv6.json`
and `dns.json` under RDAP_BOOTSTRAP (IANA's https://data.iana.org/rdap/ by default; the
demo and tests point it at the simulated internet), fetched when first needed and kept for
RDAP_BOOTSTRAP_TTL seconds.

Lookups never raise for what servers do: every failure (no record, rate limit, server
error, redirect loop, bad JSON, too large, timeout) comes back as an RdapResult whose
`outcome` is a stable code and whose `reason` says what happened in plain words.

Connections go where captures may go and nowhere else: every request and every redirect
hop is checked with the capture fetcher's address policy against the platform's resolver
(`rdap_http`), so a registry's redirect cannot reach the hotline's own network or the
cloud's metadata service (the answer is kept for the record and would be read back).
Redirects are followed (RDAP servers send clients on to the authoritative registry) only
to http/https and only a few times. The simulated internet serves RDAP on loopback
addresses that tests and the demo allow (FETCH_ALLOW_NETS).
"""

import functools
import ipaddress
import itertools
import json
import ssl
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import quote, urljoin, urlsplit

import httpx
from django.conf import settings

from openhotline.tracing.rdap_http import CheckedTransport, refusal_in

DEFAULT_BOOTSTRAP = "https://data.iana.org/rdap/"
DEFAULT_TIMEOUT = 10.0
DEFAULT_BOOTSTRAP_TTL = 86_400.0  # IANA changes these files a few times a year
MIB = 1024 * 1024
MAX_BYTES = MIB  # no RDAP answer we need is anywhere near this
MAX_REDIRECTS = 3
RAW_LIMIT = 128 * 1024  # of the answer kept for the record
_MAX_ENTITIES = 500  # entities looked at in one answer, however deeply nested
_MAX_DOMAIN_TRIES = 3  # example.co.uk under "uk": co.uk, example.co.uk, a.example.co.uk
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "Accept": "application/rdap+json, application/json;q=0.9",
    # Compressed answers are decoded here in bounded steps, but none is asked for.
    "Accept-Encoding": "identity",
    "User-Agent": "OpenHotline-RDAP/1",
}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Kind = Literal["ip", "domain"]


class Outcome(StrEnum):
    """How a lookup ended; stable codes for the record and for later decisions."""

    FOUND = "found"
    NOT_FOUND = "not_found"  # the server has no record (404)
    NO_SERVER = "no_server"  # the bootstrap registry lists no RDAP service for it
    BOOTSTRAP_ERROR = "bootstrap_error"  # the bootstrap registry could not be had
    INVALID_QUERY = "invalid_query"  # not an IP address, not a domain name
    RATE_LIMITED = "rate_limited"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    HTTP_ERROR = "http_error"  # any other status we cannot use
    REDIRECT_ERROR = "redirect_error"  # a loop, too many, or to something not http(s)
    MALFORMED = "malformed"  # not JSON, not an object, not what was asked for
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    REFUSED = "refused"  # the address policy refused a server or a redirect; nothing sent


@dataclass(frozen=True)
class Contact:
    """An RDAP entity, with what its jCard says."""

    handle: str
    roles: tuple[str, ...]
    name: str  # vCard fn
    organisation: str  # vCard org
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    urls: tuple[str, ...]
    # (type, identifier), e.g. ("IANA Registrar ID", "292") for a registrar.
    public_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NetworkFacts:
    """An RDAP "ip network" object's own facts."""

    handle: str
    name: str
    country: str
    start_address: str
    end_address: str
    cidrs: tuple[str, ...]  # cidr0 when the server gives it, else from start and end
    ip_version: str
    type: str
    parent_handle: str


@dataclass(frozen=True)
class RdapResult:
    query: str  # the address or name asked about, as given
    kind: Kind
    outcome: Outcome
    reason: str = ""  # empty when found
    url: str = ""  # the last URL asked (after redirects)
    status: int | None = None
    abuse: tuple[Contact, ...] = ()
    # "network" (ip), "registrar" (the registrar's own abuse contact) or "domain" (an
    # abuse entity elsewhere in the domain's answer, when the registrar has none).
    abuse_scope: str = ""
    network: NetworkFacts | None = None
    domain: str = ""  # the registered name the registry answered for
    registrar: Contact | None = None
    raw: str = ""  # the answer as received, cut at RAW_LIMIT bytes
    raw_truncated: bool = False

    @property
    def found(self) -> bool:
        return self.outcome is Outcome.FOUND

    @property
    def abuse_emails(self) -> tuple[str, ...]:
        return _unique(email for contact in self.abuse for email in contact.emails)


class BootstrapError(Exception):
    """A bootstrap registry could not be fetched or read; the message says why."""


# --- Bootstrap (RFC 9224) ----------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapRegistry:
    """One bootstrap file: which base URLs serve which networks or domain suffixes."""

    kind: str  # "ipv4", "ipv6" or "dns"
    networks: tuple[tuple[IPNetwork, tuple[str, ...]], ...] = ()
    domains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    publication: str = ""

    @classmethod
    def parse(cls, kind: str, data: object) -> "BootstrapRegistry":
        """The registry in a parsed bootstrap file; unusable entries are skipped."""
        if not isinstance(data, dict) or not isinstance(data.get("services"), list):
            raise BootstrapError('expected an object with a "services" list')
        networks: list[tuple[IPNetwork, tuple[str, ...]]] = []
        domains: dict[str, tuple[str, ...]] = {}
        for number, service in enumerate(data["services"], 1):
            if not (
                isinstance(service, list)
                and len(service) == 2
                and all(isinstance(part, list) for part in service)
            ):
                raise BootstrapError(f"service {number} is not [[entries], [urls]]")
            entries, urls = service
            bases = _base_urls(urls)
            if not bases:
                continue
            for entry in entries:
                if not isinstance(entry, str):
                    continue
                if kind == "dns":
                    domains[entry.strip().rstrip(".").lower()] = bases
                    continue
                try:
                    network = ipaddress.ip_network(entry.strip(), strict=False)
                except ValueError:
                    continue
                if f"ipv{network.version}" == kind:
                    networks.append((network, bases))
        publication = data.get("publication")
        return cls(
            kind, tuple(networks), domains, publication if isinstance(publication, str) else ""
        )

    def for_address(self, address: IPAddress) -> tuple[str, ...]:
        """The base URLs for the longest listed prefix holding `address`, or ()."""
        matches = [
            (network, bases)
            for network, bases in self.networks
            if network.version == address.version and address in network
        ]
        if not matches:
            return ()
        return max(matches, key=lambda match: match[0].prefixlen)[1]

    def for_domain(self, name: str) -> tuple[tuple[str, ...], str]:
        """The base URLs for the longest listed suffix of `name`, and that suffix."""
        labels = name.split(".")
        for start in range(len(labels)):
            suffix = ".".join(labels[start:])
            if suffix in self.domains:
                return self.domains[suffix], suffix
        return (), ""


def _base_urls(urls: list[Any]) -> tuple[str, ...]:
    bases = [
        url if url.endswith("/") else url + "/"
        for url in urls
        if isinstance(url, str) and urlsplit(url).scheme.lower() in ("http", "https")
    ]
    # RFC 9224 section 3: prefer https when a service lists both.
    return tuple(sorted(bases, key=lambda url: not url.lower().startswith("https:")))


class Bootstrap:
    """The registries under one base URL, each fetched when first needed, kept `ttl` s.

    A failed fetch is not kept: the next lookup tries again.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ttl: float = DEFAULT_BOOTSTRAP_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._registries: dict[str, tuple[float, BootstrapRegistry]] = {}

    def url(self, kind: str) -> str:
        return urljoin(self.base_url, f"{kind}.json")

    def registry(self, kind: str, fetch: Callable[[str], object]) -> BootstrapRegistry:
        """The `kind` registry, fetched with `fetch(url) -> parsed JSON` when not fresh."""
        with self._lock:
            kept = self._registries.get(kind)
            if kept is not None and kept[0] > self._clock():
                return kept[1]
        url = self.url(kind)
        try:
            registry = BootstrapRegistry.parse(kind, fetch(url))
        except BootstrapError as exc:
            message = str(exc)
            if not message.startswith("bootstrap registry "):
                message = f"bootstrap registry {url}: {message}"
            raise BootstrapError(message) from None
        self.put(registry)
        return registry

    def put(self, registry: BootstrapRegistry) -> None:
        """Keep `registry` as if just fetched (also for preloading a known copy)."""
        with self._lock:
            self._registries[registry.kind] = (self._clock() + self.ttl, registry)


_shared_lock = threading.Lock()
_shared: dict[tuple[str, float], Bootstrap] = {}


def shared_bootstrap(base_url: str | None = None, ttl: float | None = None) -> Bootstrap:
    """The process-wide Bootstrap for `base_url` (default: settings), so clients share it."""
    if base_url is None:
        base_url = str(getattr(settings, "RDAP_BOOTSTRAP", "") or DEFAULT_BOOTSTRAP)
    if ttl is None:
        ttl = float(getattr(settings, "RDAP_BOOTSTRAP_TTL", DEFAULT_BOOTSTRAP_TTL))
    with _shared_lock:
        bootstrap = _shared.get((base_url, ttl))
        if bootstrap is None:
            bootstrap = _shared[(base_url, ttl)] = Bootstrap(base_url, ttl=ttl)
        return bootstrap


# --- The client ---------------------------------------------------------------------------


class _Failure(Exception):
    """Ends a request early; carries what the result should say."""

    def __init__(
        self,
        outcome: Outcome,
        reason: str,
        url: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.url = url
        self.status = status


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process: building one reloads the CA bundle (tens of milliseconds)."""
    return httpx.create_ssl_context()


class RdapClient:
    """``with RdapClient() as rdap: rdap.abuse_contacts_for_ip("192.0.2.1")``.

    `transport` is for tests (httpx.MockTransport); production uses httpx's own. Each
    lookup has one deadline of `timeout` seconds (RDAP_TIMEOUT), bootstrap and redirects
    included.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        bootstrap: Bootstrap | None = None,
        timeout: float | None = None,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        raw_limit: int = RAW_LIMIT,
    ) -> None:
        if timeout is None:
            timeout = float(getattr(settings, "RDAP_TIMEOUT", DEFAULT_TIMEOUT))
        self.timeout = timeout
        self.bootstrap = bootstrap or shared_bootstrap()
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.raw_limit = raw_limit
        if transport is None:
            transport = CheckedTransport(
                ssl_context=_ssl_context(),
                allow_nets=getattr(settings, "FETCH_ALLOW_NETS", []),
                dns_servers=getattr(settings, "DNS_SERVERS", None) or None,
            )
        # trust_env=False: no proxy or .netrc from the environment, as with the fetcher.
        self._http = httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers=_HEADERS,
            verify=_ssl_context(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RdapClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Lookups ---

    def abuse_contacts_for_ip(self, address: str) -> RdapResult:
        """The network holding `address` and its abuse contacts, nearest first."""
        parsed = _parse_address(address)
        if parsed is None:
            reason = f"{address[:100]!r} is not an IP address"
            return RdapResult(address, "ip", Outcome.INVALID_QUERY, reason)
        deadline = time.monotonic() + self.timeout
        kind = f"ipv{parsed.version}"
        try:
            registry = self.bootstrap.registry(
                kind, lambda url: self._bootstrap_json(url, deadline)
            )
        except BootstrapError as exc:
            url = self.bootstrap.url(kind)
            return RdapResult(address, "ip", Outcome.BOOTSTRAP_ERROR, str(exc), url)
        urls = registry.for_address(parsed)
        if not urls:
            reason = f"the {kind} bootstrap registry lists no RDAP service for {parsed}"
            return RdapResult(address, "ip", Outcome.NO_SERVER, reason)
        return self._lookup(address, "ip", urls, f"ip/{quote(str(parsed), safe=':.')}", deadline)

    def abuse_contacts_for_domain(self, name: str) -> RdapResult:
        """The registration holding host or domain `name`: registrar and its abuse contact.

        Registries know registered names, not host names: "www.shop.example" is asked as
        "shop.example" first, one label more at a time after a 404 (a few times), so
        "shop.example.co.uk" also works without the public suffix list.
        """
        ascii_name = _domain_name(name)
        if ascii_name is None:
            reason = f"{name[:100]!r} is not a domain name"
            return RdapResult(name, "domain", Outcome.INVALID_QUERY, reason)
        deadline = time.monotonic() + self.timeout
        try:
            registry = self.bootstrap.registry(
                "dns", lambda url: self._bootstrap_json(url, deadline)
            )
        except BootstrapError as exc:
            url = self.bootstrap.url("dns")
            return RdapResult(name, "domain", Outcome.BOOTSTRAP_ERROR, str(exc), url)
        urls, suffix = registry.for_domain(ascii_name)
        if not urls:
            tld = ascii_name.rsplit(".", 1)[-1]
            reason = f"the dns bootstrap registry lists no RDAP service for .{tld}"
            return RdapResult(name, "domain", Outcome.NO_SERVER, reason)
        labels = ascii_name.split(".")
        first = len(suffix.split(".")) + 1
        candidates = [".".join(labels[-n:]) for n in range(first, len(labels) + 1)]
        tried: list[str] = []
        result = RdapResult(name, "domain", Outcome.NOT_FOUND)
        for candidate in (candidates or [ascii_name])[:_MAX_DOMAIN_TRIES]:
            tried.append(candidate)
            result = self._lookup(name, "domain", urls, f"domain/{quote(candidate)}", deadline)
            if result.outcome is not Outcome.NOT_FOUND:
                return result
        if len(tried) > 1:
            reason = f"no registration found for {', '.join(tried)}"
            result = replace(result, reason=reason)
        return result

    # --- One query, its answer read ---

    def _lookup(
        self, query: str, kind: Kind, bases: tuple[str, ...], path: str, deadline: float
    ) -> RdapResult:
        """Ask each listed server in turn until one answers (any HTTP status)."""
        failure: _Failure | None = None
        for base in bases:
            try:
                answer = self._get(urljoin(base, path), deadline)
            except _Failure as exc:
                failure = exc
                if exc.outcome in (Outcome.TIMEOUT, Outcome.CONNECTION_ERROR):
                    continue
                break
            return self._result(query, kind, answer)
        assert failure is not None  # bases is never empty here
        return RdapResult(query, kind, failure.outcome, failure.reason, failure.url, failure.status)

    def _result(self, query: str, kind: Kind, answer: _Answer) -> RdapResult:
        raw, truncated = self._raw(answer.body)
        base = RdapResult(
            query,
            kind,
            Outcome.FOUND,
            url=answer.url,
            status=answer.status,
            raw=raw,
            raw_truncated=truncated,
        )
        status = answer.status
        if status == 404:
            detail = _error_detail(answer.body)
            what = "address" if kind == "ip" else "name"
            reason = f"no RDAP record for this {what} at {_host(answer.url)} (404{detail})"
            return replace(base, outcome=Outcome.NOT_FOUND, reason=reason)
        if status == 429:
            wait = answer.headers.get("retry-after", "").strip()
            after = f"; retry after {wait[:40]}" if wait else ""
            reason = f"{_host(answer.url)} is rate limiting us (429{after})"
            return replace(base, outcome=Outcome.RATE_LIMITED, reason=reason)
        if status >= 500:
            reason = f"{_host(answer.url)} failed (HTTP {status}{_error_detail(answer.body)})"
            return replace(base, outcome=Outcome.SERVER_ERROR, reason=reason)
        if not 200 <= status < 300:
            reason = f"{_host(answer.url)} answered HTTP {status}{_error_detail(answer.body)}"
            return replace(base, outcome=Outcome.HTTP_ERROR, reason=reason)
        try:
            data = _json_object(answer.body)
        except ValueError as exc:
            return replace(base, outcome=Outcome.MALFORMED, reason=f"{_host(answer.url)}: {exc}")
        expected = "ip network" if kind == "ip" else "domain"
        found_class = data.get("objectClassName")
        if isinstance(found_class, str) and found_class.lower() != expected:
            reason = f"{_host(answer.url)} answered with a {found_class[:40]!r} object"
            return replace(base, outcome=Outcome.MALFORMED, reason=f"{reason}, not {expected}")
        if kind == "ip":
            abuse = tuple(_contact(e) for e, _ in _entities(data) if "abuse" in _roles(e))
            return replace(
                base, abuse=_distinct(abuse), abuse_scope="network", network=_network(data)
            )
        return _domain_result(base, data)

    def _raw(self, body: bytes) -> tuple[str, bool]:
        return body[: self.raw_limit].decode("utf-8", "replace"), len(body) > self.raw_limit

    def _bootstrap_json(self, url: str, deadline: float) -> object:
        try:
            answer = self._get(url, deadline)
        except _Failure as exc:
            raise BootstrapError(f"bootstrap registry {url}: {exc.reason}") from None
        if answer.status != 200:
            raise BootstrapError(f"bootstrap registry {url}: HTTP {answer.status}")
        try:
            return _json_object(answer.body)
        except ValueError as exc:
            raise BootstrapError(f"bootstrap registry {url}: {exc}") from None

    def _get(self, url: str, deadline: float) -> _Answer:
        """GET `url`, following up to max_redirects redirects; raises _Failure."""
        seen: set[str] = set()
        current = url
        for _ in range(self.max_redirects + 1):
            if urlsplit(current).scheme.lower() not in ("http", "https"):
                raise _Failure(
                    Outcome.REDIRECT_ERROR,
                    f"redirected to {current[:200]}: only http and https are followed",
                    current,
                )
            if current in seen:
                raise _Failure(Outcome.REDIRECT_ERROR, f"redirect loop at {current}", current)
            seen.add(current)
            location = self._request(current, deadline)
            if isinstance(location, _Answer):
                return location
            current = urljoin(current, location)
        raise _Failure(
            Outcome.REDIRECT_ERROR, f"more than {self.max_redirects} redirects from {url}", current
        )

    def _request(self, url: str, deadline: float) -> _Answer | str:
        """One request: the answer, or the Location of a redirect."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Failure(Outcome.TIMEOUT, f"no answer within {self.timeout:g} s", url)
        try:
            request = self._http.build_request("GET", url, timeout=httpx.Timeout(remaining))
        except (httpx.InvalidURL, ValueError):
            raise _Failure(Outcome.REDIRECT_ERROR, f"{url[:200]} is not a valid URL", url) from None
        try:
            response = self._http.send(request, stream=True)
        except httpx.TimeoutException:
            reason = f"no answer from {_host(url)} within {self.timeout:g} s"
            raise _Failure(Outcome.TIMEOUT, reason, url) from None
        except httpx.HTTPError as exc:
            refused = refusal_in(exc)
            if refused is not None:
                raise _Failure(Outcome.REFUSED, f"refused: {refused}", url) from None
            reason = f"could not reach {_host(url)}: {exc or type(exc).__name__}"
            raise _Failure(Outcome.CONNECTION_ERROR, reason, url) from None
        try:
            status = response.status_code
            if status in _REDIRECT_STATUSES:
                location = response.headers.get("location", "").strip()
                if not location:
                    reason = f"{_host(url)} answered {status} without a Location"
                    raise _Failure(Outcome.HTTP_ERROR, reason, url, status)
                return location
            return _Answer(url, status, response.headers, self._read(response, url, deadline))
        finally:
            response.close()

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        """The decoded body, at most max_bytes of it, before the deadline."""
        status = response.status_code
        too_large = f"the answer from {_host(url)} is larger than {self.max_bytes} bytes"
        length = response.headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > self.max_bytes:
            raise _Failure(Outcome.TOO_LARGE, too_large, url, status)
        if response.is_stream_consumed:
            # Read before us (httpx.MockTransport with content=...): httpx has decoded it.
            if len(response.content) > self.max_bytes:
                raise _Failure(Outcome.TOO_LARGE, too_large, url, status)
            return response.content
        decoder = _Decoder(response.headers.get("content-encoding", ""), url, status)
        chunks: list[bytes] = []
        size = 0
        try:
            for piece in response.iter_raw():
                if time.monotonic() > deadline:
                    reason = f"the answer from {_host(url)} took longer than {self.timeout:g} s"
                    raise _Failure(Outcome.TIMEOUT, reason, url, status)
                out = decoder.feed(piece, self.max_bytes - size + 1)
                size += len(out)
                if size > self.max_bytes:
                    raise _Failure(Outcome.TOO_LARGE, too_large, url, status)
                chunks.append(out)
        except httpx.TimeoutException:
            reason = f"the answer from {_host(url)} stopped coming (timeout)"
            raise _Failure(Outcome.TIMEOUT, reason, url, status) from None
        except httpx.HTTPError as exc:
            reason = f"the answer from {_host(url)} was cut off: {exc or type(exc).__name__}"
            raise _Failure(Outcome.CONNECTION_ERROR, reason, url, status) from None
        return b"".join(chunks)


class _Decoder:
    """Undoes gzip or deflate in bounded steps, so a small bomb cannot fill memory."""

    def __init__(self, encoding: str, url: str, status: int) -> None:
        encoding = encoding.strip().lower()
        self.url, self.status = url, status
        self.inflate: Any = None
        if encoding in ("gzip", "x-gzip"):
            self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.inflate = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            reason = f"{_host(url)} sent an answer in an encoding we do not read ({encoding[:40]})"
            raise _Failure(Outcome.MALFORMED, reason, url, status)

    def feed(self, data: bytes, limit: int) -> bytes:
        """At most `limit` bytes decoded from `data` (exactly `limit` when cut short)."""
        if self.inflate is None:
            return data[:limit]
        try:
            return bytes(self.inflate.decompress(data, limit))
        except zlib.error:
            reason = f"the answer from {_host(self.url)} could not be decompressed"
            raise _Failure(Outcome.MALFORMED, reason, self.url, self.status) from None


# --- Reading RDAP objects --------------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the answer is JSON but not an object")
    return data


def _error_detail(body: bytes) -> str:
    """ "; title: description" from an RDAP error object (RFC 9083 section 6), if any."""
    try:
        data = _json_object(body)
    except ValueError:
        return ""
    parts = [data.get("title")]
    description = data.get("description")
    if isinstance(description, list):
        parts.extend(description)
    text = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    return f": {text[:200]}" if text else ""


def _entities(obj: dict[str, Any]) -> Iterator[tuple[dict[str, Any], int]]:
    """Every entity under `obj`, nearest first (breadth first), with its depth."""
    queue: deque[tuple[dict[str, Any], int]] = deque([(obj, 0)])
    count = 0
    while queue:
        parent, depth = queue.popleft()
        children = parent.get("entities")
        if not isinstance(children, list):
            continue
        for child in children:
            if not isinstance(child, dict):
                continue
            count += 1
            if count > _MAX_ENTITIES:
                return
            yield child, depth + 1
            queue.append((child, depth + 1))


def _roles(entity: dict[str, Any]) -> tuple[str, ...]:
    roles = entity.get("roles")
    if not isinstance(roles, list):
        return ()
    return tuple(role.strip().lower() for role in roles if isinstance(role, str))


def _contact(entity: dict[str, Any]) -> Contact:
    properties: dict[str, list[str]] = {}
    vcard = entity.get("vcardArray")
    if isinstance(vcard, list) and len(vcard) >= 2 and isinstance(vcard[1], list):
        for item in vcard[1]:
            # ["email", {"type": "work"}, "text", "abuse@example.net"]
            if not (isinstance(item, list) and len(item) >= 4 and isinstance(item[0], str)):
                continue
            value = _jcard_text(item[3:])
            if value:
                properties.setdefault(item[0].lower(), []).append(value)
    public_ids = tuple(
        (str(entry["type"]), str(entry["identifier"]))
        for entry in entity.get("publicIds") or []
        if isinstance(entry, dict) and "type" in entry and "identifier" in entry
    )
    return Contact(
        handle=_str(entity.get("handle")),
        roles=_roles(entity),
        name=(properties.get("fn") or [""])[0],
        organisation=(properties.get("org") or [""])[0],
        emails=_unique(_strip_scheme(v, "mailto:") for v in properties.get("email", [])),
        phones=_unique(_strip_scheme(v, "tel:") for v in properties.get("tel", [])),
        urls=_unique(properties.get("url", [])),
        public_ids=public_ids,
    )


def _jcard_text(values: list[Any]) -> str:
    # A value is text, or a list for structured ones (org units, addresses).
    parts: list[str] = []
    for value in values:
        if isinstance(value, list):
            parts.extend(str(v).strip() for v in value if isinstance(v, str | int))
        elif isinstance(value, str | int) and not isinstance(value, bool):
            parts.append(str(value).strip())
    return "; ".join(part for part in parts if part)[:500]


def _strip_scheme(value: str, scheme: str) -> str:
    return value[len(scheme) :] if value.lower().startswith(scheme) else value


def _unique(values: Any) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return tuple(seen.values())


def _distinct(contacts: tuple[Contact, ...]) -> tuple[Contact, ...]:
    """The same contact may hang under several entities; keep its first (nearest) place."""
    kept: dict[tuple[str, tuple[str, ...]], Contact] = {}
    for contact in contacts:
        kept.setdefault((contact.handle, contact.emails), contact)
    return tuple(kept.values())


def _network(data: dict[str, Any]) -> NetworkFacts:
    start, end = _str(data.get("startAddress")), _str(data.get("endAddress"))
    cidrs: list[str] = []
    for entry in data.get("cidr0_cidrs") or []:
        if not isinstance(entry, dict):
            continue
        prefix = entry.get("v4prefix") or entry.get("v6prefix")
        try:
            cidrs.append(str(ipaddress.ip_network(f"{prefix}/{int(entry['length'])}")))
        except (KeyError, TypeError, ValueError):
            continue
    if not cidrs and start and end:
        try:
            first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
            ranges = ipaddress.summarize_address_range(first, last)
            cidrs = [str(network) for network in itertools.islice(ranges, 16)]
        except (TypeError, ValueError):
            cidrs = []
    return NetworkFacts(
        handle=_str(data.get("handle")),
        name=_str(data.get("name")),
        country=_str(data.get("country")).upper(),
        start_address=start,
        end_address=end,
        cidrs=tuple(cidrs),
        ip_version=_str(data.get("ipVersion")),
        type=_str(data.get("type")),
        parent_handle=_str(data.get("parentHandle")),
    )


def _domain_result(base: RdapResult, data: dict[str, Any]) -> RdapResult:
    registrar_entity = next((e for e, _ in _entities(data) if "registrar" in _roles(e)), None)
    registrar = _contact(registrar_entity) if registrar_entity is not None else None
    abuse: tuple[Contact, ...] = ()
    scope = ""
    if registrar_entity is not None:
        abuse = tuple(_contact(e) for e, _ in _entities(registrar_entity) if "abuse" in _roles(e))
        scope = "registrar" if abuse else ""
    if not abuse:
        abuse = tuple(_contact(e) for e, _ in _entities(data) if "abuse" in _roles(e))
        scope = "domain" if abuse else ""
    return replace(
        base,
        abuse=_distinct(abuse),
        abuse_scope=scope,
        registrar=registrar,
        domain=_str(data.get("ldhName")).lower().rstrip("."),
    )


def _str(value: object) -> str:
    return value.strip()[:500] if isinstance(value, str) else ""


# --- Small helpers -----------------------------------------------------------------------


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url[:100]
    except ValueError:
        return url[:100]


def _parse_address(text: str) -> IPAddress | None:
    text = text.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped  # registered as the IPv4 address it carries
    return parsed


def _domain_name(name: str) -> str | None:
    """`name` in lower-case A-labels (IDNA), or None when it cannot be a domain name."""
    name = name.strip().rstrip(".").lower()
    if not name or len(name) > 253 or _parse_address(name) is not None:
        return None
    labels: list[str] = []
    for label in name.split("."):
        try:
            ascii_label = label if label.isascii() else label.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        if (
            not 0 < len(ascii_label) <= 63
            or ascii_label.startswith("-")
            or ascii_label.endswith("-")
        ):
            return None
        if not all(c.isalnum() or c in "-_" for c in ascii_label) or not ascii_label.isascii():
            return None
        labels.append(ascii_label)
    return ".".join(labels)


# --- Module-level entry points ---------------------------------------------------------


def abuse_contacts_for_ip(address: str, *, client: RdapClient | None = None) -> RdapResult:
    """RdapClient().abuse_contacts_for_ip(address), with settings' bootstrap and timeout."""
    if client is not None:
        return client.abuse_contacts_for_ip(address)
    with RdapClient() as own:
        return own.abuse_contacts_for_ip(address)


def abuse_contacts_for_domain(name: str, *, client: RdapClient | None = None) -> RdapResult:
    """RdapClient().abuse_contacts_for_domain(name), with settings' bootstrap and timeout."""
    if client is not None:
        return client.abuse_contacts_for_domain(name)
    with RdapClient() as own:
        return own.abuse_contacts_for_domain(name)
