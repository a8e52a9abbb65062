"""The bytes of a VICS file as ijson reads them, and the media objects found in them.

`Source` hands the file to ijson with three guards (bytes that are not UTF-8 become
U+FFFD, a number longer than Python converts never reaches ijson's C backend, and no
token is held whole past a hard limit); `sniff_model` reads the data model the start of
the file names (FormatError when it is not VICS); `media_objects` builds each media
object from the parser's events, skipping one longer than the row limit or nesting
deeper than MAX_DEPTH without holding it. Fields are read from the objects in `vics_read`.
"""

import codecs
import io
import re
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from openhotline.signals.formats.base import UTF8_BOM, FormatError, check_start
from openhotline.signals.formats.vics_tables import CONTEXT_KEYS, MODEL_PATTERN, Model

HEAD_BYTES = 1 << 16
STARTS = frozenset({"start_map", "start_array"})
ENDS = frozenset({"end_map", "end_array"})
# How deep a media object may nest: VICS nests three levels (MediaFiles, an entry, a
# value). ijson's items() keeps a prefix string for every level, which is quadratic in
# the depth; the objects are built here instead, and deeper ones skipped.
MAX_DEPTH = 32


class Unreadable(Exception):
    """The rest of the file cannot be read; the message says why."""


class Source:
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
        while len(raw) < HEAD_BYTES and not self._eof:
            raw += self._raw_chunk()
        if not raw.strip() or raw.strip() == UTF8_BOM:
            raise FormatError("the file is empty")
        check_start(raw)
        self.head = self._clean(raw.removeprefix(UTF8_BOM))
        self._pending = self.head

    def _raw_chunk(self) -> bytes:
        chunk = self._stream.read(HEAD_BYTES)
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
            raise Unreadable(
                f"over {self._hard_limit} bytes without the end of a value; "
                "the rest of the file is not read"
            )
        while not self._pending and not self._eof and self.stop is None:
            self._pending = self._clean(self._raw_chunk())
        if not self._pending and self.stop is not None:
            raise Unreadable(f"{self.stop}: the rest of the file is not read")
        if size < 0:
            size = len(self._pending)
        out, self._pending = self._pending[:size], self._pending[size:]
        self.total += len(out)
        return out


def sniff_model(source: Source) -> Model:
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
            if event in STARTS:
                depth += 1
            elif event in ENDS:
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
        message = json_problem(exc)
        if context is None and source.stop is not None and len(head) < HEAD_BYTES:
            raise FormatError(f"not a VICS file: it starts with {source.stop}") from None
        if context is None and len(head) >= HEAD_BYTES and "premature EOF" in message:
            raise FormatError(
                "not a VICS file: no odata.metadata or @odata.context near the start"
            ) from None
        if context is None:
            raise FormatError(f"not JSON: {message}") from None
    except StopIteration:
        raise FormatError("not a VICS file: it ends early") from None
    assert context is not None  # every path above set it or raised
    match = MODEL_PATTERN.search(context)
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


def json_problem(exc: Exception) -> str:
    """The first line of a parser error, short enough for a bad record's message."""
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]


def media_objects(source: Source, cases: bool, limit: int) -> Iterator[tuple[object, str | None]]:
    """(media object, None) or (None, why it was skipped) for each media object."""
    target = ["value", "item", "media", "item"] if cases else ["value", "item"]
    path: list[str] = []
    events = ijson.basic_parse(source)
    for event, value in events:
        source.mark = source.total
        if event == "map_key":
            path[-1] = value.lower()
        elif event in ENDS:
            path.pop()
        elif path == target:
            yield _build_value(event, value, events, source, limit)
        elif event == "start_map":
            path.append("")
        elif event == "start_array":
            path.append("item")


def _build_value(
    event: str, value: Any, events: Iterator[tuple[str, Any]], source: Source, limit: int
) -> tuple[object, str | None]:
    """The value that starts with (event, value), built from the events that follow."""
    if event not in STARTS:
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
        elif event in STARTS:
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
        elif event in ENDS:
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
    depth = len(stack) + (event in STARTS) - (event in ENDS)
    if not depth:
        return None, f"{problem}: skipped"
    del stack, root
    for event, _ in events:
        source.mark = source.total
        if event in STARTS:
            depth += 1
        elif event in ENDS:
            depth -= 1
            if not depth:
                break
    return None, f"{problem}: skipped"
