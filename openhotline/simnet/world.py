"""The simulated internet's contents: hosts, their addresses, pages and images.

Everything is plain frozen data so tests can build their own worlds; ``default_world()`` is the
shared one. Later features (RDAP, SMTP, GeoIP, host behaviours) extend ``SimHost``/``World`` with
new defaulted fields, so existing constructors keep working.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

ZONE = "test"
DEFAULT_NETWORK = "127.77.0.0/16"
DEFAULT_DNS_ADDRESS = "127.77.0.53"
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
        return tuple(dict.fromkeys(host.address for host in self.hosts))

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
    _check_address(world.dns_address, network)
    names = [host.name for host in world.hosts]
    if len(set(names)) != len(names):
        raise WorldError("duplicate host names")
    by_name = {host.name: host for host in world.hosts}
    for host in world.hosts:
        _check_name(world, host.name)
        _check_address(host.address, network)
        if host.address == world.dns_address:
            raise WorldError(f"{host.name} uses the DNS server's address")
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


def default_world() -> World:
    """The shared world: six sites in five countries, one (XK) without a hotline."""
    hosts = (
        SimHost(
            name="gallery-one.test",
            address="127.77.1.10",
            country="GB",
            description="Photo gallery: plain <img>, srcset and a CSS background image",
            pages=pages(
                SimPage(
                    "/albums/sunrise",
                    "Sunrise album",
                    images=("sunrise-1.jpg", "sunrise-2.png"),
                    srcset=("sunrise-3-small.jpg", "sunrise-3-large.jpg"),
                ),
                SimPage(
                    "/albums/shapes",
                    "Shapes album",
                    images=("shapes-1.png",),
                    background="shapes-bg.jpg",
                ),
            ),
            image_sizes={"sunrise-3-small.jpg": (160, 120), "sunrise-3-large.jpg": (640, 480)},
        ),
        SimHost(
            name="imagehost.test",
            address="127.77.1.11",
            country="GB",
            description="Image host: one image per page plus unlinked direct image URLs",
            pages=pages(
                SimPage("/i/x7k2", "Image x7k2", images=("x7k2.jpg",)),
                SimPage("/i/p9q4", "Image p9q4", images=("p9q4.png",)),
            ),
            extra_images=("direct-1.jpg", "direct-2.png"),
        ),
        SimHost(
            name="static.imagehost.test",
            address="127.77.1.11",
            country="GB",
            description="Second site on imagehost's address (name-based virtual hosting)",
            pages=pages(SimPage("/cdn", "Static files", images=("logo.png",))),
        ),
        SimHost(
            name="forum-nl.test",
            address="127.77.2.10",
            country="NL",
            description="Forum whose posts hotlink images from imagehost.test",
            pages=pages(
                SimPage(
                    "/thread/101",
                    "Thread 101",
                    images=("avatar.png",),
                    remote_images=("imagehost.test/x7k2.jpg", "imagehost.test/direct-1.jpg"),
                ),
            ),
        ),
        SimHost(
            name="pics-us.test",
            address="127.77.3.10",
            country="US",
            description="Picture site in the US",
            pages=pages(
                SimPage("/p/1", "Picture 1", images=("p1.jpg",)),
                SimPage("/p/2", "Picture 2", images=("p2.png", "p2-extra.jpg")),
            ),
        ),
        SimHost(
            name="mirror-ru.test",
            address="127.77.4.10",
            country="RU",
            description="Mirror of gallery-one.test: byte-identical images, different host",
            pages=pages(
                SimPage("/mirror/sunrise", "Sunrise (mirror)", images=("sunrise-1.jpg",)),
            ),
            mirror_of="gallery-one.test",
        ),
        SimHost(
            name="quiet-host.test",
            address="127.77.5.10",
            country="XK",
            description="Host in a country without a hotline",
            pages=pages(SimPage("/files/1", "File 1", images=("q1.jpg", "q2.png"))),
        ),
        # Hosts with behaviours (openhotline.simnet.behaviours): the capture's hard cases.
        SimHost(
            name="redirects.test",
            address="127.77.6.10",
            country="NL",
            description="Redirect chains, loops and redirects to forbidden addresses",
            behaviour="redirects",
        ),
        SimHost(
            name="disguised.test",
            address="127.77.7.10",
            country="US",
            description="Shows other pictures unless the visitor comes from forum-nl.test",
            behaviour="disguised",
            extra_images=("decoy-1.jpg", "decoy-2.jpg", "hidden-1.jpg", "hidden-2.png"),
        ),
        SimHost(
            name="hostile.test",
            address="127.77.8.10",
            country="RU",
            description="Huge and slow responses, corrupt images and pixel bombs",
            behaviour="hostile",
            extra_images=("fine.jpg",),
        ),
        SimHost(
            name="rebind.test",
            address="127.77.9.10",
            country="GB",
            description="Its DNS answer changes to a forbidden address between lookups",
            pages=pages(SimPage("/page", "Rebinding", images=("r1.png",))),
            rebind_to="127.0.0.1",
        ),
    )
    return World(
        hosts=hosts,
        aliases={
            "www.gallery-one.test": "gallery-one.test",
            "www.imagehost.test": "imagehost.test",
            # Two hops: forum media -> www.imagehost.test -> imagehost.test.
            "media.forum-nl.test": "www.imagehost.test",
        },
    )
