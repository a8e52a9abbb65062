"""Binary attachments in Usenet articles: yEnc, uuencode and MIME, and multi-part reassembly.

Pure functions over bytes, no I/O. Articles are hostile input: every decoder runs in time
linear in its input, checks declared sizes against limits before allocating, and fails with
a typed error whose reason a person can read ("part 2: CRC32 mismatch").

The standard library does the work (`binascii`, `zlib.crc32`, `email`). The maintained yEnc
decoder on PyPI (sabyenc3) is a C extension built for SABnzbd's streaming of whole NZBs;
its input is untrusted here, and decoding a hotline's volume in Python is fast enough
(`bytes.translate` and `split` do the per-byte work in C).
"""

from __future__ import annotations

import binascii
import email
import email.policy
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message

MAX_DECODED_BYTES = 64 * 1024 * 1024
MAX_PARTS = 10_000
MAX_LINE_BYTES = 64 * 1024
MAX_MIME_PARTS = 100
MAX_MIME_BOUNDARIES = 20


class BinaryError(ValueError):
    """A binary could not be decoded; str() is the plain reason."""


class YencError(BinaryError):
    pass


class UuencodeError(BinaryError):
    pass


class MimeError(BinaryError):
    pass


class ReassemblyError(BinaryError):
    pass


class IncompleteError(ReassemblyError):
    """Some parts of a multi-part post have not been seen (yet)."""

    def __init__(self, name: str, missing: list[int]) -> None:
        self.missing = missing
        shown = ", ".join(str(n) for n in missing[:10])
        more = f" … ({len(missing)} in all)" if len(missing) > 10 else ""
        super().__init__(f"{name}: incomplete, parts {shown}{more} missing")


@dataclass(frozen=True)
class Attachment:
    """A decoded file (or one part of a multi-part yEnc file)."""

    name: str
    data: bytes
    encoding: str  # "yenc", "uuencode" or "mime"
    part: int = 1
    total: int = 1
    begin: int = 1  # 1-based offset of this part in the whole file (yEnc)
    file_size: int = 0  # the whole file's declared size (yEnc), else len(data)
    file_crc32: int | None = None  # the whole file's declared CRC32 (yEnc, last part)


# --- yEnc -------------------------------------------------------------------------------------

_UNSHIFT = bytes((b - 42) % 256 for b in range(256))
_UNSHIFT_ESCAPED = bytes((b - 106) % 256 for b in range(256))  # minus 64, minus 42


def _keywords(line: bytes, keyword: bytes) -> dict[str, str]:
    """`=ybegin part=1 size=9 name=a b.jpg` -> {"part": "1", "size": "9", "name": "a b.jpg"}."""
    text = line[len(keyword) :].decode("latin-1")
    fields: dict[str, str] = {}
    name_at = text.find(" name=")
    if name_at >= 0:  # the name runs to the end of the line, spaces included
        fields["name"] = text[name_at + 6 :].strip()
        text = text[:name_at]
    for token in text.split():
        key, eq, value = token.partition("=")
        if eq:
            fields[key.lower()] = value
    return fields


def _number(fields: dict[str, str], key: str, where: str, default: int | None = None) -> int:
    value = fields.get(key)
    if value is None:
        if default is not None:
            return default
        raise YencError(f"{where}: no {key}=")
    if not value.isdigit() or len(value) > 18:
        raise YencError(f"{where}: {key}={value[:20]!r} is not a number")
    return int(value)


def _crc(fields: dict[str, str], key: str, where: str) -> int | None:
    value = fields.get(key)
    if value is None:
        return None
    try:
        return int(value, 16) if len(value) <= 8 else -1
    except ValueError:
        raise YencError(f"{where}: {key}={value[:20]!r} is not a CRC32") from None


def _lines(body: bytes) -> Iterator[bytes]:
    for line in body.split(b"\n"):
        if len(line) > MAX_LINE_BYTES:
            raise BinaryError(f"a line of more than {MAX_LINE_BYTES} bytes")
        yield line.rstrip(b"\r")


def _decode_yenc_line(line: bytes, where: str) -> bytes:
    if line.endswith(b"="):
        raise YencError(f"{where}: an escape character ends a line")
    pieces = line.split(b"=")
    out = [pieces[0].translate(_UNSHIFT)]
    for piece in pieces[1:]:
        if not piece:  # "==": no encoder escapes "=" with "="
            raise YencError(f"{where}: an escape character escapes nothing")
        out.append(piece[:1].translate(_UNSHIFT_ESCAPED))
        out.append(piece[1:].translate(_UNSHIFT))
    return b"".join(out)


def has_yenc(body: bytes) -> bool:
    return body.startswith(b"=ybegin ") or b"\n=ybegin " in body


