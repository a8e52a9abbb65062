"""The simulated internet's contents: hosts, their addresses, pages and images, and who runs them.

Everything is plain frozen data so tests can build their own worlds; ``default_world()`` is the
shared one. Hosting facts (providers with networks, ASNs and abuse desks; registrars; what each
host does when its abuse desk gets a notice) are defaulted fields, so worlds written before them
keep working: a world without providers simply has no RDAP, GeoIP or notice data.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

ZONE = "test"
DEFAULT_NETWORK = "127.77.0.0/16"
DEFAULT_DNS_ADDRESS = "127.77.0.53"
DEFAULT_RDAP_ADDRESS = "127.77.0.43"  # 43: the whois port, RDAP's predecessor
DEFAULT_SMTP_ADDRESS = "127.77.0.25"
DEFAULT_IMAGE_SIZE = (320, 240)

_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_IMAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(png|jpg)$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_MAX_ALIAS_DEPTH = 8


class WorldError(ValueError):
    """The world description is inconsistent (or would leave loopback)."""


def normalize_name(name: str) -> str:
    """DNS names compare case-insensitively and may carry a trailing root dot."""
    return name.strip().rstrip(".").lower()


NoticeAction = Literal["removes", "ignores", "moves"]


@dataclass(frozen=True)
class OnNotice:
    """What an abuse desk does with a notice (carried out by ``simnet.notices``).

    ``removes``: the reported pages (with their images) answer 404 ``after`` seconds later.
    ``ignores``: nothing happens. ``moves``: ``after`` seconds later the host's name points at
    ``to`` (an address in another provider's network), which serves the same content.
    """

    action: NoticeAction
    after: float = 0.0
    to: str | None = None


def removes_after(seconds: float) -> OnNotice:
    return OnNotice("removes", after=seconds)


def moves(to: str, after: float = 0.0) -> OnNotice:
    return OnNotice("moves", after=after, to=to)


IGNORES = OnNotice("ignores")


@dataclass(frozen=True)
class Provider:
    """A hosting provider (or CDN) and the network it announces: RDAP, GeoIP and abuse data.

    ``handle`` is a short lowercase id (also used in RDAP handles and the CDN's Via header).
    ``nested_abuse``: its RDAP answer nests the abuse contact inside the registrant entity
    (as ARIN does) instead of listing it at the top level (as RIPE does).
    """

    handle: str
    name: str
    network: str
    country: str
    asn: int
    as_name: str
    abuse_email: str
    kind: Literal["hosting", "cdn"] = "hosting"
    # The desk's policy for its customers' content (a host's own ``on_notice`` comes first).
    on_notice: OnNotice = field(default_factory=lambda: removes_after(1.0))
    nested_abuse: bool = False

    def __contains__(self, address: object) -> bool:
        """``"127.77.1.10" in provider``: is the address in its network?"""
        if not isinstance(address, str):
            return False
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(self.network)


@dataclass(frozen=True)
class Registrar:
    """A domain registrar; RDAP domain answers name it and its abuse contact."""

    handle: str
    name: str
    iana_id: int
    abuse_email: str
    abuse_phone: str = "+1.5555550100"


@dataclass(frozen=True)
class HostingFacts:
    """What tracing a host should find, before any notice has moved it.

    ``address`` is what its name resolves to (a CDN edge for a host behind a CDN) and the
    network fields describe that address; ``origin_*`` describe where the content really is.
    """

    host: str
    domain: str
    address: str
    country: str
    network: str
    asn: int
    as_name: str
    provider: str
    abuse_email: str
    registrar: str
    registrar_abuse_email: str
    origin_address: str
    origin_country: str
    origin_provider: str
    origin_abuse_email: str


@dataclass(frozen=True)
class SimPage:
    """One HTML page. Image names are local to the host and served under ``/img/``."""

    path: str
    title: str
    images: tuple[str, ...] = ()
    # Rendered as a single <img> whose srcset lists these (first one is also the src).
    srcset: tuple[str, ...] = ()
    # Rendered as a CSS background-image, which crawlers must find outside <img>.
    background: str | None = None
    # "other-host.test/name.jpg": hotlinked from another world host, as forums do.
    remote_images: tuple[str, ...] = ()

    def local_images(self) -> tuple[str, ...]:
        names = [*self.images, *self.srcset]
        if self.background is not None:
            names.append(self.background)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class SimHost:
    name: str
    address: str
    country: str
    description: str
    pages: dict[str, SimPage] = field(default_factory=dict)
    # Served under /img/ but not linked from any page (direct image links in reports).
    extra_images: tuple[str, ...] = ()
    image_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    # A mirror serves byte-identical images to the host it mirrors (same seeds).
    mirror_of: str | None = None
    # A named behaviour of openhotline.simnet.behaviours (redirects, disguised, hostile).
    behaviour: str = ""
    # DNS rebinding: every other answer for this name is this (loopback) address instead.
    rebind_to: str | None = None
    # Handle of the registrar of the host's registered domain (may be left empty on hosts
    # that share a domain with one that names it).
    registrar: str = ""
    # What the host does with a notice while it is at its own provider; None: the provider's.
    on_notice: OnNotice | None = None
    # Behind a CDN: the name resolves to this CDN edge address, which serves the content too.
    cdn: str | None = None

    @property
    def images(self) -> tuple[str, ...]:
        names: list[str] = []
        for page in self.pages.values():
            names.extend(page.local_images())
        names.extend(self.extra_images)
        return tuple(dict.fromkeys(names))

    def image_size(self, name: str) -> tuple[int, int]:
        return self.image_sizes.get(name, DEFAULT_IMAGE_SIZE)

    def image_seed(self, name: str) -> str:
        return f"{self.mirror_of or self.name}/{name}"


def pages(*items: SimPage) -> dict[str, SimPage]:
    """Build a host's ``pages`` mapping keyed by path."""
    return {page.path: page for page in items}


@dataclass(frozen=True)
class World:
    hosts: tuple[SimHost, ...]
    # CNAME records: alias name -> target name (a host or another alias).
    aliases: dict[str, str] = field(default_factory=dict)
    network: str = DEFAULT_NETWORK
    dns_address: str = DEFAULT_DNS_ADDRESS
    zone: str = ZONE
    providers: tuple[Provider, ...] = ()
    registrars: tuple[Registrar, ...] = ()
    rdap_address: str = DEFAULT_RDAP_ADDRESS
    smtp_address: str = DEFAULT_SMTP_ADDRESS

    def __post_init__(self) -> None:
        _validate(self)

    def in_zone(self, name: str) -> bool:
        name = normalize_name(name)
        return name == self.zone or name.endswith("." + self.zone)

    def cname_chain(self, name: str) -> list[tuple[str, str]]:
        """The (alias, target) hops starting at ``name``; empty if it is not an alias."""
        hops: list[tuple[str, str]] = []
        current = normalize_name(name)
        while current in self.aliases:
            if len(hops) >= _MAX_ALIAS_DEPTH:
                raise WorldError(f"alias chain too long at {name!r}")
            target = self.aliases[current]
            hops.append((current, target))
            current = target
        return hops

    def host_by_name(self, name: str) -> SimHost | None:
        """The host a name (canonical or alias) leads to, or None."""
        name = normalize_name(name)
        chain = self.cname_chain(name)
        if chain:
            name = chain[-1][1]
        for host in self.hosts:
            if host.name == name:
                return host
        return None

    def addresses(self) -> tuple[str, ...]:
        """Every address a web site may be served on: hosts, CDN edges and move targets."""
        return tuple(dict.fromkeys(a for host in self.hosts for a in _served_at(host)))

    def provider_at(self, address: str) -> Provider | None:
        """The provider whose network holds ``address``, or None."""
        for provider in self.providers:
            if address in provider:
                return provider
        return None

    def providers_for_abuse(self, email: str) -> tuple[Provider, ...]:
        email = email.strip().lower()
        return tuple(p for p in self.providers if p.abuse_email.lower() == email)

    def registrar_by_handle(self, handle: str) -> Registrar | None:
        return next((r for r in self.registrars if r.handle == handle), None)

    def registered_domain(self, name: str) -> str:
        """The domain a registrar registered for ``name``: one label under the zone."""
        name = normalize_name(name)
        label = name.removesuffix("." + self.zone).rsplit(".", 1)[-1]
        return f"{label}.{self.zone}"

    def domains(self) -> dict[str, Registrar]:
        """Registered domains that have a registrar, by name."""
        found: dict[str, Registrar] = {}
        for host in self.hosts:
            registrar = self.registrar_by_handle(host.registrar)
            if registrar is not None:
                found[self.registered_domain(host.name)] = registrar
        return found

    def facts(self, name: str) -> HostingFacts:
        """What tracing ``name`` (a host or alias) should find; KeyError if it cannot."""
        host = self.host_by_name(name)
        if host is None:
            raise KeyError(f"no host {name!r} in the simulated world")
        address = host.cdn or host.address
        edge, origin = self.provider_at(address), self.provider_at(host.address)
        domain = self.registered_domain(host.name)
        registrar = self.domains().get(domain)
        if edge is None or origin is None or registrar is None:
            raise KeyError(f"{name!r} has no provider or registrar in this world")
        return HostingFacts(
            host=host.name, domain=domain, address=address, country=edge.country,
            network=edge.network, asn=edge.asn, as_name=edge.as_name, provider=edge.name,
            abuse_email=edge.abuse_email, registrar=registrar.name,
            registrar_abuse_email=registrar.abuse_email, origin_address=host.address,
            origin_country=origin.country, origin_provider=origin.name,
            origin_abuse_email=origin.abuse_email,
        )  # fmt: skip

    def hosts_at(self, address: str) -> tuple[SimHost, ...]:
        return tuple(host for host in self.hosts if host.address == address)

    def with_hosts(self, *hosts: SimHost, aliases: dict[str, str] | None = None) -> World:
        """A copy with extra hosts (and aliases); handy for tests needing one more site."""
        return dataclasses.replace(
            self, hosts=(*self.hosts, *hosts), aliases={**self.aliases, **(aliases or {})}
        )


def _check_address(address: str, network: ipaddress.IPv4Network) -> None:
    ip = ipaddress.IPv4Address(address)
    # Hard safety rule: the simulated internet lives on loopback only.
    if ip not in _LOOPBACK or ip not in network:
        raise WorldError(f"{address} is not inside {network} on loopback")


def _check_name(world: World, name: str) -> None:
    if name != normalize_name(name) or not world.in_zone(name) or name == world.zone:
        raise WorldError(f"{name!r} must be a lowercase name under .{world.zone}")
    if not all(_LABEL.match(label) for label in name.split(".")):
        raise WorldError(f"{name!r} is not a valid host name")


def _check_images(where: str, names: Iterable[str]) -> None:
    for image in names:
        if not _IMAGE_NAME.match(image):
            raise WorldError(f"{where}: bad image name {image!r} (want name.png or name.jpg)")


def _validate(world: World) -> None:
    network = ipaddress.IPv4Network(world.network)
    if not network.subnet_of(_LOOPBACK):
        raise WorldError(f"{world.network} is not inside 127.0.0.0/8")
    services = (world.dns_address, world.rdap_address, world.smtp_address)
    for address in services:
        _check_address(address, network)
    if len(set(services)) != len(services):
        raise WorldError("DNS, RDAP and SMTP need an address each")
    _validate_providers(world, network)
    names = [host.name for host in world.hosts]
    if len(set(names)) != len(names):
        raise WorldError("duplicate host names")
    by_name = {host.name: host for host in world.hosts}
    for host in world.hosts:
        _check_name(world, host.name)
        for address in _served_at(host):
            _check_address(address, network)
            if address in services:
                raise WorldError(f"{host.name} uses a DNS, RDAP or SMTP server's address")
        _validate_hosting(world, host)
        _check_images(host.name, host.images)
        if host.rebind_to is not None and ipaddress.IPv4Address(host.rebind_to) not in _LOOPBACK:
            raise WorldError(f"{host.name} rebinds outside loopback")
        if host.mirror_of is not None and host.mirror_of not in by_name:
            raise WorldError(f"{host.name} mirrors unknown host {host.mirror_of!r}")
        for path, page in host.pages.items():
            if path != page.path or not path.startswith("/") or path == "/":
                raise WorldError(f"{host.name}: page key {path!r} must equal its path, not '/'")
            for ref in page.remote_images:
                other_name, _, image = ref.partition("/")
                other = by_name.get(other_name)
                if other is None or image not in other.images:
                    raise WorldError(f"{host.name}{path}: remote image {ref!r} does not exist")
    for alias, target in world.aliases.items():
        _check_name(world, alias)
        if alias in by_name:
            raise WorldError(f"{alias} is both a host and an alias")
        if world.host_by_name(target) is None:
            raise WorldError(f"alias {alias} -> {target} leads to no host")
    registrars: dict[str, str] = {}
    for host in world.hosts:
        if host.registrar:
            domain = world.registered_domain(host.name)
            if registrars.setdefault(domain, host.registrar) != host.registrar:
                raise WorldError(f"{domain} has two registrars")


def _served_at(host: SimHost) -> list[str]:
    found = [host.address]
    if host.cdn is not None:
        found.append(host.cdn)
    if host.on_notice is not None and host.on_notice.to is not None:
        found.append(host.on_notice.to)
    return found


def _validate_providers(world: World, network: ipaddress.IPv4Network) -> None:
    seen: list[ipaddress.IPv4Network] = []
    for provider in world.providers:
        net = ipaddress.IPv4Network(provider.network)
        if not net.subnet_of(network) or any(net.overlaps(other) for other in seen):
            raise WorldError(f"{provider.handle}: {net} overlaps another or leaves {network}")
        if any(ipaddress.IPv4Address(a) in net for a in (world.dns_address, world.rdap_address,
                                                          world.smtp_address)):  # fmt: skip
            raise WorldError(f"{provider.handle}: {net} holds a simnet service address")
        seen.append(net)
        _check_notice(world, provider.handle, provider.on_notice, provider)
    handles = [r.handle for r in world.registrars] + [p.handle for p in world.providers]
    if len(set(handles)) != len(handles):
        raise WorldError("duplicate provider or registrar handles")


def _check_notice(world: World, where: str, notice: OnNotice, home: Provider | None) -> None:
    if notice.after < 0:
        raise WorldError(f"{where}: negative notice delay")
    if (notice.action == "moves") != (notice.to is not None):
        raise WorldError(f"{where}: 'moves' needs a target address, and only it")
    if notice.to is not None:
        target = world.provider_at(notice.to)
        if world.providers and (target is None or target == home or target.kind != "hosting"):
            raise WorldError(f"{where}: moves to {notice.to}, not another hosting provider")


def _validate_hosting(world: World, host: SimHost) -> None:
    if host.registrar and world.registrar_by_handle(host.registrar) is None:
        raise WorldError(f"{host.name}: unknown registrar {host.registrar!r}")
    home = world.provider_at(host.address)
    if host.on_notice is not None:
        _check_notice(world, host.name, host.on_notice, home)
    if host.cdn is not None:
        edge = world.provider_at(host.cdn)
        if world.providers and (edge is None or edge.kind != "cdn"):
            raise WorldError(f"{host.name}: {host.cdn} is not in a CDN's network")
    if home is not None and home.kind == "cdn":
        raise WorldError(f"{host.name}: origin {host.address} is inside a CDN's network")
