"""System checks for configuration that would make the platform unsafe or broken."""

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from openhotline.core.throttle import parse_rate


@register()
def check_secrets(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    errors = []
    if not settings.SECRET_KEY_IS_SET:
        errors.append(
            Error(
                "OPENHOTLINE_SECRET_KEY is not set.",
                hint="Set it (or OPENHOTLINE_SECRET_KEY_FILE); "
                "`openhotline generate-secrets var/secrets` makes one.",
                id="openhotline.E001",
            )
        )
    if not settings.MASTER_KEY:
        errors.append(
            Error(
                "OPENHOTLINE_MASTER_KEY is not set: reporter contacts cannot be encrypted.",
                hint="Set it (or OPENHOTLINE_MASTER_KEY_FILE) to 32 random bytes in base64; "
                "`openhotline generate-secrets var/secrets` makes one.",
                id="openhotline.E002",
            )
        )
    elif master_key_error(settings.MASTER_KEY):
        errors.append(
            Error(
                f"OPENHOTLINE_MASTER_KEY is malformed: {master_key_error(settings.MASTER_KEY)}.",
                hint="It must be 32 bytes encoded in base64 (44 characters).",
                id="openhotline.E003",
            )
        )
    if not settings.STORAGE_KEY:
        errors.append(
            Error(
                "OPENHOTLINE_STORAGE_KEY is not set: evidence blobs cannot be named.",
                hint="Set it (or OPENHOTLINE_STORAGE_KEY_FILE) to a long random string; "
                "`openhotline generate-secrets var/secrets` makes one. Never change it.",
                id="openhotline.E006",
            )
        )
    if settings.PREVIOUS_MASTER_KEY and master_key_error(settings.PREVIOUS_MASTER_KEY):
        errors.append(
            Error(
                "OPENHOTLINE_PREVIOUS_MASTER_KEY is malformed: "
                f"{master_key_error(settings.PREVIOUS_MASTER_KEY)}.",
                hint="It must be the previous master key: 32 bytes in base64.",
                id="openhotline.E007",
            )
        )
    return errors


def master_key_error(value: str) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "not valid base64"
    if len(raw) != 32:
        return f"{len(raw)} bytes instead of 32"
    return None


@register()
def check_country(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    code = settings.HOME_COUNTRY
    if len(code) != 2 or not code.isalpha():
        return [
            Error(
                f"OPENHOTLINE_HOME_COUNTRY={code!r} is not a two-letter country code.",
                hint="Use an ISO 3166-1 alpha-2 code such as GB, NL or US.",
                id="openhotline.E004",
            )
        ]
    return []


@register()
def check_capture_timing(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    # One media fetch may overrun the run's limit by up to a total fetch timeout.
    longest = settings.CAPTURE_MAX_SECONDS + 2 * settings.FETCH_TOTAL_TIMEOUT
    if longest >= settings.CAPTURE_STALL_SECONDS:
        return [
            Error(
                f"A capture can run {longest} s but is presumed dead after "
                f"{settings.CAPTURE_STALL_SECONDS} s.",
                hint="Keep OPENHOTLINE_CAPTURE_MAX_SECONDS + 2 x OPENHOTLINE_FETCH_TOTAL_TIMEOUT "
                "below OPENHOTLINE_CAPTURE_STALL_SECONDS.",
                id="openhotline.E008",
            )
        ]
    return []


@register()
def check_rates(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    # Read on every request: a typo would otherwise fail each one with a 500.
    errors = []
    for name in ("REPORT_RATE", "STAFF_API_RATE"):
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            errors.append(
                Error(f"OPENHOTLINE_{name}: {exc}.", hint="e.g. 60/hour", id="openhotline.E011")
            )
    return errors


@register()
def check_sqlite_version(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    import sqlite3

    if str(settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3") and (
        sqlite3.sqlite_version_info < (3, 35)
    ):
        return [
            Error(
                f"SQLite {sqlite3.sqlite_version} is too old (3.35 or newer is needed for "
                "INSERT … RETURNING).",
                hint="Use a newer Python build, or PostgreSQL via DATABASE_URL.",
                id="openhotline.E009",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_site_url(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Warning]:
    if not settings.SITE_URL.startswith("https://"):
        return [
            Warning(
                f"OPENHOTLINE_SITE_URL={settings.SITE_URL!r} is not https.",
                hint="Reporters' status links are built from it; serve them over TLS.",
                id="openhotline.W001",
            )
        ]
    return []


@register()
def check_fetch_allow_nets(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    wide = [net for net in settings.FETCH_ALLOW_NETS if net.prefixlen < 8]
    if wide:
        return [
            Error(
                f"OPENHOTLINE_FETCH_ALLOW_NETS contains very wide networks: {wide}.",
                hint="List only the test networks the fetcher may reach, e.g. 127.77.0.0/16.",
                id="openhotline.E005",
            )
        ]
    return []
