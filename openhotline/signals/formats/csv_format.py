"""CSV hash lists: a header row of column names, then one entry a record.

Columns are the hash type names (md5, sha1, sha256, pdq, video, photodna) and the
metadata fields of `EntryRecord` (META_FIELDS). Reading takes any subset in any order
(names are matched without case or surrounding spaces); unknown, duplicate and unnamed
columns make the file unreadable (FormatError naming them), since a misspelt column would
silently drop its data. A UTF-8 byte order mark is dropped. Writing gives every column,
in a stable order: hashes, then META_FIELDS. Booleans are true/false or empty; dates are
ISO 8601; a video hash is its multi-line vPDQ text in one quoted cell.

Positions are physical lines (split on LF) where a record starts, so a record after a
quoted multi-line cell is reported at its own first line. A record is a bad row, never the
end of the file, when it:
  - has bytes that are not UTF-8 (each such cell is named);
  - has more or fewer cells than the header has columns;
  - is malformed CSV (read in strict mode: a quote not doubled, a quoted cell not closed);
  - is longer than `max_row_bytes` (4 MiB: some 46,000 video frames).
When a record spanning several lines is malformed or too long, only its first line is
lost: the lines after it are read again as records of their own (at most once each), so
one stray opening quote cannot swallow the rows after it.

Formula injection (CSV injection): a spreadsheet runs a cell starting with = + - @ (and
tab or CR, which some strip first) as a formula. On export such a cell gets a leading
apostrophe, which spreadsheets show as text. On import one leading apostrophe is dropped
from a cell that is apostrophes followed by one of those characters. To keep this exact,
export also adds an apostrophe to a cell that already is apostrophes followed by one of
them: "'=x" is written "''=x" and read back as "'=x". Only such cells are touched;
"'abc" is left alone both ways. No value of a non-text column starts with those
characters except a PhotoDNA hash, whose base64 may start with "+": it is guarded the
same way and base64 has no apostrophe, so it comes back exactly. A file from another tool
that guards the same way (OWASP's advice) reads back as intended; one whose text really
starts with an apostrophe before "=" loses that apostrophe.
"""

import csv
import io
from collections import deque
from collections.abc import Iterable, Iterator
from typing import BinaryIO, NamedTuple

from openhotline.signals.formats.base import (
    COLUMNS,
    LINE,
    MAX_ROW_BYTES,
    ROW,
    ByteLines,
    FormatError,
    ReadResult,
    checked,
)
from openhotline.signals.records import EntryRecord, FieldError
from openhotline.signals.types import HASH_TYPES

FORMULA_STARTS = frozenset("=+-@\t\r")
# A cell starting with anything else never needs the guard (checked first: the members'
# Hash List guards millions of cells).
_GUARD_FIRST = FORMULA_STARTS | {"'"}
_FLUSH_CHARS = 1 << 16


# --- the formula guard -------------------------------------------------------------------


def _needs_guard(text: str) -> bool:
    if text[:1] not in _GUARD_FIRST:
        return False
    rest = text.lstrip("'")
    return bool(rest) and rest[0] in FORMULA_STARTS


def guard(text: str) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if _needs_guard(text) else text


def unguard(text: str) -> str:
    """The text `guard` was given."""
    return text[1:] if text[:1] == "'" and _needs_guard(text) else text


# --- reading -----------------------------------------------------------------------------


class _RowTooLong(Exception):
    pass


class _Line(NamedTuple):
    number: int
    text: str
    size: int  # in bytes; -1 for a line over the limit, skipped
    replayed: bool


class _Lines:
    """The decoded lines the csv module reads, with the lines of the record being read
    kept so that they can be read again."""

    def __init__(self, source: ByteLines, limit: int) -> None:
        self._source = source
        self.limit = limit
        self._replay: deque[_Line] = deque()
        self.row: list[_Line] = []
        self._size = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        if self._replay:
            line = self._replay.popleft()
        else:
            data = self._source.next()
            if data is None:
                raise StopIteration
            number = self._source.number
            if not data:
                line = _Line(number, "", -1, False)
            else:
                # Bytes that are not UTF-8 become lone surrogates, found again per cell.
                line = _Line(number, data.decode("utf-8", "surrogateescape"), len(data), False)
        self.row.append(line)
        self._size += line.size
        if line.size < 0 or self._size > self.limit:
            raise _RowTooLong
        return line.text

    def start_row(self) -> None:
        self.row.clear()
        self._size = 0

    @property
    def start(self) -> int:
        return self.row[0].number

    def read_again(self) -> str:
        """Queue the current record's lines after its first to be read again; says which
        lines are given up (those already read again once)."""
        rest = self.row[1:]
        again = [line._replace(replayed=True) for line in rest if not line.replayed]
        self._replay.extendleft(reversed(again))
        lost = [line.number for line in rest if line.replayed]
        if not lost:
            return ""
        span = f"line {lost[0]}" if len(lost) == 1 else f"lines {lost[0]}-{lost[-1]}"
        return f"; {span} could not be read"