def decode_yenc(body: bytes, *, max_bytes: int = MAX_DECODED_BYTES) -> Attachment:
    """The one yEnc block in an article body (single-part, or one part of a multi-part file)."""
    lines = _lines(body)
    for line in lines:
        if line.startswith(b"=ybegin "):
            header = _keywords(line, b"=ybegin")
            break
    else:
        raise YencError("no =ybegin line")
    name = header.get("name", "")
    where = name or "yEnc"
    file_size = _number(header, "size", where)
    if file_size > max_bytes:
        raise YencError(f"{where}: declares {file_size} bytes, more than the {max_bytes} allowed")
    part = _number(header, "part", where, default=0)
    total = _number(header, "total", where, default=1 if not part else 0)
    begin, end = 1, file_size
    if part:
        where = f"{where} part {part}"
        line = next(lines, b"")
        if not line.startswith(b"=ypart "):
            raise YencError(f"{where}: no =ypart line after =ybegin")
        ypart = _keywords(line, b"=ypart")
        begin, end = _number(ypart, "begin", where), _number(ypart, "end", where)
        if not 1 <= begin <= end <= file_size:
            raise YencError(f"{where}: range {begin}-{end} outside a file of {file_size} bytes")
    expected = end - begin + 1
    chunks: list[bytes] = []
    size = 0
    trailer: dict[str, str] | None = None
    for line in lines:
        if line.startswith(b"=yend"):
            trailer = _keywords(line, b"=yend")
            break
        if line.startswith(b"=y"):
            raise YencError(f"{where}: unexpected {line[:8].decode('latin-1')!r} before =yend")
        chunk = _decode_yenc_line(line, where)
        size += len(chunk)
        if size > expected:
            raise YencError(f"{where}: more data than the {expected} bytes declared")
        chunks.append(chunk)
    if trailer is None:
        raise YencError(f"{where}: truncated, no =yend line")
    data = b"".join(chunks)
    if len(data) != expected or _number(trailer, "size", where) != expected:
        raise YencError(
            f"{where}: wrong size, {len(data)} bytes decoded, {expected} declared "
            f"(=yend size={trailer.get('size')})"
        )
    part_crc = _crc(trailer, "pcrc32" if part else "crc32", where)
    if part_crc is not None and part_crc != zlib.crc32(data):
        raise YencError(f"{where}: CRC32 mismatch")
    return Attachment(
        name=name,
        data=data,
        encoding="yenc",
        part=part or 1,
        total=total,
        begin=begin,
        file_size=file_size,
        file_crc32=_crc(trailer, "crc32", where),
    )


# --- uuencode ---------------------------------------------------------------------------------

_UU_BEGIN = re.compile(rb"^begin [0-7]{3,4} (.+)$")


def decode_uuencode(body: bytes, *, max_bytes: int = MAX_DECODED_BYTES) -> list[Attachment]:
    """Every `begin 644 name` … `end` block in an article body."""
    found: list[Attachment] = []
    total = 0
    lines = _lines(body)
    for line in lines:
        match = _UU_BEGIN.match(line)
        if not match:
            continue
        name = match.group(1).decode("latin-1").strip()
        chunks: list[bytes] = []
        for number, data_line in enumerate(lines, start=1):
            if data_line.strip() == b"end":
                break
            if not data_line.strip():
                continue
            try:
                chunk = binascii.a2b_uu(data_line)
            except binascii.Error:
                # Some encoders pad lines; decode only the length the line declares.
                wanted = (((data_line[0] - 32) & 63) * 4 + 5) // 3
                try:
                    chunk = binascii.a2b_uu(data_line[:wanted])
                except binascii.Error:
                    raise UuencodeError(f"{name}: line {number} is not uuencoded") from None
            total += len(chunk)
            if total > max_bytes:
                raise UuencodeError(f"{name}: more than the {max_bytes} bytes allowed")
            chunks.append(chunk)
        else:
            raise UuencodeError(f"{name}: truncated, no end line")
        found.append(Attachment(name=name, data=b"".join(chunks), encoding="uuencode"))
    return found


# --- MIME -------------------------------------------------------------------------------------


def decode_mime(
    article: bytes, *, max_bytes: int = MAX_DECODED_BYTES, max_parts: int = MAX_MIME_PARTS
) -> list[Attachment]:
    """The non-text parts of a MIME article (headers and body), decoded."""
    # The parser checks every line against each open boundary: bound them before parsing.
    if article.lower().count(b"boundary=") > MAX_MIME_BOUNDARIES:
        raise MimeError(f"more than {MAX_MIME_BOUNDARIES} nested or sibling multiparts")
    message = email.message_from_bytes(article, policy=email.policy.compat32)
    found: list[Attachment] = []
    total = 0
    stack: list[Message] = [message]
    seen = 0
    while stack:
        part = stack.pop()
        seen += 1
        if seen > max_parts:
            raise MimeError(f"more than {max_parts} MIME parts")
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(p for p in reversed(payload) if isinstance(p, Message))
            continue
        if part.get_content_maintype() in ("text", "message") and not part.get_filename():
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        total += len(data)
        if total > max_bytes:
            raise MimeError(f"more than the {max_bytes} bytes allowed")
        found.append(Attachment(name=part.get_filename() or "", data=data, encoding="mime"))
    return found


