"""Where an address is, from an offline IP database: country, autonomous system, network.

Offline on purpose: looking an address up must not tell anyone which addresses the hotline
is interested in, and must work in the demo with no internet at all.

With GEOIP_DB set (OPENHOTLINE_GEOIP_DB) the answers come from that MaxMind-format `.mmdb`
file: GeoLite2/GeoIP2 Country or City (`country.iso_code`), ASN (`autonomous_system_number`,
`autonomous_system_organization`), or one file combining both. The file is memory-mapped,
opened once, and reopened when it changes on disk (a monthly update replaces it).

Without it, geoip2fast's bundled data answers. Its bundled files are MaxMind GeoLite2
extracts of June 2024: `geoip2fast.dat.gz` (country, IPv4 only) and the default used here,
`geoip2fast-asn-ipv6.dat.gz` (country and AS *name*, IPv4 and IPv6; about 0.7 s and
100 MiB to load, once per process). No bundled file has AS *numbers*, so `asn` is None
from geoip2fast. GEOIP2FAST_DATA picks another bundled file name or a path.
"""

import ipaddress
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import maxminddb
from django.conf import settings

DEFAULT_GEOIP2FAST_DATA = "geoip2fast-asn-ipv6.dat.gz"

Source = Literal["mmdb", "geoip2fast"]


class GeoipError(Exception):
    """The configured database cannot be used (missing, unreadable, not an .mmdb file)."""


@dataclass(frozen=True)
class IpFacts:
    country: str  # ISO 3166-1 alpha-2, upper case; "" when the database does not say
    asn: int | None
    as_name: str
    network: str  # the database's network containing the address (CIDR), or ""
    source: Source


def lookup(address: str) -> IpFacts | None:
    """What the offline database knows of `address`; None when it knows nothing.

    Raises ValueError for something that is not an IP address, and GeoipError when
    GEOIP_DB names a file that cannot be read (a deployment mistake, not a lookup result).
    """
    parsed = _parse(address)
    path = str(getattr(settings, "GEOIP_DB", "") or "")
    if path:
        return _mmdb_lookup(Path(path), parsed)
    data = str(getattr(settings, "GEOIP2FAST_DATA", "") or DEFAULT_GEOIP2FAST_DATA)
    return _geoip2fast_lookup(data, parsed)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    text = address.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{address!r} is not an IP address") from None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        # ::ffff:a.b.c.d is a.b.c.d on the wire; databases file it under the IPv4 address.
        return parsed.ipv4_mapped
    return parsed


def _facts(
    country: str, asn: int | None, as_name: str, network: str, source: Source
) -> IpFacts | None:
    if not (country or asn is not None or as_name or network):
        return None
    return IpFacts(country.upper(), asn, as_name, network, source)


# --- MaxMind .mmdb ---------------------------------------------------------------------


