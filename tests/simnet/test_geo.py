"""The .mmdb for the simnet's networks reads back with the right country and AS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import maxminddb
import pytest

from openhotline.simnet.atlas import default_world
from openhotline.simnet.geo import DATABASE_TYPE, write_mmdb
from openhotline.simnet.runner import Simnet


def lookup(mmdb: Path, address: str) -> Any:
    with maxminddb.open_database(str(mmdb)) as reader:
        return reader.get(address)


@pytest.fixture(scope="module")
def mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mmdb(default_world(), tmp_path_factory.mktemp("geo"))


def test_every_provider_network_reads_back_with_country_and_as(mmdb: Path) -> None:
    world = default_world()
    with maxminddb.open_database(str(mmdb)) as reader:
        assert reader.metadata().database_type == DATABASE_TYPE
        for provider in world.providers:
            first = provider.network.replace(".0/24", ".1")
            found, prefix = reader.get_with_prefix_len(first)
            assert prefix == 24
            record: Any = found
            assert record == {
                "country": {"iso_code": provider.country, "names": record["country"]["names"]},
                "registered_country": record["country"],
                "autonomous_system_number": provider.asn,
                "autonomous_system_organization": provider.name,
            }


@pytest.mark.parametrize(
    ("address", "country", "asn"),
    [
        ("127.77.1.10", "GB", 64501),
        ("127.77.2.10", "NL", 64502),
        ("127.77.3.10", "US", 64503),
        ("127.77.4.10", "RU", 64504),
        ("127.77.12.10", "SC", 64512),
        ("127.77.250.10", "US", 64750),  # the CDN's edge
        ("::ffff:127.77.1.10", "GB", 64501),  # IPv4-mapped, as some clients pass addresses
    ],
)
def test_host_addresses_have_their_providers_country(
    mmdb: Path, address: str, country: str, asn: int
) -> None:
    record = lookup(mmdb, address)
    assert record["country"]["iso_code"] == country
    assert record["autonomous_system_number"] == asn


def test_the_seychelles_has_an_english_name(mmdb: Path) -> None:
    assert lookup(mmdb, "127.77.12.10")["country"]["names"] == {"en": "Seychelles"}


@pytest.mark.parametrize("address", ["127.77.0.53", "127.77.200.1", "127.0.0.1", "10.0.0.1"])
def test_addresses_of_no_provider_have_no_record(mmdb: Path, address: str) -> None:
    assert lookup(mmdb, address) is None


def test_simnet_writes_it_to_its_data_dir_or_a_temporary_one(tmp_path: Path) -> None:
    with Simnet(data_dir=tmp_path / "data") as net:
        assert net.mmdb_path == tmp_path / "data" / "simnet.mmdb"
        assert net.mmdb_path.is_file()
    assert (tmp_path / "data" / "simnet.mmdb").is_file()  # the caller's directory stays
    with Simnet() as net:
        temporary = net.mmdb_path
        with maxminddb.open_database(str(temporary)) as reader:
            assert reader.get("127.77.2.10") is not None
    assert not temporary.exists()
    with pytest.raises(RuntimeError):
        _ = Simnet().mmdb_path