_CONTENT_TYPE = re.compile(rb"^content-type:\s*([a-z0-9!#$&^_.+-]+)/", re.MULTILINE)


def _is_mime_binary(head: bytes) -> bool:
    """A MIME article that is not plain text (yEnc and uuencode posts often say text/plain)."""
    head = head.lower()
    if not (head.startswith(b"mime-version:") or b"\nmime-version:" in head):
        return False
    match = _CONTENT_TYPE.search(head)
    return match is not None and match.group(1) != b"text"


def attachments(article: bytes, *, max_bytes: int = MAX_DECODED_BYTES) -> list[Attachment]:
    """Whatever binaries an article (headers, blank line, body) carries, in any encoding."""
    head, sep, body = article.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = article.partition(b"\n\n")
    if _is_mime_binary(head):
        return decode_mime(article, max_bytes=max_bytes)
    if has_yenc(body):
        return [decode_yenc(body, max_bytes=max_bytes)]
    return decode_uuencode(body, max_bytes=max_bytes)


# --- multi-part reassembly --------------------------------------------------------------------

_PART_IN_SUBJECT = re.compile(r"[(\[]\s*(\d{1,9})\s*/\s*(\d{1,9})\s*[)\]](?!.*[(\[]\s*\d+\s*/)")


def subject_stem(subject: str) -> str:
    """The subject without its last `(n/total)`: what the parts of one post share."""
    return _PART_IN_SUBJECT.sub("(*)", subject, count=1).strip()


@dataclass
class _Post:
    name: str
    total: int
    file_size: int
    parts: dict[int, Attachment] = field(default_factory=dict)


class Reassembler:
    """Collects yEnc parts across articles and joins each post once it is whole.

    `add(subject, part)` files a part under its subject stem; `assemble(stem)` gives the file
    or raises IncompleteError naming the missing parts. Memory is bounded by `max_bytes`
    over all posts held, no post may claim more than `max_parts` parts, and no more than
    `max_parts` parts are held in all (empty files cost no bytes but still cost memory).
    """

    def __init__(self, *, max_parts: int = MAX_PARTS, max_bytes: int = MAX_DECODED_BYTES) -> None:
        self.max_parts = max_parts
        self.max_bytes = max_bytes
        self._posts: dict[str, _Post] = {}
        self._held = 0
        self._held_parts = 0

    def add(self, subject: str, part: Attachment) -> str:
        """File `part`; returns the stem to assemble it by."""
        stem = subject_stem(subject)
        where = f"{part.name or stem} part {part.part}"
        if part.total > self.max_parts:
            raise ReassemblyError(f"{where}: {part.total} parts, more than {self.max_parts}")
        if not 1 <= part.part <= part.total:
            raise ReassemblyError(f"{where}: part {part.part} of {part.total}")
        post = self._posts.setdefault(stem, _Post(part.name, part.total, part.file_size))
        if (post.total, post.file_size) != (part.total, part.file_size):
            raise ReassemblyError(f"{where}: disagrees with earlier parts on total or size")
        if part.part in post.parts:
            return stem  # a repost of the same part: the first copy stands
        if self._held_parts >= self.max_parts:
            raise ReassemblyError(f"{where}: more than {self.max_parts} parts held")
        if self._held + len(part.data) > self.max_bytes:
            raise ReassemblyError(f"{where}: more than the {self.max_bytes} bytes allowed")
        post.parts[part.part] = part
        self._held += len(part.data)
        self._held_parts += 1
        return stem

    def assemble(self, stem: str) -> Attachment:
        post = self._posts.get(stem)
        if post is None:
            raise IncompleteError(stem, [])
        missing = [n for n in range(1, post.total + 1) if n not in post.parts]
        if missing:
            raise IncompleteError(post.name or stem, missing)
        ordered = [post.parts[n] for n in range(1, post.total + 1)]
        offset = 1
        for part in ordered:
            if part.begin != offset:
                raise ReassemblyError(f"{post.name}: part {part.part} begins at {part.begin}")
            offset += len(part.data)
        data = b"".join(p.data for p in ordered)
        if len(data) != post.file_size:
            raise ReassemblyError(f"{post.name}: {len(data)} bytes, {post.file_size} declared")
        crc = next((p.file_crc32 for p in reversed(ordered) if p.file_crc32 is not None), None)
        if crc is not None and crc != zlib.crc32(data):
            raise ReassemblyError(f"{post.name}: CRC32 of the whole file mismatch")
        del self._posts[stem]
        self._held -= len(data)
        self._held_parts -= len(ordered)
        return Attachment(post.name, data, "yenc", 1, 1, 1, post.file_size, crc)
