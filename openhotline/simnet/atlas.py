"""The default world's map: which provider hosts each site, who registered its domain, and what
each abuse desk does with a notice.

One /24 per provider under 127.77.0.0/16 (127.77.N.0/24 is AS 64500+N), abuse desks at
``abuse@<handle>.test``. Countries: GB, NL, US and RU have hotlines; SC (and XK) have none.
Behaviours on a notice: most desks remove the reported content ``delay`` seconds later;
stubborn-us.test's provider ignores notices; hopper-nl.test moves to the Seychelles; and
shielded-ru.test sits behind a CDN whose own abuse desk removes from its edge.
"""

from __future__ import annotations

from .world import (
    IGNORES,
    OnNotice,
    Provider,
    Registrar,
    SimHost,
    SimPage,
    World,
    moves,
    pages,
    removes_after,
)

HOPPER_TARGET = "127.77.12.20"
# The CDN's network is the one listed as "SimCDN" in openhotline/tracing/cdn_networks.json.
CDN_EDGE = "127.77.250.10"

REGISTRARS = (
    Registrar("names-uk", "Names UK Ltd", 99001, "abuse@names-uk.test", "+44.2079460100"),
    Registrar("budget-domains", "Budget Domains Inc.", 99002, "abuse@budget-domains.test"),
    Registrar(
        "tulp-domeinen", "Tulp Domeinen B.V.", 99003, "abuse@tulp-domeinen.test", "+31.205550100"
    ),
    Registrar(
        "offshore-names", "Offshore Names Ltd", 99004, "abuse@offshore-names.test", "+248.4550100"
    ),
)


def _provider(
    octet: int,
    handle: str,
    name: str,
    country: str,
    as_name: str,
    on_notice: OnNotice,
    kind: str = "hosting",
    nested_abuse: bool = False,
) -> Provider:
    return Provider(
        handle=handle,
        name=name,
        network=f"127.77.{octet}.0/24",
        country=country,
        asn=64500 + octet,
        as_name=as_name,
        abuse_email=f"abuse@{handle}.test",
        kind="cdn" if kind == "cdn" else "hosting",
        on_notice=on_notice,
        nested_abuse=nested_abuse,
    )


def providers(delay: float) -> tuple[Provider, ...]:
    removes = removes_after(delay)
    return (
        _provider(1, "uk-hosting", "UK Hosting Ltd", "GB", "UKHOSTING-AS", removes),
        _provider(2, "polder-hosting", "Polder Hosting B.V.", "NL", "POLDER-AS", removes),
        _provider(
            3,
            "liberty-web",
            "Liberty Web Services Inc.",
            "US",
            "LIBERTYWEB",
            removes,
            nested_abuse=True,
        ),
        _provider(4, "taiga-hosting", "Taiga Hosting LLC", "RU", "TAIGA-AS", removes),
        _provider(5, "dardania-net", "Dardania Net Sh.p.k.", "XK", "DARDANIA-AS", removes),
        _provider(6, "dijk-datacenter", "Dijk Datacenter B.V.", "NL", "DIJK-AS", removes),
        _provider(
            7,
            "prairie-cloud",
            "Prairie Cloud Inc.",
            "US",
            "PRAIRIE-CLOUD",
            removes,
            nested_abuse=True,
        ),
        _provider(8, "volga-servers", "Volga Servers JSC", "RU", "VOLGA-AS", removes),
        _provider(9, "thames-colo", "Thames Colocation Ltd", "GB", "THAMES-COLO", removes),
        _provider(
            11,
            "unbothered-hosting",
            "Unbothered Hosting Inc.",
            "US",
            "UNBOTHERED",
            IGNORES,
            nested_abuse=True,
        ),
        _provider(12, "coral-bay-hosting", "Coral Bay Hosting Ltd", "SC", "CORALBAY-AS", IGNORES),
        _provider(250, "simcdn", "SimCDN", "US", "SIMCDN", removes, kind="cdn", nested_abuse=True),
    )


