"""Typed readers for environment variables that fail loudly.

Every setting of OpenHotline comes from the environment. A secret may also come from
a file named by `NAME_FILE` (for Docker/Kubernetes secrets and systemd credentials).
"""

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """A configuration value is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(
    name: str, default: str = ""
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    nets = []
    for item in env_list(name, [x for x in default.split(",") if x]):
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an IP network (e.g. 10.0.0.0/8)") from None
    return nets


def env_host_ports(name: str) -> list[tuple[str, int]]:
    """Parse `host:port,host:port` (IPv6 as `[::1]:53`); port defaults to 53."""
    result = []
    for item in env_list(name, []):
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest.startswith(":"):
                port = _port(name, rest[1:])
        elif item.count(":") == 1:
            host, raw_port = item.split(":")
            port = _port(name, raw_port)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"{name}: {host!r} is not an IP address") from None
        result.append((host, port))
    return result


def _port(name: str, raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name}: {raw!r} is not a port number")
    return int(raw)


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from `NAME`, or from the file named by `NAME_FILE`."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        path = Path(file_name)
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
        if not value:
            raise ConfigError(f"{name}_FILE: {path} is empty")
        return value
    return os.environ.get(name, default)


def database_from_url(url: str, *, conn_max_age: int) -> dict[str, object]:
    """Django DATABASES entry for a `postgres://user:pass@host:port/name` URL."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"DATABASE_URL must start with postgres:// (SQLite is the default), "
            f"not {parts.scheme}://"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError("DATABASE_URL names no database (postgres://host/NAME)")
    options: dict[str, object] = {}
    for key, values in parse_qs(parts.query).items():
        options[key] = values[-1]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }
