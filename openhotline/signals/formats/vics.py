"""VICS: Project VIC's OData JSON hash sets, data models 1.x and 2.0, streamed with ijson.

The shape (no public specification was at hand; this follows the tools that read and
write these files, see Sources):

    {"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
     "value": [{"MediaID": 1, "Category": 1, "MD5": "...", "SHA1": "...",
                "PhotoDNA": "<base64>", "VictimIdentified": "false", ...}, ...]}

    {"@odata.context":
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
     "value": [{"MediaID": 1, "Category": 1, "MD5": "...", "SHA1": "...",
                "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": "..."}],
                "MediaFiles": [{"FileName": "...", "MD5": "...", ...}], ...}, ...]}

A "#Cases" context (`value` is cases, each with a `Media` array, as Griffeye and
forensic tools export) is read too: the media of every case, in order. The annotation
(1.x `odata.metadata`, 2.0 `@odata.context`) must come before `value`, as OData requires.

Reading (field names without case, as IPED reads them; unknown fields are ignored, since
VICS is extensible):
  MediaID -> external_id (a number or text);
  Category -> vics_category, 0-4 (Project VIC's US scale), only in 1.x files and 2.0
    files of the Default or US profile: another profile's scale (the UK one, say) is
    not the US one, so its Category is left out rather than misread;
  MD5, SHA1 -> md5, sha1 (VICS writes them in upper case; stored in lower case);
  PhotoDNA (top level in 1.x), and top-level fields or AlternativeHashes entries
    {"HashName", "HashValue"} named MD5, SHA1, SHA256 (or SHA-256), PDQ, PhotoDNA or
    vPDQ -> those hashes (the same hash given twice, differently, is an error); an MD5
    found only in MediaFiles is taken when its files agree on it;
  VictimIdentified, OffenderIdentified -> the same (true/false, as JSON or as text);
  Series -> series (text, a number, or an object with a Name);
  DateUpdated -> first_seen (its day): the newest date VICS gives, so it only says the
    source knew the media by then; an OpenHotline date (below) comes first.
  IsDistributed, Tags, Comments, IsPrecategorized, MediaFiles (but for the MD5 above),
    Exifs and the rest are not kept.

What VICS has no field for travels as instance annotations "@openhotline.<field>"
(grade, uk_category, interpol_baseline, age_band, non_photographic, confirmed_by_police,
first_seen, provenance, retired, retired_reason, pdq_quality, and external_id when it is
not a whole number), which OData readers ignore; with them a VICS file carries every
field from one OpenHotline to another. SHA-256, PDQ and video (vPDQ) hashes go in
AlternativeHashes in both versions; PhotoDNA goes at the top level in 1.x (where 1.x
readers look) and in AlternativeHashes in 2.0. Writing gives MediaID as a number (the
external_id when it is one, else the media's position in the file), MD5 and SHA1 in upper
case, and booleans as "true"/"false" text, as the VICS files of these tools have them.

Positions are the 1-based index of the media object in the file ("record 17"). A media
object is a bad record, and the reading goes on, when a field in it is wrong, when it is
not an object, when a field kept from it has bytes that are not UTF-8 (they are read as
U+FFFD so that one bad byte does not stop the parser; a real U+FFFD in a kept field is
taken for one), when it is longer than `max_row_bytes` or nests deeper than MAX_DEPTH
(it is skipped, not held). These end the reading with one last bad record at that place,
the records before it standing, since nothing after them can be found again in JSON: a
syntax error, a file cut short, a single value over twice `max_row_bytes`, and a number
of more digits than Python converts (sys.get_int_max_str_digits: ijson's C backend fails
on those in a way that can crash the process, so they never reach it).

Sources (read for the field names and shapes, 2025): IPED's HashDBTool and
ProjectVICHashLookup (sepinf-inc/IPED: the 1.3 and 2.0 context URLs, MD5/SHA1/PhotoDNA,
AlternativeHashes HashName/HashValue, text booleans, case-insensitive names); the
Clees4All VICS 2.0 exporter (MediaID, Category, MD5, SHA1, VictimIdentified,
OffenderIdentified, IsDistributed, Series, Tags, DateUpdated, MediaSize, MediaFiles with
FileName/FilePath/Created/Written/Accessed, #Cases with CaseID and Media); public scripts
that make Griffeye VICS 2.0 shells ("2.0.xml/US/$metadata#Cases"). Guesses: the HashName
values PDQ, SHA256 and vPDQ (only PhotoDNA was seen), and that "Default"/"US" are the
profiles using the US 0-4 categories.
"""

