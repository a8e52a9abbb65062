"""JSON Lines hash lists: one JSON object a line, with the keys of the CSV columns.

Keys are the hash type names and META_FIELDS; `null` is unknown. Hashes may also come
nested, {"hashes": {"md5": "...", "pdq": "..."}}, and a video hash may be vPDQ text or a
list of [frame_number, quality, pdq_hex, timestamp]. Blank lines are skipped.

The first line that is not blank must be a JSON object, or the file is not JSON Lines
(FormatError). After it, a line is a bad row, reported at its number, when it is not
UTF-8, not JSON, not an object, longer than `max_row_bytes`, or has an unknown key, a key
given twice, a hash given both at the top and in "hashes" with different values, or an
object or list where a plain value belongs.

Writing gives every key on every line, in the CSV column order, with U+0085, U+2028 and
U+2029 escaped so that no reader splitting on Unicode line breaks cuts a line.
"""

import json
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from openhotline.signals.formats.base import (
    COLUMNS,
    HASHES,
    JSON,
    LINE,
    MAX_ROW_BYTES,
    ROW,
    ByteLines,
    FormatError,
    ReadResult,
    checked,
    same_hash,
)
from openhotline.signals.records import EntryRecord, FieldError
from openhotline.signals.types import HASH_TYPES

_FLUSH_LINES = 512
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


class _Object(dict[str, object]):
    """A JSON object that remembers the keys it was given more than once."""

    doubled: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, object]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        keys = [key for key, _ in pairs]
        obj.doubled = tuple(sorted({key for key in keys if keys.count(key) > 1}))
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_object)


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _parse(data: bytes) -> tuple[object, str | None]:
    """(value, None), or (None, why the line is not JSON)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at byte {exc.start + 1})"
    try:
        return _DECODER.decode(text), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} (column {exc.colno})"
    except (ValueError, RecursionError) as exc:
        # Integers too long to convert, nesting too deep for the parser.
        return None, f"not valid JSON: {str(exc)[:200] or type(exc).__name__}"


def read(stream: BinaryIO, max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[ReadResult]:
    """Check the first line now (FormatError); the records come as the iterator is read."""
    lines = ByteLines(stream, max_row_bytes)
    too_long: list[ReadResult] = []  # lines before the first that say nothing of the file
    while True:
        data = lines.next()
        if data is None:
            if too_long:
                return iter(too_long)
            raise FormatError("the file is empty")
        if not data:
            too_long.append(_too_long(lines))
        elif data.strip():
            break
    value, problem = _parse(data)
    number = lines.number
    if problem:
        raise FormatError(f"line {number} is {problem}: is this a JSON Lines file?")
    if not isinstance(value, dict):
        raise FormatError(f"line {number} is {_kind(value)}, not an object: is this JSON Lines?")
    return _records(lines, [*too_long, _record(number, value)])


def _too_long(lines: ByteLines) -> ReadResult:
    error = FieldError(ROW, f"the line is longer than {lines.limit} bytes")
    return ReadResult(lines.number, None, [error], LINE)


def _records(lines: ByteLines, first: list[ReadResult]) -> Iterator[ReadResult]:
    yield from first
    while (data := lines.next()) is not None:
        number = lines.number
        if not data:
            yield _too_long(lines)
            continue
        if not data.strip():
            continue
        value, problem = _parse(data)
        if problem:
            yield ReadResult(number, None, [FieldError(JSON, problem)], LINE)
        elif not isinstance(value, dict):
            error = FieldError(JSON, f"{_kind(value)}, not an object")
            yield ReadResult(number, None, [error], LINE)
        else:
            yield _record(number, value)


_KEYS = frozenset(COLUMNS)


def _record(number: int, obj: dict[str, object]) -> ReadResult:
    errors = [FieldError(key, "given twice") for key in getattr(obj, "doubled", ())]
    fields: dict[str, object] = {}
    nested: dict[str, object] = {}
    for key, value in obj.items():
        if value is None:
            if key not in _KEYS and key != HASHES:
                errors.append(FieldError(key, "unknown key"))
        elif key in _KEYS:
            # A video hash may be a list of frames; no other field is a list or object.
            if type(value) is dict or (type(value) is list and key != "video"):
                errors.append(FieldError(key, f"expected a plain value, got {_kind(value)}"))
            else:
                fields[key] = value
        elif key == HASHES:
            nested = _nested(value, errors)
        else:
            errors.append(FieldError(key, "unknown key"))
    labels = {}
    for name, value in nested.items():
        if name in fields and not same_hash(name, fields[name], value):
            errors.append(FieldError(name, f"given differently here and in {HASHES}.{name}"))
            continue
        if name not in fields:
            labels[name] = f"{HASHES}.{name}"
        fields[name] = value
    return checked(number, LINE, fields, errors, labels=labels)


def _nested(value: object, errors: list[FieldError]) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(
            FieldError(HASHES, f"expected an object of hashes by type, got {_kind(value)}")
        )
        return {}
    errors.extend(FieldError(f"{HASHES}.{k}", "given twice") for k in getattr(value, "doubled", ()))
    hashes = {}
    for name, hash_value in value.items():
        if name not in HASH_TYPES:
            known = ", ".join(HASH_TYPES)
            errors.append(FieldError(f"{HASHES}.{name}", f"unknown hash type; known: {known}"))
        elif hash_value is not None:
            hashes[name] = hash_value
    return hashes


# --- writing -----------------------------------------------------------------------------


def line(record: EntryRecord) -> str:
    fields = record.as_fields()
    text = json.dumps(
        {name: fields.get(name) for name in COLUMNS}, ensure_ascii=False, separators=(",", ":")
    )
    return text.translate(_LINE_BREAKS) if not text.isascii() else text


def write(records: Iterable[EntryRecord], stream: BinaryIO) -> int:
    pending: list[str] = []
    count = 0
    for record in records:
        pending.append(line(record))
        count += 1
        if len(pending) >= _FLUSH_LINES:
            stream.write(("\n".join(pending) + "\n").encode("utf-8"))
            pending.clear()
    if pending:
        stream.write(("\n".join(pending) + "\n").encode("utf-8"))
    return count
