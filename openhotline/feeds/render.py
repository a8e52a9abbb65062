"""Feed rows written as JSON Lines, CSV or (for hashes) VICS, to any binary stream, one
row at a time: the same writers serve a page of a delta in memory and a ten-million-row
snapshot file on disk.

A row is (seq, op, key, data). JSON Lines: one object {"seq", "op", "key", "data"} per
line. CSV: `seq,op,key` then, for the Hash List, one column per hash type and metadata
field; for the other feeds, `data` as JSON. VICS (Hash List only): a Project VIC 2.0
media file whose MediaID is the entry's number; a removal is the media object as it was
listed, with "@openhotline.retired": true.
"""

import csv
import io
from collections.abc import Iterable
from typing import Any, BinaryIO, cast

import orjson

from openhotline.feeds.hash_fields import CATEGORY_FIELDS, FULL_FIELDS
from openhotline.feeds.models import FeedName
from openhotline.signals.formats import vics
from openhotline.signals.formats.csv_format import guard

Row = tuple[int, str, str, dict[str, Any]]
# A row whose data is JSON text already (a snapshot's stored items): JSON Lines only.
StoredRow = tuple[int, str, str, orjson.Fragment]

CONTENT_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "vics": "application/json",
}
HASH_COLUMNS = ("md5", "sha1", "sha256", "pdq", "photodna", "video", "pdq_quality")
_FLUSH = 1 << 16


class FormatRefused(ValueError):
    """This feed has no such format."""


def formats_of(feed: str) -> tuple[str, ...]:
    return ("jsonl", "csv", "vics") if feed == FeedName.HASH_LIST else ("jsonl", "csv")


def write(feed: str, fmt: str, rows: Iterable[Row] | Iterable[StoredRow], stream: BinaryIO) -> int:
    """Write `rows` to `stream`; returns how many."""
    if fmt not in formats_of(feed):
        raise FormatRefused(f"format must be one of {', '.join(formats_of(feed))} for {feed}")
    if fmt == "jsonl":
        return _jsonl(rows, stream)
    # Stored rows are made for JSON Lines only (exports.as_stored).
    decoded = cast(Iterable[Row], rows)
    if fmt == "csv":
        return _csv(feed, decoded, stream)
    return _vics(decoded, stream)


def to_bytes(feed: str, fmt: str, rows: Iterable[Row]) -> tuple[bytes, int]:
    out = io.BytesIO()
    count = write(feed, fmt, rows, out)
    return out.getvalue(), count


def _jsonl(rows: Iterable[Row | StoredRow], stream: BinaryIO) -> int:
    pending: list[bytes] = []
    size = count = 0
    for seq, op, key, data in rows:
        count += 1
        line = orjson.dumps(
            {"data": data, "key": key, "op": op, "seq": seq}, option=orjson.OPT_SORT_KEYS
        )
        pending.append(line)
        size += len(line) + 1
        if size >= _FLUSH:
            stream.write(b"\n".join(pending) + b"\n")
            pending, size = [], 0
    if pending:
        stream.write(b"\n".join(pending) + b"\n")
    return count


def _csv(feed: str, rows: Iterable[Row], stream: BinaryIO) -> int:
    hashes = feed == FeedName.HASH_LIST
    fields = (*HASH_COLUMNS, *CATEGORY_FIELDS, *FULL_FIELDS) if hashes else ("data",)
    commas = len(fields) + 2  # in a line whose cells need no quoting
    quoted = io.StringIO()
    writer = csv.writer(quoted, lineterminator="\n")
    # csv.writer leaves a lone CR unquoted when lines end in LF, and readers then split
    # the row there: a line with one has every cell quoted.
    all_quoted = csv.writer(quoted, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["seq", "op", "key", *fields])
    pending = [quoted.getvalue()]
    size = count = 0
    for seq, op, key, data in rows:
        count += 1
        # Keys and values go through the hash-list CSV's guard: a spreadsheet shows such a
        # cell, never runs it.
        if hashes:
            found = {**data.get("hashes", {}), **data}
            cells = [_cell(found.get(name)) for name in fields]
        else:
            cells = [guard(orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode())]
        line = f"{seq},{op},{guard(key)},{','.join(cells)}\n"
        # Joined by hand, as csv.writer would write it, unless a cell needs quoting: then
        # csv.writer writes that line (hashes and most metadata never do; twice as fast).
        if line.count(",") != commas or '"' in line or "\r" in line or line.count("\n") > 1:
            quoted.seek(0)
            quoted.truncate()
            (all_quoted if "\r" in line else writer).writerow([seq, op, guard(key), *cells])
            line = quoted.getvalue()
        pending.append(line)
        size += len(line)
        if size >= _FLUSH:
            stream.write("".join(pending).encode())
            pending, size = [], 0
    stream.write("".join(pending).encode())
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return guard(value if type(value) is str else str(value))


_REMOVED = {"retired": True, "retired_reason": "removed from the Hash List"}


def _vics(rows: Iterable[Row], stream: BinaryIO) -> int:
    # The feed's data is named as EntryRecord's fields (hash_list.record_of): it goes to
    # the VICS writer as it is, with the entry's number as MediaID.
    return vics.write(
        (
            {**data, "external_id": str(int(key)), **(_REMOVED if op == "remove" else {})}
            for _, op, key, data in rows
        ),
        stream,
        "2.0",
    )
