"""Hash list files in and out: CSV, JSON Lines and VICS (Project VIC's OData JSON, 1.x
and 2.0), streamed both ways in constant memory, in pure Python (no database).

    for result in read("csv", stream):          # FormatError: the file cannot be read
        if result.record is None:
            print(result.where, result.errors)  # "line 17", [FieldError("md5", ...)]
    count = write("vics", records, stream, vics_version="1.3")

`read` looks at the start of the file before it returns, so a file that cannot be read
at all (not UTF-8 at the start, a CSV header with unknown, duplicate or unnamed columns,
not JSON, not VICS, empty) raises FormatError at once. After that every row comes as a
ReadResult, good or bad, and nothing is raised for a bad row: a row that is not UTF-8,
not JSON or too long is a bad row too. See each module for its format's rules.
"""

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from openhotline.signals.formats import csv_format, jsonl_format, vics
from openhotline.signals.formats.base import MAX_ROW_BYTES, FormatError, ReadResult
from openhotline.signals.records import EntryRecord

__all__ = ["FORMATS", "MAX_ROW_BYTES", "FormatError", "ReadResult", "read", "write"]

FORMATS = ("csv", "jsonl", "vics")
VICS_VERSIONS = vics.VERSIONS


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def read(fmt: str, stream: BinaryIO, *, max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[ReadResult]:
    """The rows of a binary stream in format `fmt`, read as they are asked for."""
    _check(fmt)
    if fmt == "csv":
        return csv_format.read(stream, max_row_bytes)
    if fmt == "jsonl":
        return jsonl_format.read(stream, max_row_bytes)
    return vics.read(stream, max_row_bytes)


def write(
    fmt: str, records: Iterable[EntryRecord], stream: BinaryIO, *, vics_version: str = "2.0"
) -> int:
    """Write records to a binary stream as they come; the number written."""
    _check(fmt)
    if fmt == "csv":
        return csv_format.write(records, stream)
    if fmt == "jsonl":
        return jsonl_format.write(records, stream)
    return vics.write(records, stream, vics_version)