def read(stream: BinaryIO, max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[ReadResult]:
    """Check the header now (FormatError); the records come as the iterator is read."""
    if csv.field_size_limit() < max_row_bytes:
        # The limit is process-wide; it is only ever raised, and rows are limited here.
        csv.field_size_limit(max_row_bytes)
    lines = _Lines(ByteLines(stream, max_row_bytes), max_row_bytes)
    reader = csv.reader(lines, strict=True)
    columns = _header(reader, lines)
    return _records(reader, lines, columns)


def _header(reader: Iterator[list[str]], lines: _Lines) -> list[str]:
    while True:
        lines.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            raise FormatError("the file is empty: no header row") from None
        except _RowTooLong:
            raise FormatError(f"the header on line {lines.start} is too long") from None
        except csv.Error as exc:
            if "new-line character" in str(exc):
                raise FormatError("lines end in CR alone: save the file with LF or CRLF") from None
            raise FormatError(f"the header on line {lines.start} is not valid CSV: {exc}") from None
        if any(cell.strip() for cell in cells):
            break
    where = f"line {lines.start}"
    if any(_bad_bytes(cell) for cell in cells):
        raise FormatError(f"the header ({where}) is not UTF-8 text")
    columns = [cell.strip().lower() for cell in cells]
    unnamed = [str(i) for i, name in enumerate(columns, start=1) if not name]
    if unnamed:
        raise FormatError(f"the header ({where}) has unnamed columns: {', '.join(unnamed)}")
    unknown = [
        cell.strip() for cell, name in zip(cells, columns, strict=True) if name not in COLUMNS
    ]
    if unknown:
        raise FormatError(
            f"unknown columns in the header: {', '.join(repr(c) for c in unknown)}; "
            f"known: {', '.join(COLUMNS)}"
        )
    doubled = sorted({name for name in columns if columns.count(name) > 1})
    if doubled:
        raise FormatError(f"columns given twice in the header: {', '.join(doubled)}")
    if not set(columns).intersection(HASH_TYPES):
        raise FormatError(f"the header has no hash column ({', '.join(HASH_TYPES)})")
    return columns


def _records(
    reader: Iterator[list[str]], lines: _Lines, columns: list[str]
) -> Iterator[ReadResult]:
    while True:
        lines.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _RowTooLong:
            start = lines.start
            lost = lines.read_again()
            hint = " (a quoted cell that is never closed?)" if len(lines.row) > 1 else ""
            message = f"the record is longer than {_size(lines)}{hint}{lost}"
            yield ReadResult(start, None, [FieldError(ROW, message)], LINE)
            continue
        except csv.Error as exc:
            start = lines.start
            lost = lines.read_again()
            yield ReadResult(start, None, [FieldError(ROW, f"not valid CSV: {exc}{lost}")], LINE)
            continue
        if not cells:
            continue  # a blank line
        if len(cells) != len(columns):
            error = FieldError(
                ROW, f"{len(cells)} cells, but the header has {len(columns)} columns"
            )
            yield ReadResult(lines.start, None, [error], LINE)
            continue
        result = _record(lines.start, columns, cells)
        if result is not None:
            yield result


def _size(lines: _Lines) -> str:
    limit = lines.limit
    return f"{limit // (1 << 20)} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


def _bad_bytes(cell: str) -> str | None:
    """Why a cell read with surrogateescape is not UTF-8, or None."""
    if cell.isascii():
        return None
    try:
        cell.encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = ord(cell[exc.start]) - 0xDC00
        return f"not valid UTF-8 (byte 0x{byte:02x} at character {exc.start + 1})"
    return None


def _record(position: int, columns: list[str], cells: list[str]) -> ReadResult | None:
    """The record of a row's cells; None for a row of empty cells."""
    fields: dict[str, object] = {}
    errors: list[FieldError] | None = None
    hash_unreadable = False
    for name, cell in zip(columns, cells, strict=True):
        if not cell or cell.isspace():
            continue
        if not cell.isascii() and (problem := _bad_bytes(cell)):
            errors = errors or []
            errors.append(FieldError(name, problem))
            hash_unreadable = hash_unreadable or name in HASH_TYPES
            continue
        fields[name] = unguard(cell) if cell[0] == "'" else cell
    if not fields and not errors:
        return None
    return checked(position, LINE, fields, errors or [], hash_unreadable=hash_unreadable)


# --- writing -----------------------------------------------------------------------------


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return guard(str(value))


def write(records: Iterable[EntryRecord], stream: BinaryIO) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        fields = record.as_fields()
        writer.writerow([cell(fields.get(name)) for name in COLUMNS])
        count += 1
        if buffer.tell() > _FLUSH_CHARS:
            _flush(buffer, stream)
    _flush(buffer, stream)
    return count


def _flush(buffer: io.StringIO, stream: BinaryIO) -> None:
    stream.write(buffer.getvalue().encode("utf-8"))
    buffer.seek(0)
    buffer.truncate()
