"""A MaxMind-format (.mmdb) database for the simulated world's networks.

Tracing reads an address's country and AS from a GeoLite2-style database; this one describes
the simnet providers' loopback networks so the same code path works on loopback. Written with
``mmdb_writer`` (which, unlike MaxMind's own writer, needs no flag to accept the reserved
127.0.0.0/8) as an IPv6 database with IPv4 at ::/96, like GeoLite2, and read back with
``maxminddb.open_database(path).get("127.77.1.10")`` (IPv4-mapped IPv6 addresses work too).
One record per provider network::

    {
        "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
        "registered_country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
        "autonomous_system_number": 64501,
        "autonomous_system_organization": "UK Hosting Ltd",
    }

i.e. a GeoLite2-Country record with the GeoLite2-ASN fields merged in. Addresses outside every
provider network (the simnet's own DNS, RDAP and SMTP addresses, say) have no record.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

from .world import Provider, World

DATABASE_TYPE = "OpenHotline-Simnet-Country-ASN"
FILE_NAME = "simnet.mmdb"

COUNTRY_NAMES = {
    "GB": "United Kingdom",
    "NL": "Netherlands",
    "US": "United States",
    "RU": "Russia",
    "SC": "Seychelles",
    "XK": "Kosovo",
    "DE": "Germany",
    "FR": "France",
}


def record(provider: Provider) -> dict[str, Any]:
    country = {
        "iso_code": provider.country,
        "names": {"en": COUNTRY_NAMES.get(provider.country, provider.country)},
    }
    return {
        "country": country,
        "registered_country": country,
        "autonomous_system_number": provider.asn,
        "autonomous_system_organization": provider.name,
    }


def write_mmdb(world: World, path: Path) -> Path:
    """Write the world's networks to ``path`` (a file, or a directory to put FILE_NAME in)."""
    if path.is_dir():
        path = path / FILE_NAME
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=DATABASE_TYPE,
        languages=["en"],
        description={"en": "Simulated internet networks (loopback only)"},
    )
    for provider in world.providers:
        network = ipaddress.IPv4Network(provider.network)
        # Also under ::ffff:0:0/96, which GeoLite2 aliases to the IPv4 subtree.
        mapped = f"::ffff:{network.network_address}/{96 + network.prefixlen}"
        writer.insert_network(IPSet([provider.network, mapped]), record(provider))
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.to_db_file(str(path))
    return path