class _OpenMmdb:
    """One opened file and the identity (inode, size, mtime) it had when opened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.stamp = _stamp(path)
            self.reader = maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
        except FileNotFoundError:
            raise GeoipError(f"GEOIP_DB: {path} does not exist") from None
        except (OSError, ValueError, RuntimeError) as exc:
            # maxminddb's InvalidDatabaseError is a RuntimeError; ValueError for bad metadata.
            raise GeoipError(f"GEOIP_DB: {path} is not a readable .mmdb file ({exc})") from None


def _stamp(path: Path) -> tuple[int, int, int]:
    info = os.stat(path)
    return (info.st_ino, info.st_size, info.st_mtime_ns)


_mmdb_lock = threading.Lock()
_mmdb_open: dict[Path, _OpenMmdb] = {}


def _mmdb_reader(path: Path) -> Any:
    try:
        stamp = _stamp(path)
    except FileNotFoundError:
        raise GeoipError(f"GEOIP_DB: {path} does not exist") from None
    except OSError as exc:
        raise GeoipError(f"GEOIP_DB: {path} cannot be read ({exc.strerror})") from None
    with _mmdb_lock:
        current = _mmdb_open.get(path)
        if current is None or current.stamp != stamp:
            # The old reader is not closed here: a lookup in another thread may still hold
            # it, and it closes itself once nothing does.
            current = _OpenMmdb(path)
            _mmdb_open[path] = current
        return current.reader


def _mmdb_lookup(
    path: Path, address: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> IpFacts | None:
    reader = _mmdb_reader(path)
    try:
        record, prefix_len = reader.get_with_prefix_len(str(address))
    except ValueError:
        return None  # an IPv6 address asked of an IPv4-only database
    except RuntimeError as exc:  # a corrupt search tree or data section
        raise GeoipError(f"GEOIP_DB: {path} could not be read ({exc})") from None
    if not isinstance(record, Mapping):
        return None
    network = ipaddress.ip_network(f"{address}/{prefix_len}", strict=False)
    return _facts(
        _mmdb_country(record),
        _mmdb_asn(record),
        _text(record.get("autonomous_system_organization") or record.get("as_name")),
        str(network),
        "mmdb",
    )


def _mmdb_country(record: Mapping[str, Any]) -> str:
    # Where the address is used first; the registrant's country when that is all we have.
    for key in ("country", "registered_country"):
        value = record.get(key)
        if isinstance(value, Mapping):
            value = value.get("iso_code")
        if isinstance(value, str) and len(value) == 2 and value.isalpha():
            return value
    return ""


def _mmdb_asn(record: Mapping[str, Any]) -> int | None:
    value = record.get("autonomous_system_number", record.get("asn"))
    if isinstance(value, str):  # some vendors write "AS64500"
        value = value.upper().removeprefix("AS")
        value = int(value) if value.isdigit() else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32:
        return value
    return None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


# --- geoip2fast ------------------------------------------------------------------------

# geoip2fast keeps its tables in module globals: one data file per process, and a lookup
# must not run while another file is loading. One lock covers both.
_g2f_lock = threading.Lock()
_g2f: dict[str, Any] = {}


def _geoip2fast(data: str) -> Any:
    if _g2f.get("data") != data:
        module = _import_geoip2fast()
        path = Path(data)
        if not path.is_absolute():
            # Named without a path: the bundled file. geoip2fast itself would look in the
            # working directory first; we never do.
            path = Path(module.__file__).parent / data
        if not path.is_file():
            raise GeoipError(f"GEOIP2FAST_DATA: {path} does not exist")
        try:
            instance = module.GeoIP2Fast(geoip2fast_data_file=str(path))
        except Exception as exc:  # geoip2fast raises its own GeoIPError for anything
            raise GeoipError(f"GEOIP2FAST_DATA: {path} could not be loaded ({exc})") from None
        _g2f.update(data=data, instance=instance)
    return _g2f["instance"]


def _import_geoip2fast() -> Any:
    # Importing geoip2fast sets PYTHONWARNINGS=ignore and PYTHONIOENCODING in os.environ,
    # which every child process would inherit; put them back as they were.
    saved = {name: os.environ.get(name) for name in ("PYTHONWARNINGS", "PYTHONIOENCODING")}
    try:
        import geoip2fast

        return geoip2fast
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _geoip2fast_lookup(
    data: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> IpFacts | None:
    with _g2f_lock:
        detail = _geoip2fast(data).lookup(str(address))
    if getattr(detail, "is_private", False):
        # Loopback, private, reserved: no country, and the "IANA.ORG" AS it gives is not one.
        return _facts("", None, "", _within(address, detail.cidr), "geoip2fast")
    country = str(detail.country_code or "")
    if not (len(country) == 2 and country.isalpha()):
        country = ""  # "--" (not found) and "" (invalid) are not countries
    # geoip2fast can answer an IPv4 address with the AS entry *before* it, whose network
    # does not contain the address: an AS name is kept only with a network that does.
    as_network = _within(address, str(detail.asn_cidr or ""))
    as_name = str(detail.asn_name or "") if as_network else ""
    if as_name == "<unknown>":
        as_name = ""
    network = as_network or _within(address, str(detail.cidr or ""))
    return _facts(country, None, as_name, network, "geoip2fast")


def _within(address: ipaddress.IPv4Address | ipaddress.IPv6Address, cidr: str) -> str:
    """`cidr` normalised if it contains `address`, else ""."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return ""
    return str(network) if address.version == network.version and address in network else ""
