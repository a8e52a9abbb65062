"""What every format shares: the result of reading one row, the error for a file that
cannot be read at all, a chunked line reader with a size limit, and the step from loose
fields to a checked record.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from openhotline.signals.records import (
    META_FIELDS,
    EntryRecord,
    FieldError,
    RecordErrors,
    build_record,
)
from openhotline.signals.types import HASH_TYPES

# The fields of a record as CSV columns and JSON keys, in the order they are written.
COLUMNS = (*HASH_TYPES, *META_FIELDS)

# A row (a CSV record, a JSON line, a VICS media object) longer than this is a bad row.
# A video hash is one ~90-byte line a frame: 4 MiB holds some 46,000 frames, over 12 hours
# at vPDQ's default of a frame a second.
MAX_ROW_BYTES = 4 << 20
CHUNK_BYTES = 1 << 16

LINE = "line"
RECORD = "record"

# Field names for errors that are not about one field.
ROW = "row"
JSON = "json"
HASHES = "hashes"


class FormatError(ValueError):
    """The file as a whole cannot be read: nothing of it was (or will be) read."""


@dataclass(frozen=True)
class ReadResult:
    """One row of a file: a record, or the errors that kept it from being one.

    `position` is 1-based: the physical line where the row starts (CSV, JSON Lines) or
    the index of the media object in the file (VICS); `unit` says which.
    """

    position: int
    record: EntryRecord | None
    errors: list[FieldError] = field(default_factory=list)
    unit: str = LINE

    @property
    def where(self) -> str:
        return f"{self.unit} {self.position}"

    @property
    def ok(self) -> bool:
        return self.record is not None


def checked(
    position: int,
    unit: str,
    fields: Mapping[str, object],
    errors: list[FieldError],
    *,
    labels: Mapping[str, str] | None = None,
    hash_unreadable: bool = False,
) -> ReadResult:
    """A result from fields for `build_record` plus the errors the format already found.

    `labels` renames build_record's field names to the names the file uses; with
    `hash_unreadable` (a hash the format itself could not read) a "no hash given" error is
    not added on top.
    """
    record = None
    try:
        record = build_record(fields)
    except RecordErrors as exc:
        for error in exc.errors:
            if error.field == HASHES and hash_unreadable:
                continue
            name = labels.get(error.field, error.field) if labels else error.field
            errors.append(FieldError(name, error.message) if name != error.field else error)
    if errors:
        return ReadResult(position, None, errors, unit)
    return ReadResult(position, record, [], unit)


def same_hash(name: str, a: object, b: object) -> bool:
    """Whether two values are the same hash (either may be unreadable)."""
    if a == b:
        return True
    hash_type = HASH_TYPES[name]
    return (
        hash_type.is_valid(a)
        and hash_type.is_valid(b)
        and (hash_type.normalize(a) == hash_type.normalize(b))
    )


_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
UTF8_BOM = b"\xef\xbb\xbf"
_LONGEST_BOM = b"\xff\xfe\x00\x00"


def check_start(head: bytes) -> None:
    """FormatError when the first bytes of a file show it is not UTF-8 text."""
    for bom, name in _BOMS.items():
        if head.startswith(bom):
            raise FormatError(f"the file is {name} text; save it as UTF-8")
    if b"\x00" in head[:4096]:
        raise FormatError("the file is not UTF-8 text (it has NUL bytes: UTF-16, or binary?)")


class ByteLines:
    """The physical lines of a binary stream, read in chunks and numbered from 1.

    `next()` gives the bytes of the next line with its line end, `number` being its
    number; for a line longer than `limit` bytes it gives b"" (the line is skipped without
    being held in memory); at the end, None. A UTF-8 byte order mark at the very start is
    dropped. Only b"\\n" ends a line.
    """

    def __init__(self, stream: BinaryIO, limit: int = MAX_ROW_BYTES) -> None:
        self._stream = stream
        self.limit = limit
        self._buffer = b""
        self._at = 0  # where the next line starts in the buffer
        self._eof = False
        self._started = False
        self.number = 0

    def _read(self) -> bytes:
        chunk = self._stream.read(CHUNK_BYTES)
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"expected a binary stream, read {type(chunk).__name__}")
        if not chunk:
            self._eof = True
        return bytes(chunk)

    def _fill(self) -> None:
        """Keep what is left of the buffer and add a chunk."""
        data = self._buffer[self._at :] + self._read()
        # The start is checked once there are enough bytes to tell.
        while not self._started and len(data) < len(_LONGEST_BOM) and not self._eof:
            data += self._read()
        if not self._started:
            self._started = True
            check_start(data[:4096])
            data = data.removeprefix(UTF8_BOM)
        self._buffer, self._at = data, 0

    def next(self) -> bytes | None:
        searched = self._at
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                start, self._at = self._at, end + 1
                self.number += 1
                if end + 1 - start > self.limit:
                    return b""
                return self._buffer[start : end + 1]
            pending = len(self._buffer) - self._at
            if pending > self.limit:
                self.number += 1
                self._skip_rest_of_line()
                return b""
            if self._eof:
                if not pending:
                    return None
                self.number += 1
                line = self._buffer[self._at :]
                self._buffer, self._at = b"", 0
                return line
            searched = pending
            self._fill()

    def _skip_rest_of_line(self) -> None:
        self._buffer, self._at = b"", 0
        while not self._eof:
            chunk = self._read()
            end = chunk.find(b"\n")
            if end >= 0:
                self._buffer = chunk[end + 1 :]
                return
