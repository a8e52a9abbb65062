"""Writing VICS files: records as Project VIC media objects, in version 1.3 or 2.0.

MediaID is a number (the external_id when it is one, else the media's position in the
file), MD5 and SHA1 are in upper case, booleans are "true"/"false" text, as the VICS
files of other tools have them; PhotoDNA sits at the top level in 1.x and in
AlternativeHashes in 2.0; what VICS has no field for travels as "@openhotline.<field>"
annotations. Written in batches with orjson: a members' Hash List has millions of entries.
"""

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import fields as dataclass_fields
from typing import Any, BinaryIO, cast

import orjson

from openhotline.signals.formats.base import FormatError
from openhotline.signals.formats.vics_tables import (
    ANNOTATED,
    ANNOTATION,
    CONTEXTS,
    HASH_NAMES,
    VERSIONS,
)
from openhotline.signals.records import EntryRecord

_MEDIA_ID = re.compile(r"0|[1-9]\d{0,17}")  # fits an Edm.Int64
_FLUSH_RECORDS = 256

_DEFAULTS = {f.name: f.default for f in dataclass_fields(EntryRecord)}


def media(record: EntryRecord, position: int, version: str) -> dict[str, object]:
    """The VICS media object of a record, the `position`-th of its file."""
    return media_of(record.__dict__, position, version)


def media_of(fields: Mapping[str, Any], position: int, version: str) -> dict[str, object]:
    """`media` from fields named as EntryRecord's (a missing one is its default; dates may
    be ISO text): the members' Hash List writes millions without building records."""
    get = fields.get
    out: dict[str, object] = {}
    annotations: dict[str, object] = {}
    external_id = get("external_id", "")
    if _MEDIA_ID.fullmatch(external_id):
        out["MediaID"] = int(external_id)
    else:
        out["MediaID"] = position
        annotations["external_id"] = external_id
    if (category := get("vics_category")) is not None:
        out["Category"] = category
    hashes = get("hashes") or {}
    for name in ("md5", "sha1"):
        if name in hashes:
            out[HASH_NAMES[name]] = hashes[name].upper()
    alternative = ["sha256", "pdq", "video"]
    if version.startswith("1."):
        if "photodna" in hashes:
            out["PhotoDNA"] = hashes["photodna"]
    else:
        alternative.insert(0, "photodna")
    for vics, value in (
        ("VictimIdentified", get("victim_identified")),
        ("OffenderIdentified", get("offender_identified")),
    ):
        if value is not None:
            out[vics] = "true" if value else "false"
    if series := get("series"):
        out["Series"] = series
    entries = [
        {"HashName": HASH_NAMES[name], "HashValue": hashes[name]}
        for name in alternative
        if name in hashes
    ]
    if entries:
        out["AlternativeHashes"] = entries
    for name in ANNOTATED:
        default = _DEFAULTS[name]
        value = get(name, default)
        if value != default:
            annotations[name] = value.isoformat() if isinstance(value, dt.date) else value
    out.update({ANNOTATION + name: value for name, value in annotations.items()})
    return out


def write(
    records: Iterable[EntryRecord] | Iterable[Mapping[str, Any]],
    stream: BinaryIO,
    version: str = "2.0",
) -> int:
    """A VICS file of `records`: EntryRecords, or field mappings as `media_of` takes."""
    if version not in CONTEXTS:
        raise FormatError(f"unknown VICS version {version!r}; known: {', '.join(VERSIONS)}")
    key, context = CONTEXTS[version]
    stream.write(f'{{{json.dumps(key)}:{json.dumps(context)},"value":['.encode())
    pending: list[bytes] = []
    count = 0
    for count, record in enumerate(records, start=1):
        # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) does
        # for these values (no floats), three times faster: a Hash List has millions.
        fields: Mapping[str, Any] = (
            record.__dict__ if isinstance(record, EntryRecord) else cast(Mapping[str, Any], record)
        )
        pending.append(orjson.dumps(media_of(fields, count, version)))
        if len(pending) >= _FLUSH_RECORDS:
            _flush(pending, stream, first=count == len(pending))
    if pending:
        _flush(pending, stream, first=count == len(pending))
    stream.write(b"\n]}\n")
    return count


def _flush(pending: list[bytes], stream: BinaryIO, *, first: bool) -> None:
    lead = b"\n" if first else b",\n"
    stream.write(lead + b",\n".join(pending))
    pending.clear()
