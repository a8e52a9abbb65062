"""Offline IP facts: a MaxMind-format file written here, and geoip2fast's bundled data.

mmdb_writer 0.2.7 writes loopback and other reserved networks as given (it has no
"remove reserved networks" switch to turn off), so the simulated internet's 127.77.x.0/24
networks go straight in.
"""

import ipaddress
import os
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from openhotline.tracing import geoip
from openhotline.tracing.geoip import GeoipError, IpFacts, lookup


def write_mmdb(
    path: Path, records: dict[str, dict[str, Any]], *, ip_version: int = 6, kind: str = "GeoIP2"
) -> Path:
    writer = MMDBWriter(
        ip_version=ip_version,
        ipv4_compatible=ip_version == 6,
        database_type=kind,
        languages=["en"],
        description="OpenHotline test data",
    )
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


COMBINED: dict[str, dict[str, Any]] = {
    "127.77.1.0/24": {
        "country": {"iso_code": "NL", "names": {"en": "Netherlands"}},
        "registered_country": {"iso_code": "DE"},
        "autonomous_system_number": 64501,
        "autonomous_system_organization": "Sim Hosting B.V.",
    },
    "127.77.2.0/24": {"registered_country": {"iso_code": "fr"}},
    "127.77.3.0/25": {"autonomous_system_number": 64503},
    "2001:db8:77::/48": {"country": {"iso_code": "SE"}, "autonomous_system_number": 64577},
}


@pytest.fixture
def mmdb(tmp_path: Path, settings: Any) -> Path:
    path = write_mmdb(tmp_path / "sim.mmdb", COMBINED)
    settings.GEOIP_DB = str(path)
    return path


def test_combined_country_and_asn_record(mmdb: Path) -> None:
    assert lookup("127.77.1.9") == IpFacts("NL", 64501, "Sim Hosting B.V.", "127.77.1.0/24", "mmdb")


def test_registered_country_when_there_is_no_other(mmdb: Path) -> None:
    assert lookup("127.77.2.200") == IpFacts("FR", None, "", "127.77.2.0/24", "mmdb")


def test_asn_only_record_and_ipv6(mmdb: Path) -> None:
    assert lookup("127.77.3.1") == IpFacts("", 64503, "", "127.77.3.0/25", "mmdb")
    assert lookup("2001:db8:77::1") == IpFacts("SE", 64577, "", "2001:db8:77::/48", "mmdb")
    assert lookup("::ffff:127.77.1.9") == lookup("127.77.1.9")  # the IPv4 address it carries


def test_unknown_address_gives_none(mmdb: Path) -> None:
    assert lookup("127.77.9.1") is None
    assert lookup("2001:db8:1::1") is None


def test_geolite_shaped_files(tmp_path: Path, settings: Any) -> None:
    country = write_mmdb(
        tmp_path / "country.mmdb",
        {"127.77.5.0/24": {"country": {"iso_code": "GB"}, "continent": {"code": "EU"}}},
        ip_version=4,
        kind="GeoLite2-Country",
    )
    asn = write_mmdb(
        tmp_path / "asn.mmdb",
        {
            "127.77.5.0/24": {
                "autonomous_system_number": 64505,
                "autonomous_system_organization": "Five Networks Ltd",
            }
        },
        kind="GeoLite2-ASN",
    )
    settings.GEOIP_DB = str(country)
    assert lookup("127.77.5.5") == IpFacts("GB", None, "", "127.77.5.0/24", "mmdb")
    assert lookup("2001:db8::1") is None  # an IPv6 address in an IPv4-only file
    settings.GEOIP_DB = str(asn)
    assert lookup("127.77.5.5") == IpFacts("", 64505, "Five Networks Ltd", "127.77.5.0/24", "mmdb")


def test_other_vendors_asn_spelling(tmp_path: Path, settings: Any) -> None:
    path = write_mmdb(
        tmp_path / "vendor.mmdb",
        {"127.77.6.0/24": {"country": "ie", "asn": "AS64506", "as_name": "Six Hosting"}},
    )
    settings.GEOIP_DB = str(path)
    assert lookup("127.77.6.1") == IpFacts("IE", 64506, "Six Hosting", "127.77.6.0/24", "mmdb")