def _original_hosts() -> tuple[SimHost, ...]:
    """The sites the capture tests were written against (addresses unchanged)."""
    return (
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
            registrar="names-uk",
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
            registrar="names-uk",
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
            registrar="tulp-domeinen",
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
            registrar="budget-domains",
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
            registrar="offshore-names",
        ),
        SimHost(
            name="quiet-host.test",
            address="127.77.5.10",
            country="XK",
            description="Host in a country without a hotline",
            pages=pages(SimPage("/files/1", "File 1", images=("q1.jpg", "q2.png"))),
            registrar="offshore-names",
        ),
        # Hosts with behaviours (openhotline.simnet.behaviours): the capture's hard cases.
        SimHost(
            name="redirects.test",
            address="127.77.6.10",
            country="NL",
            description="Redirect chains, loops and redirects to forbidden addresses",
            behaviour="redirects",
            registrar="tulp-domeinen",
        ),
        SimHost(
            name="disguised.test",
            address="127.77.7.10",
            country="US",
            description="Shows other pictures unless the visitor comes from forum-nl.test",
            behaviour="disguised",
            extra_images=("decoy-1.jpg", "decoy-2.jpg", "hidden-1.jpg", "hidden-2.png"),
            registrar="budget-domains",
        ),
        SimHost(
            name="hostile.test",
            address="127.77.8.10",
            country="RU",
            description="Huge and slow responses, corrupt images and pixel bombs",
            behaviour="hostile",
            extra_images=("fine.jpg",),
            registrar="offshore-names",
        ),
        SimHost(
            name="rebind.test",
            address="127.77.9.10",
            country="GB",
            description="Its DNS answer changes to a forbidden address between lookups",
            pages=pages(SimPage("/page", "Rebinding", images=("r1.png",))),
            rebind_to="127.0.0.1",
            registrar="names-uk",
        ),
    )


def _notice_hosts(delay: float) -> tuple[SimHost, ...]:
    """Sites whose point is what they do after a notice to their abuse desk."""
    return (
        SimHost(
            name="photos-gb.test",
            address="127.77.1.20",
            country="GB",
            description="Removes reported pages and their pictures shortly after a notice",
            pages=pages(
                SimPage("/gallery/beach", "Beach", images=("beach-1.jpg", "beach-2.png")),
                SimPage("/gallery/park", "Park", images=("park-1.jpg",)),
            ),
            registrar="names-uk",
            on_notice=removes_after(delay),
        ),
        SimHost(
            name="stubborn-us.test",
            address="127.77.11.10",
            country="US",
            description="Its provider ignores notices",
            pages=pages(SimPage("/pics/1", "Pics 1", images=("stub-1.jpg", "stub-2.png"))),
            registrar="budget-domains",
        ),
        SimHost(
            name="hopper-nl.test",
            address="127.77.2.20",
            country="NL",
            description="Moves to a host in the Seychelles after a notice, same content",
            pages=pages(SimPage("/photos/a", "Photos A", images=("hop-1.jpg", "hop-2.png"))),
            registrar="tulp-domeinen",
            on_notice=moves(HOPPER_TARGET, after=delay),
        ),
        SimHost(
            name="shielded-ru.test",
            address="127.77.4.20",
            country="RU",
            description="Behind a CDN: its name resolves to the CDN, which serves its content",
            pages=pages(SimPage("/media/1", "Media 1", images=("shield-1.jpg", "shield-2.png"))),
            registrar="budget-domains",
            cdn=CDN_EDGE,
        ),
        SimHost(
            name="offshore-sc.test",
            address="127.77.12.10",
            country="SC",
            description="Host in a country without a hotline; its provider ignores notices",
            pages=pages(SimPage("/files/a", "Files A", images=("off-1.jpg", "off-2.png"))),
            registrar="offshore-names",
        ),
    )


def default_world(notice_delay: float = 1.0) -> World:
    """The shared world; abuse desks act ``notice_delay`` s after a notice.

    Tests keep the one-second default; the demo passes minutes.
    """
    return World(
        hosts=(*_original_hosts(), *_notice_hosts(notice_delay)),
        aliases={
            "www.gallery-one.test": "gallery-one.test",
            "www.imagehost.test": "imagehost.test",
            # Two hops: forum media -> www.imagehost.test -> imagehost.test.
            "media.forum-nl.test": "www.imagehost.test",
        },
        providers=providers(notice_delay),
        registrars=REGISTRARS,
    )
