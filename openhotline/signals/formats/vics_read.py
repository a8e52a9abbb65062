"""Reading VICS files: each media object's fields into an EntryRecord, or a bad record.

`read` checks the start of the file at once (FormatError when it is not VICS) and then
yields a ReadResult per media object as the iterator is read (positions count media
objects from 1). Field names are read without case; a field kept from an object is
checked as the other formats check theirs (`base.checked`); hashes come from top-level
fields, AlternativeHashes and agreeing MediaFiles MD5s; "@openhotline.<field>"
annotations come before the VICS fields they stand in for. See `vics` for the mapping.
"""

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from openhotline.signals.formats.base import (
    JSON,
    MAX_ROW_BYTES,
    RECORD,
    ReadResult,
    checked,
    same_hash,
)
from openhotline.signals.formats.vics_stream import (
    HEAD_BYTES,
    Source,
    Unreadable,
    json_problem,
    media_objects,
    sniff_model,
)
from openhotline.signals.formats.vics_tables import (
    ANNOTATED,
    ANNOTATION,
    HASH_BY_NAME,
    HASH_NAMES,
    Model,
)
from openhotline.signals.records import FieldError
from openhotline.signals.types import HASH_TYPES

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def read(stream: BinaryIO, max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[ReadResult]:
    """Check the start of the file now (FormatError); media come as the iterator is read."""
    source = Source(stream, 2 * max_row_bytes + HEAD_BYTES)
    model = sniff_model(source)
    return _media(source, model, max_row_bytes)


def _media(source: Source, model: Model, limit: int) -> Iterator[ReadResult]:
    index = 0
    try:
        for item, problem in media_objects(source, model.cases, limit):
            index += 1
            if problem is not None:
                yield ReadResult(index, None, [FieldError(JSON, problem)], RECORD)
            else:
                yield _record(index, item, model, check_bytes=source.replaced)
    except Unreadable as exc:
        yield ReadResult(index + 1, None, [FieldError(JSON, str(exc))], RECORD)
    except ijson.JSONError as exc:
        problem = json_problem(exc)
        if "premature EOF" in problem:
            message = "the file ends in the middle of this media object (cut short?)"
        else:
            message = f"not valid JSON: {problem}; the rest of the file is not read"
        yield ReadResult(index + 1, None, [FieldError(JSON, message)], RECORD)


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


class _Fields:
    """The fields of one media object for build_record, each with the name it has in the
    file (for errors)."""

    def __init__(self, check_bytes: bool) -> None:
        self.values: dict[str, object] = {}
        self.labels: dict[str, str] = {}
        self.errors: list[FieldError] = []
        self.hash_unreadable = False
        self._check_bytes = check_bytes

    def set(self, name: str, value: object, label: str) -> None:
        if self._check_bytes and _replaced(value):
            self.errors.append(
                FieldError(label, "not valid UTF-8: it has bytes that are not UTF-8 text")
            )
            self.hash_unreadable = self.hash_unreadable or name in HASH_TYPES
            return
        self.values[name] = value
        self.labels[name] = label

    def error(self, label: str, message: str) -> None:
        self.errors.append(FieldError(label, message))


def _replaced(value: object) -> bool:
    if isinstance(value, str):
        return "\ufffd" in value
    if isinstance(value, list | tuple):
        return any(_replaced(v) for v in value)
    return False


def _record(index: int, item: object, model: Model, *, check_bytes: bool) -> ReadResult:
    if not isinstance(item, dict):
        error = FieldError(JSON, f"{_kind(item)}, not a media object")
        return ReadResult(index, None, [error], RECORD)
    # Names without case; errors name fields as VICS spells them.
    media = {key.lower(): value for key, value in item.items()}
    fields = _Fields(check_bytes)
    _hashes(media, fields)
    annotations = {
        key[len(ANNOTATION) :]: value
        for key, value in media.items()
        if key[:1] == "@" and key.startswith(ANNOTATION)
    }
    # An OpenHotline annotation comes before the VICS field it stands in for.
    if "external_id" in annotations:
        label, value = ANNOTATION + "external_id", annotations.pop("external_id")
    else:
        label, value = "MediaID", media.get("mediaid")
    if value is None or isinstance(value, str) or (type(value) is int):
        fields.set("external_id", "" if value is None else str(value), label)
    else:
        fields.error(label, f"expected a number or text, got {_kind(value)}")
    if model.us_categories:
        fields.set("vics_category", media.get("category"), "Category")
    fields.set("victim_identified", media.get("victimidentified"), "VictimIdentified")
    fields.set("offender_identified", media.get("offenderidentified"), "OffenderIdentified")
    value = media.get("series")
    if isinstance(value, dict):
        value = {str(k).lower(): v for k, v in value.items()}.get("name")
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        fields.set("series", value, "Series")
    else:
        fields.error("Series", f"expected text or an object with a Name, got {_kind(value)}")
    if "first_seen" not in annotations:
        value = media.get("dateupdated")
        if isinstance(value, str) and _DAY.match(value.strip()):
            value = value.strip()[:10]
        fields.set("first_seen", value, "DateUpdated")
    for name, value in annotations.items():
        if name not in ANNOTATED:
            continue  # another version's field, or a typo: VICS is extensible
        if isinstance(value, dict | list):
            fields.error(ANNOTATION + name, f"expected a plain value, got {_kind(value)}")
        else:
            fields.set(name, value, ANNOTATION + name)
    return checked(
        index,
        RECORD,
        fields.values,
        fields.errors,
        labels=fields.labels,
        hash_unreadable=fields.hash_unreadable,
    )


def _hashes(media: dict[str, Any], fields: _Fields) -> None:
    """Every hash of a media object (names in lower case), from its top-level fields and
    AlternativeHashes, and the MD5 its MediaFiles agree on when it has none."""
    found: dict[str, list[tuple[str, object]]] = {}
    for name, vics in HASH_NAMES.items():
        value = media.get(vics.lower())
        if value is not None:
            found[name] = [(vics, value)]
    alternatives = media.get("alternativehashes")
    if isinstance(alternatives, list):
        for entry in alternatives:
            if not isinstance(entry, dict):
                continue
            entry = {str(k).lower(): v for k, v in entry.items()}
            hash_name, value = entry.get("hashname"), entry.get("hashvalue")
            hash_type = HASH_BY_NAME.get(str(hash_name).strip().lower().replace("-", ""))
            if hash_type is not None and value is not None:
                label = f"AlternativeHashes[{hash_name}]"
                found.setdefault(hash_type, []).append((label, value))
    files = media.get("mediafiles")
    if "md5" not in found and isinstance(files, list):
        md5s = {
            value.strip().lower()
            for file in files
            if isinstance(file, dict)
            for key, value in file.items()
            if str(key).lower() == "md5" and isinstance(value, str) and value.strip()
        }
        if len(md5s) == 1:
            found["md5"] = [("MediaFiles.MD5", md5s.pop())]
    for name, candidates in found.items():
        label, value = candidates[0]
        if any(not same_hash(name, value, other) for _, other in candidates[1:]):
            where = " and ".join(label for label, _ in candidates)
            fields.error(label, f"{HASH_NAMES[name]} is given differently in {where}")
            fields.hash_unreadable = True
            continue
        fields.set(name, value, label)