import codecs
import datetime as dt
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any, BinaryIO, cast

import ijson
import orjson

from openhotline.signals.formats.base import (
    JSON,
    MAX_ROW_BYTES,
    RECORD,
    UTF8_BOM,
    FormatError,
    ReadResult,
    check_start,
    checked,
    same_hash,
)
from openhotline.signals.records import EntryRecord, FieldError
from openhotline.signals.types import HASH_TYPES

CONTEXT_KEYS = ("odata.metadata", "@odata.context")
# What IPED checks for, character for character.
CONTEXTS = {
    "1.3": ("odata.metadata", "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"),
    "2.0": (
        "@odata.context",
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
    ),
}
VERSIONS = tuple(CONTEXTS)
ANNOTATION = "@openhotline."
# Fields that travel as annotations; external_id only when MediaID cannot carry it.
ANNOTATED = (
    "grade",
    "uk_category",
    "interpol_baseline",
    "age_band",
    "non_photographic",
    "confirmed_by_police",
    "first_seen",
    "provenance",
    "retired",
    "retired_reason",
    "pdq_quality",
)
# Hash names as VICS writes them (top-level field or AlternativeHashes HashName).
HASH_NAMES = {
    "md5": "MD5",
    "sha1": "SHA1",
    "sha256": "SHA256",
    "pdq": "PDQ",
    "photodna": "PhotoDNA",
    "video": "vPDQ",
}
_HASH_BY_NAME = {vics.lower(): name for name, vics in HASH_NAMES.items()} | {"video": "video"}
_US_PROFILES = {None, "default", "us"}
_MODEL = re.compile(
    r"DataModels/(?P<major>\d+)(?:\.\d+)*\.xml(?:/(?P<profile>[^/#$]+))?(?:/\$metadata)?"
    r"#(?P<entity>\w+)",
    re.IGNORECASE,
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MEDIA_ID = re.compile(r"0|[1-9]\d{0,17}")  # fits an Edm.Int64
_HEAD_BYTES = 1 << 16
_FLUSH_RECORDS = 256


class _Unreadable(Exception):
    """The rest of the file cannot be read; the message says why."""


@dataclass(frozen=True)
class Model:
    context: str
    major: int
    profile: str | None
    cases: bool

    @property
    def us_categories(self) -> bool:
        return self.major == 1 or self.profile in _US_PROFILES


# --- the bytes ijson reads ---------------------------------------------------------------


class _Source:
    """The file as ijson reads it, with three guards.

    Bytes that are not UTF-8 become U+FFFD (the parser would stop at them). A run of
    digits longer than Python converts to an int (sys.get_int_max_str_digits) is never
    handed on: ijson's C backend fails on it in a way that can crash the process, so the
    reading stops before it. And no more than `hard_limit` bytes are handed on without
    the reader marking progress, so that no single token is held whole however long.
    """

    def __init__(self, stream: BinaryIO, hard_limit: int) -> None:
        self._stream = stream
        self._hard_limit = hard_limit
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._eof = False
        self._digits = sys.get_int_max_str_digits()
        self._long_number = re.compile(rb"(?<![0-9])[0-9]{%d}" % (self._digits + 1))
        self._tail_digits = 0
        self.stop: str | None = None
        self.replaced = False
        self.total = 0
        self.mark = 0
        raw = b""
        while len(raw) < _HEAD_BYTES and not self._eof:
            raw += self._raw_chunk()
        if not raw.strip() or raw.strip() == UTF8_BOM:
            raise FormatError("the file is empty")
        check_start(raw)
        self.head = self._clean(raw.removeprefix(UTF8_BOM))
        self._pending = self.head

    def _raw_chunk(self) -> bytes:
        chunk = self._stream.read(_HEAD_BYTES)
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError(f"expected a binary stream, read {type(chunk).__name__}")
        if not chunk:
            self._eof = True
        return bytes(chunk)

    def _clean(self, raw: bytes) -> bytes:
        text = self._decoder.decode(raw, final=self._eof)
        if "\ufffd" in text:
            self.replaced = True
        data = text.encode("utf-8")
        if self._digits:
            data = self._cut_long_number(data)
        return data

    def _cut_long_number(self, data: bytes) -> bytes:
        lead = len(data) - len(data.lstrip(b"0123456789"))
        if self._tail_digits + lead > self._digits:
            cut: int | None = 0
        else:
            found = self._long_number.search(data)
            cut = found.start() if found else None
        if cut is not None:
            self.stop = f"a number of over {self._digits} digits"
            return data[:cut]
        if lead == len(data):
            self._tail_digits += lead
        else:
            self._tail_digits = len(data) - len(data.rstrip(b"0123456789"))
        return data

    def read(self, size: int = -1) -> bytes:
        if self.total - self.mark > self._hard_limit:
            raise _Unreadable(
                f"over {self._hard_limit} bytes without the end of a value; "
                "the rest of the file is not read"
            )
        while not self._pending and not self._eof and self.stop is None:
            self._pending = self._clean(self._raw_chunk())
        if not self._pending and self.stop is not None:
            raise _Unreadable(f"{self.stop}: the rest of the file is not read")
        if size < 0:
            size = len(self._pending)
        out, self._pending = self._pending[:size], self._pending[size:]
        self.total += len(out)
        return out


def _model(source: _Source) -> Model:
    """The data model the start of a file names; FormatError when it is not VICS."""
    head = source.head
    events = ijson.basic_parse(io.BytesIO(head))
    context: str | None = None
    depth = 0
    try:
        first = next(events, None)
        if first is None or first[0] != "start_map":
            raise FormatError(
                "not a VICS file: expected a JSON object with odata.metadata or @odata.context"
            )
        for event, value in events:
            if event in _STARTS:
                depth += 1
            elif event in _ENDS:
                depth -= 1
            if depth or event != "map_key":
                continue
            key = str(value)
            if key.lower() in CONTEXT_KEYS:
                event, value = next(events)
                if event != "string":
                    raise FormatError(f"not a VICS file: {key} is not text")
                context = str(value)
            elif key == "value":
                if context is None:
                    raise FormatError(
                        "not a VICS file: no odata.metadata or @odata.context before value"
                    )
                if next(events)[0] != "start_array":
                    raise FormatError("not a VICS file: value is not an array")
                break
        else:
            if context is None:
                raise FormatError("not a VICS file: no odata.metadata or @odata.context")
            raise FormatError("not a VICS file: no value array")
    except ijson.JSONError as exc:
        message = _json_problem(exc)
        if context is None and source.stop is not None and len(head) < _HEAD_BYTES:
            raise FormatError(f"not a VICS file: it starts with {source.stop}") from None
        if context is None and len(head) >= _HEAD_BYTES and "premature EOF" in message:
            raise FormatError(
                "not a VICS file: no odata.metadata or @odata.context near the start"
            ) from None
        if context is None:
            raise FormatError(f"not JSON: {message}") from None
    except StopIteration:
        raise FormatError("not a VICS file: it ends early") from None
    assert context is not None  # every path above set it or raised
    match = _MODEL.search(context)
    if match is None:
        raise FormatError(f"not a Project VIC data model: {context!r}")
    major = int(match["major"])
    if major not in (1, 2):
        raise FormatError(f"VICS data model {major}.x is not supported (1.x and 2.0 are)")
    entity = match["entity"].lower()
    if entity not in ("media", "cases"):
        raise FormatError(f"VICS files of {match['entity']} are not hash sets (Media or Cases)")
    profile = match["profile"].lower() if match["profile"] else None
    return Model(context, major, profile, cases=entity == "cases")


def _json_problem(exc: Exception) -> str:
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]


