"""A hash list entry as it travels in and out of OpenHotline: the interchange form that
every import and export format (CSV, JSON Lines, VICS) reads into and writes from.

`build_record` turns loosely typed fields (text from a CSV cell, values from JSON) into a
checked `EntryRecord`, or raises `RecordErrors` naming every bad field. It needs no
database, so formats and their tests stay plain Python.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openhotline import grading
from openhotline.signals.types import HASH_TYPES, BadHash
from openhotline.signals.types.pdq import PDQ_MIN_QUALITY

# The metadata fields, in the order exports write them.
META_FIELDS = (
    "external_id",
    "grade",
    "uk_category",
    "interpol_baseline",
    "vics_category",
    "age_band",
    "non_photographic",
    "victim_identified",
    "offender_identified",
    "series",
    "confirmed_by_police",
    "first_seen",
    "provenance",
    "retired",
    "retired_reason",
    "pdq_quality",
)
MAX_TEXT = 500


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class RecordErrors(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass(frozen=True)
class EntryRecord:
    """One media's hashes and what is known about it. Hash values are canonical text."""

    hashes: dict[str, str]
    external_id: str = ""
    grade: str | None = None
    uk_category: str | None = None
    interpol_baseline: bool | None = None
    vics_category: int | None = None
    age_band: str | None = None
    non_photographic: bool = False
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    series: str = ""
    confirmed_by_police: bool | None = None
    first_seen: dt.date | None = None
    provenance: str = ""
    retired: bool = False
    retired_reason: str = ""
    # PDQ's 0-100 quality when the source gives it; below 50 the PDQ is kept, not matched.
    pdq_quality: int | None = None

    @property
    def unusable(self) -> frozenset[str]:
        """Hash types whose values are kept but never matched on."""
        weak = self.pdq_quality is not None and self.pdq_quality < PDQ_MIN_QUALITY
        return frozenset({"pdq"}) if weak and "pdq" in self.hashes else frozenset()

    def as_fields(self) -> dict[str, Any]:
        """Plain values for writers: hashes under their type names, then the metadata."""
        out: dict[str, Any] = dict(self.hashes)
        for name in META_FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, dt.date) else value
        return out


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _bool(value: object) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (true/false, 1/0)")


def _text(value: object) -> str:
    if _blank(value):
        return ""
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    if any(ord(c) < 32 and c not in "\t" for c in text):
        raise ValueError("contains control characters")
    return text


def _choice(value: object, choices: Mapping[str, str] | tuple[str, ...]) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if text not in choices:
        raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
    return text


def _uk(value: object) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    text = text.upper() if len(text) == 1 else text.lower()
    return _choice(text, (*grading.UK_CATEGORIES, grading.UK_PROHIBITED))


def _vics(value: object) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError("expected a category number 0-4")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a category number 0-4") from None
    if number not in grading.VICS_CATEGORIES:
        raise ValueError(f"{number} is not a category number 0-4")
    return number


def _quality(value: object) -> int | None:
    if _blank(value):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number 0-100") from None
    if not 0 <= number <= 100 or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number 0-100")
    return number


def _date(value: object) -> dt.date | None:
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        # Dates and date-times (VICS writes "2019-05-01T00:00:00Z") both give a day.
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


_READERS = {
    "external_id": _text,
    "grade": lambda v: _choice(v, grading.GRADES),
    "uk_category": _uk,
    "interpol_baseline": _bool,
    "vics_category": _vics,
    "age_band": lambda v: _choice(v, grading.AGE_BANDS),
    "non_photographic": _bool,
    "victim_identified": _bool,
    "offender_identified": _bool,
    "series": _text,
    "confirmed_by_police": _bool,
    "first_seen": _date,
    "provenance": _text,
    "retired": _bool,
    "retired_reason": _text,
    "pdq_quality": _quality,
}


def build_record(fields: Mapping[str, object]) -> EntryRecord:
    """A checked record from fields named as in META_FIELDS plus hash type names.

    Unknown field names are ignored (formats decide what they accept). Every bad field is
    reported at once; a record needs at least one hash. A neutral `grade` fills in the
    UK, INTERPOL and VICS classifications the fields leave empty.
    """
    errors: list[FieldError] = []
    hashes: dict[str, str] = {}
    for name, hash_type in HASH_TYPES.items():
        value = fields.get(name)
        if _blank(value):
            continue
        try:
            hashes[name] = hash_type.normalize(value)
        except BadHash as exc:
            errors.append(FieldError(name, f"{exc.problem}: {exc.reason}" + _at(exc)))
    meta: dict[str, Any] = {}
    for name, reader in _READERS.items():
        try:
            meta[name] = reader(fields.get(name))
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
    if not hashes and not any(e.field in HASH_TYPES for e in errors):
        errors.append(FieldError("hashes", f"no hash given (one of {', '.join(HASH_TYPES)})"))
    if errors:
        raise RecordErrors(errors)
    meta["non_photographic"] = bool(meta["non_photographic"])
    meta["retired"] = bool(meta["retired"])
    if meta["grade"] is not None:
        try:
            implied = grading.classify(meta["grade"], meta["age_band"], meta["non_photographic"])
        except ValueError as exc:
            raise RecordErrors([FieldError("grade", str(exc))]) from None
        meta["uk_category"] = meta["uk_category"] or implied.uk
        if meta["interpol_baseline"] is None:
            meta["interpol_baseline"] = implied.interpol_baseline
        if meta["vics_category"] is None:
            meta["vics_category"] = implied.vics
    return EntryRecord(hashes=hashes, **meta)


def _at(exc: BadHash) -> str:
    return f" (position {exc.position})" if exc.position is not None else ""
