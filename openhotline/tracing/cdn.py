"""Known CDNs and reverse proxies: an address in their networks is an edge, not the origin.

When reported content is served through a CDN, the DNS and RDAP answers name the CDN, which
usually does not host the files. The trace records the CDN as such, and the notice goes to
the CDN's abuse desk, asking it to act or to reveal the origin host.

The networks are data (cdn_networks.json beside this module, or the file CDN_NETWORKS_FILE
names): each provider's name, kind, abuse contact and networks, with the place where the
operator publishes its full list. A bad file is a deployment mistake and raises
CdnDataError saying what is wrong, rather than silently matching nothing.
"""

import ipaddress
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULT_FILE = Path(__file__).resolve().parent / "cdn_networks.json"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class CdnDataError(Exception):
    """The CDN networks file cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class CdnProvider:
    name: str
    kind: str  # "cdn" or "reverse_proxy"
    abuse_email: str
    abuse_url: str
    notes: str
    source: str  # where the operator publishes its full list of networks
    networks: tuple[IPNetwork, ...]


@dataclass(frozen=True)
class CdnInfo:
    """A match: the provider, and the listed network the address fell in."""

    provider: str
    kind: str
    network: str
    abuse_email: str
    abuse_url: str
    notes: str
    source: str


def cdn_for(address: str) -> CdnInfo | None:
    """The known CDN or reverse proxy whose network holds `address`, or None.

    The most specific listed network wins. Raises ValueError for a non-address and
    CdnDataError for an unusable data file.
    """
    text = address.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{address!r} is not an IP address") from None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    matches = [
        (network, provider)
        for provider in providers()
        for network in provider.networks
        if network.version == parsed.version and parsed in network
    ]
    if not matches:
        return None
    network, provider = max(matches, key=lambda match: match[0].prefixlen)
    return CdnInfo(
        provider=provider.name,
        kind=provider.kind,
        network=str(network),
        abuse_email=provider.abuse_email,
        abuse_url=provider.abuse_url,
        notes=provider.notes,
        source=provider.source,
    )


def providers() -> tuple[CdnProvider, ...]:
    """The providers in the configured file, read again whenever the file changes."""
    configured = str(getattr(settings, "CDN_NETWORKS_FILE", "") or "")
    return _load(Path(configured) if configured else DEFAULT_FILE)


_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int, int], tuple[CdnProvider, ...]]] = {}


def _load(path: Path) -> tuple[CdnProvider, ...]:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise CdnDataError(f"CDN networks file {path}: {exc.strerror}") from None
    stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CdnDataError(f"CDN networks file {path}: cannot be read ({exc})") from None
    loaded = parse(text, source=str(path))
    with _lock:
        _cache[path] = (stamp, loaded)
    return loaded


def parse(text: str, *, source: str = "CDN networks file") -> tuple[CdnProvider, ...]:
    """Providers from the JSON text of a networks file; CdnDataError on any mistake."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CdnDataError(
            f"{source}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("providers"), list):
        raise CdnDataError(f'{source}: expected an object with a "providers" list')
    return tuple(
        _provider(entry, f"{source}: provider {index + 1}")
        for index, entry in enumerate(data["providers"])
    )


def _provider(entry: Any, where: str) -> CdnProvider:
    if not isinstance(entry, dict):
        raise CdnDataError(f"{where}: expected an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CdnDataError(f'{where}: "name" must be a non-empty string')
    where = f"{where} ({name})"
    fields: dict[str, str] = {}
    for key in ("kind", "abuse_email", "abuse_url", "notes", "source"):
        value = entry.get(key, "cdn" if key == "kind" else "")
        if not isinstance(value, str):
            raise CdnDataError(f'{where}: "{key}" must be a string')
        fields[key] = value.strip()
    if not (fields["abuse_email"] or fields["abuse_url"]):
        raise CdnDataError(f'{where}: needs an "abuse_email" or an "abuse_url"')
    networks = entry.get("networks")
    if not isinstance(networks, list) or not networks:
        raise CdnDataError(f'{where}: "networks" must be a non-empty list of CIDRs')
    parsed: list[IPNetwork] = []
    for cidr in networks:
        if not isinstance(cidr, str):
            raise CdnDataError(f"{where}: {cidr!r} is not a network (write CIDRs as strings)")
        try:
            parsed.append(ipaddress.ip_network(cidr.strip()))
        except ValueError as exc:
            raise CdnDataError(f"{where}: {cidr!r} is not a network ({exc})") from None
    return CdnProvider(name=name.strip(), networks=tuple(parsed), **fields)
