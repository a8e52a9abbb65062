"""System checks name bad configuration with ids and hints."""

import base64

from django.test import override_settings

from openhotline.core import checks
from openhotline.signals import checks as signals_checks


def ids(messages: list) -> set[str]:
    return {m.id for m in messages}


def test_it_reports_missing_secrets() -> None:
    with override_settings(SECRET_KEY_IS_SET=False, MASTER_KEY=None, STORAGE_KEY=None):
        assert ids(checks.check_secrets(None)) == {
            "openhotline.E001",
            "openhotline.E002",
            "openhotline.E006",
        }
    with override_settings(PREVIOUS_MASTER_KEY="short"):
        assert ids(checks.check_secrets(None)) == {"openhotline.E007"}


def test_it_reports_a_malformed_master_key() -> None:
    with override_settings(MASTER_KEY=base64.b64encode(b"short").decode()):
        (error,) = checks.check_secrets(None)
    assert error.id == "openhotline.E003" and "5 bytes instead of 32" in error.msg
    with override_settings(MASTER_KEY="%%%"):
        (error,) = checks.check_secrets(None)
    assert "not valid base64" in error.msg


def test_it_reports_a_bad_home_country_and_wide_allow_nets() -> None:
    import ipaddress

    with override_settings(HOME_COUNTRY="GBR"):
        assert ids(checks.check_country(None)) == {"openhotline.E004"}
    with override_settings(FETCH_ALLOW_NETS=[ipaddress.ip_network("0.0.0.0/0")]):
        assert ids(checks.check_fetch_allow_nets(None)) == {"openhotline.E005"}


def test_it_warns_when_status_links_would_not_be_https() -> None:
    with override_settings(SITE_URL="http://hotline.example.org"):
        assert ids(checks.check_site_url(None)) == {"openhotline.W001"}
    with override_settings(SITE_URL="https://hotline.example.org"):
        assert checks.check_site_url(None) == []


def test_it_refuses_capture_timing_that_would_restart_live_captures() -> None:
    with override_settings(CAPTURE_MAX_SECONDS=900, CAPTURE_STALL_SECONDS=900):
        assert ids(checks.check_capture_timing(None)) == {"openhotline.E008"}
    assert checks.check_capture_timing(None) == []


def test_it_needs_a_sqlite_that_can_return_rows(monkeypatch) -> None:
    import sqlite3

    assert checks.check_sqlite_version(None) == []
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    from django.conf import settings

    if str(settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
        assert ids(checks.check_sqlite_version(None)) == {"openhotline.E009"}


def test_it_names_a_photodna_implementation_that_cannot_load() -> None:
    from openhotline.signals.types import photodna

    photodna._load.cache_clear()
    with override_settings(PHOTODNA_IMPLEMENTATION="no.such.module.hash"):
        assert ids(signals_checks.check_photodna(None)) == {"openhotline.E010"}
    assert signals_checks.check_photodna(None) == []