# --- reading -----------------------------------------------------------------------------


def read(stream: BinaryIO, max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[ReadResult]:
    """Check the start of the file now (FormatError); media come as the iterator is read."""
    source = _Source(stream, 2 * max_row_bytes + _HEAD_BYTES)
    model = _model(source)
    return _media(source, model, max_row_bytes)


def _media(source: _Source, model: Model, limit: int) -> Iterator[ReadResult]:
    index = 0
    try:
        for item, problem in _objects(source, model.cases, limit):
            index += 1
            if problem is not None:
                yield ReadResult(index, None, [FieldError(JSON, problem)], RECORD)
            else:
                yield _record(index, item, model, check_bytes=source.replaced)
    except _Unreadable as exc:
        yield ReadResult(index + 1, None, [FieldError(JSON, str(exc))], RECORD)
    except ijson.JSONError as exc:
        problem = _json_problem(exc)
        if "premature EOF" in problem:
            message = "the file ends in the middle of this media object (cut short?)"
        else:
            message = f"not valid JSON: {problem}; the rest of the file is not read"
        yield ReadResult(index + 1, None, [FieldError(JSON, message)], RECORD)


_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})
# How deep a media object may nest: VICS nests three levels (MediaFiles, an entry, a
# value). ijson's items() keeps a prefix string for every level, which is quadratic in
# the depth; the objects are built here instead, and deeper ones skipped.
MAX_DEPTH = 32


