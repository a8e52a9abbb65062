"""Which RDAP server to ask: IANA's bootstrap registries (RFC 9224), fetched and kept.

`ipv4.json`, `ipv6.json` and `dns.json` under RDAP_BOOTSTRAP (IANA's
https://data.iana.org/rdap/ by default; the demo and tests point it at the simulated
internet) map networks and domain suffixes to RDAP base URLs. A `Bootstrap` keeps each
registry for RDAP_BOOTSTRAP_TTL seconds once fetched (a failed fetch is not kept), and
`shared_bootstrap` gives every client in the process the same one. Fetching is the
caller's: the RDAP client passes its own checked, bounded GET (`rdap.RdapClient`).
"""

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings

DEFAULT_BOOTSTRAP = "https://data.iana.org/rdap/"
DEFAULT_BOOTSTRAP_TTL = 86_400.0  # IANA changes these files a few times a year

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BootstrapError(Exception):
    """A bootstrap registry could not be fetched or read; the message says why."""


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
