"""The demo's environment, kept for the `openhotline` commands a newcomer types in another
terminal while (or after) `make run` runs.

`run-demo` starts its children with secrets read from `var/secrets/` and settings pointing
at the simulated internet, all in their environment; a second terminal has none of it.
`run-demo` therefore writes `var/demo-environment.json` (variable names and file paths,
never a secret's value), and the `openhotline` console script adopts it when, and only
when, no secret at all is set in the environment. A deployment sets its secrets, and has
no such file unless someone ran the demo in its var directory: it never silently runs on
demo secrets. No Django imports: this runs before settings are read.
"""

import json
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

MARKER_NAME = "demo-environment.json"
SECRET_NAMES = ("SECRET_KEY", "MASTER_KEY", "STORAGE_KEY", "SIGNING_KEY")
# What run-demo sets for its children, and all a marker may set: never DATABASE_URL,
# DJANGO_SETTINGS_MODULE or a secret's value.
DEMO_VARIABLES = (
    *(f"OPENHOTLINE_{name}_FILE" for name in SECRET_NAMES),
    "OPENHOTLINE_VAR_DIR",
    "OPENHOTLINE_SITE_URL",
    "OPENHOTLINE_SSL_REDIRECT",
    "OPENHOTLINE_HSTS_SECONDS",
    "OPENHOTLINE_DNS_SERVERS",
    "OPENHOTLINE_FETCH_ALLOW_NETS",
    "OPENHOTLINE_RDAP_BOOTSTRAP",
    "OPENHOTLINE_GEOIP_DB",
    "OPENHOTLINE_EMAIL_HOST",
    "OPENHOTLINE_EMAIL_PORT",
    "OPENHOTLINE_FROM_EMAIL",
    "OPENHOTLINE_POLICE_CONTACT",
    "OPENHOTLINE_RECHECK_DELAYS",
    "OPENHOTLINE_RECHECK_CONFIRM_SECONDS",
)
# Where settings.VAR_DIR points when OPENHOTLINE_VAR_DIR is unset: the clone's var/.
DEFAULT_VAR_DIR = Path(__file__).resolve().parents[2] / "var"


class DemoEnvironmentError(Exception):
    """The marker exists but cannot be used."""


def write_marker(var: Path, env: Mapping[str, str]) -> Path:
    """Record the demo's variables (run-demo, after generating its secrets)."""
    chosen = {name: env[name] for name in DEMO_VARIABLES if name in env}
    path = var / MARKER_NAME
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(chosen, handle, indent=1, sort_keys=True)
    partial.replace(path)
    return path


def secrets_in(environ: Mapping[str, str]) -> list[str]:
    """The secret variables (or their _FILE forms) set in `environ`."""
    names = [f"OPENHOTLINE_{name}" for name in SECRET_NAMES]
    return [n for name in names for n in (name, f"{name}_FILE") if environ.get(n)]


def adopt(environ: MutableMapping[str, str]) -> Path | None:
    """Set the demo's variables in `environ` if no secret is set there and the var
    directory holds run-demo's marker; the marker's path if adopted, else None.
    Variables already set win over the marker's."""
    if secrets_in(environ):
        return None
    var = Path(environ.get("OPENHOTLINE_VAR_DIR") or DEFAULT_VAR_DIR).resolve()
    path = var / MARKER_NAME
    try:
        recorded = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DemoEnvironmentError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(recorded, dict) or not all(
        isinstance(value, str) for value in recorded.values()
    ):
        raise DemoEnvironmentError(f"{path}: not a JSON object of strings")
    unknown = sorted(set(recorded) - set(DEMO_VARIABLES))
    if unknown:
        raise DemoEnvironmentError(f"{path}: sets variables it may not: {', '.join(unknown)}")
    for name, value in recorded.items():
        environ.setdefault(name, value)
    return path