def test_file_replaced_on_disk_is_reopened(mmdb: Path, tmp_path: Path) -> None:
    before = lookup("127.77.1.9")
    assert before is not None and before.country == "NL"
    replacement = write_mmdb(
        tmp_path / "new.mmdb", {"127.77.1.0/24": {"country": {"iso_code": "BE"}}}
    )
    os.replace(replacement, mmdb)  # how an update lands: a rename over the old file
    facts = lookup("127.77.1.9")
    assert facts is not None and facts.country == "BE" and facts.asn is None


def test_unchanged_file_is_opened_once(mmdb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lookup("127.77.1.9")
    opened: list[str] = []
    real_open = geoip.maxminddb.open_database

    def counting_open(path: str, mode: int) -> Any:
        opened.append(path)
        return real_open(path, mode)

    monkeypatch.setattr(geoip.maxminddb, "open_database", counting_open)
    for _ in range(5):
        lookup("127.77.1.9")
    assert opened == []


def test_missing_or_broken_file_is_a_clear_error(tmp_path: Path, settings: Any) -> None:
    settings.GEOIP_DB = str(tmp_path / "absent.mmdb")
    with pytest.raises(GeoipError, match=r"GEOIP_DB: .*absent\.mmdb does not exist"):
        lookup("127.77.1.1")
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"this is not a MaxMind database" * 10)
    settings.GEOIP_DB = str(broken)
    with pytest.raises(GeoipError, match=r"broken\.mmdb is not a readable \.mmdb file"):
        lookup("127.77.1.1")


def test_not_an_address(mmdb: Path) -> None:
    with pytest.raises(ValueError, match=r"'gallery\.test' is not an IP address"):
        lookup("gallery.test")


# --- geoip2fast (no GEOIP_DB) ------------------------------------------------------------


@pytest.fixture
def bundled(settings: Any) -> None:
    settings.GEOIP_DB = ""


@pytest.mark.usefixtures("bundled")
def test_public_address_has_a_country() -> None:
    # 81.2.69.160 is the address MaxMind's own test data places in the United Kingdom.
    facts = lookup("81.2.69.160")
    assert facts is not None and facts.source == "geoip2fast"
    assert len(facts.country) == 2 and facts.country.isalpha() and facts.country.isupper()
    assert facts.asn is None  # the bundled files have AS names, never numbers
    assert ipaddress.ip_address("81.2.69.160") in ipaddress.ip_network(facts.network)


@pytest.mark.usefixtures("bundled")
def test_public_ipv6_address_has_a_country() -> None:
    facts = lookup("2a00:1450:4001:80b::200e")
    assert facts is not None and len(facts.country) == 2


@pytest.mark.usefixtures("bundled")
def test_as_name_only_with_a_network_holding_the_address() -> None:
    # geoip2fast answers some IPv4 addresses with the AS entry just before them; such a
    # name must not be recorded as the address's AS.
    for address in ("13.32.0.1", "52.84.0.1", "8.8.8.8"):
        facts = lookup(address)
        assert facts is not None
        assert ipaddress.ip_address(address) in ipaddress.ip_network(facts.network), address


@pytest.mark.usefixtures("bundled")
def test_loopback_and_private_have_no_country() -> None:
    for address in ("127.77.250.3", "10.1.2.3"):
        facts = lookup(address)
        assert facts is None or (facts.country == "" and facts.as_name == ""), address


@pytest.mark.usefixtures("bundled")
def test_address_in_no_network_gives_none() -> None:
    assert lookup("2001:db8::1") is None


def test_country_only_bundled_file(settings: Any) -> None:
    settings.GEOIP_DB = ""
    settings.GEOIP2FAST_DATA = "geoip2fast.dat.gz"  # country only, IPv4 only
    facts = lookup("81.2.69.160")
    assert facts is not None and len(facts.country) == 2 and facts.as_name == ""
    assert lookup("2a00:1450:4001:80b::200e") is None


def test_missing_geoip2fast_file(settings: Any, tmp_path: Path) -> None:
    settings.GEOIP_DB = ""
    settings.GEOIP2FAST_DATA = str(tmp_path / "absent.dat.gz")
    with pytest.raises(GeoipError, match=r"GEOIP2FAST_DATA: .*absent\.dat\.gz does not exist"):
        lookup("81.2.69.160")
