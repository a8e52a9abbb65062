"""Checking an X-ARF report against the vendored v4 schemas (tests/data/xarf/).

jsonschema and referencing are dev dependencies: `validate` imports them when called and
returns [] without them (or without the vendored schemas, absent from an installed
package), so this module, and the notices that import `xarf`, work without them. Formats
the schemas use (date-time, uri, hostname) are checked here, since jsonschema skips them
without optional extras.
"""

import functools
import importlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from openhotline.takedown.xarf_input import HOSTNAME

# The vendored schemas: test data, present in a checkout, absent from an installed package.
DEFAULT_SCHEMA_DIR: Final = Path(__file__).resolve().parents[2] / "tests/data/xarf/schemas/v4"

_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time, which requires an offset (jsonschema checks it only with extras)."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        return datetime.fromisoformat(value.upper()).tzinfo is not None
    except ValueError:
        return False


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.fullmatch(value))


def _is_hostname(value: object) -> bool:
    return not isinstance(value, str) or bool(HOSTNAME.fullmatch(value))


@functools.lru_cache(maxsize=4)
def _validator(schema_dir: Path) -> Any:
    # Here, not at the top: jsonschema is a dev dependency (see the module docstring).
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    master = None
    for path in sorted(schema_dir.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012))
        )
        if path.name == "xarf-v4-master.json":
            master = contents
    if master is None:
        raise FileNotFoundError(f"no xarf-v4-master.json under {schema_dir}")
    checker = FormatChecker()
    # Without rfc3339-validator, rfc3987 and fqdn installed, jsonschema skips these formats.
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    checker.checks("hostname")(_is_hostname)
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft202012Validator(master, registry=registry, format_checker=checker)


def _where(path: Sequence[object]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def validate(report: Mapping[str, Any], *, schema_dir: Path | None = None) -> list[str]:
    """Schema errors of a report ("$.reporter: 'domain' is a required property"), sorted.

    Validates against the vendored X-ARF v4 master schema (formats checked too) when
    jsonschema is importable; returns [] without it, or when ``schema_dir`` is not given and
    the vendored schemas are not there (an installed package has no tests/ directory).
    A ``$ref`` that the schema directory cannot resolve is reported as an error. The schema
    allows ``evidence``; ``to_json`` is what refuses it.
    """
    directory = DEFAULT_SCHEMA_DIR if schema_dir is None else schema_dir
    if schema_dir is None and not directory.is_dir():
        return []
    try:
        importlib.import_module("jsonschema")  # each time: the validator below is cached
        from referencing.exceptions import Unresolvable  # a dev dependency, as above
    except ImportError:
        return []
    validator = _validator(directory.resolve())
    try:
        errors = {
            f"{_where(error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(report)
        }
    except Unresolvable as exc:
        kind = f"{report.get('category')}/{report.get('type')}"
        return [f"$: no vendored schema for {kind} ({exc})"]
    return sorted(errors)