def _objects(source: _Source, cases: bool, limit: int) -> Iterator[tuple[object, str | None]]:
    """(media object, None) or (None, why it was skipped) for each media object."""
    target = ["value", "item", "media", "item"] if cases else ["value", "item"]
    path: list[str] = []
    events = ijson.basic_parse(source)
    for event, value in events:
        source.mark = source.total
        if event == "map_key":
            path[-1] = value.lower()
        elif event in _ENDS:
            path.pop()
        elif path == target:
            yield _build(event, value, events, source, limit)
        elif event == "start_map":
            path.append("")
        elif event == "start_array":
            path.append("item")


def _build(
    event: str, value: Any, events: Iterator[tuple[str, Any]], source: _Source, limit: int
) -> tuple[object, str | None]:
    """The value that starts with (event, value), built from the events that follow."""
    if event not in _STARTS:
        return value, None
    start = source.total
    root: dict[str, object] | list[object] = {} if event == "start_map" else []
    stack: list[Any] = [root]
    key = ""
    problem = None
    for event, value in events:
        if source.total - start > limit:
            problem = f"the media object is longer than {limit} bytes"
            break
        if event == "map_key":
            key = value
        elif event in _STARTS:
            if len(stack) >= MAX_DEPTH:
                problem = f"the media object nests deeper than {MAX_DEPTH} levels"
                break
            child: Any = {} if event == "start_map" else []
            top = stack[-1]
            if type(top) is list:
                top.append(child)
            else:
                top[key] = child
            stack.append(child)
        elif event in _ENDS:
            stack.pop()
            if not stack:
                return root, None
        else:
            top = stack[-1]
            if type(top) is list:
                top.append(value)
            else:
                top[key] = value
    # Skip the rest of the object without keeping it. A break at a start event leaves
    # that container open but not on the stack; at an end event, one closed already.
    depth = len(stack) + (event in _STARTS) - (event in _ENDS)
    if not depth:
        return None, f"{problem}: skipped"
    del stack, root
    for event, _ in events:
        source.mark = source.total
        if event in _STARTS:
            depth += 1
        elif event in _ENDS:
            depth -= 1
            if not depth:
                break
    return None, f"{problem}: skipped"


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
            hash_type = _HASH_BY_NAME.get(str(hash_name).strip().lower().replace("-", ""))
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


# --- writing -----------------------------------------------------------------------------

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
