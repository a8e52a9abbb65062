"""PhotoDNA: Microsoft's proprietary image hash, 144 bytes compared by Euclidean distance.

OpenHotline reads, stores, matches and writes PhotoDNA hashes without any licence; it
computes them only through a licensed implementation that the operator plugs in.

Accepted encodings (all common in hash lists and tools):
  - base64 of the 144 bytes (192 characters): the canonical form, as the common
    PhotoDNA command-line wrappers write it;
  - hex (288 digits, either case);
  - 144 comma-separated decimal numbers 0-255 (spaces around commas allowed);
  - the raw 144 bytes (bytes, bytearray or memoryview).

Plugging in an implementation: set `OPENHOTLINE_PHOTODNA_IMPLEMENTATION` (the
`PHOTODNA_IMPLEMENTATION` setting) to the dotted path of a callable that takes the image
file's bytes and returns its 144-byte hash, or None when it cannot hash that image (too
small, say). Anything it raises is reported as a hashing failure of that image, never a
crash of the worker. Without the setting, `compute` returns nothing.
"""

import base64
import binascii
import functools
import io
import math
import re
import warnings
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from PIL import Image

from openhotline.signals.types.base import (
    KIND_IMAGE,
    BadHash,
    HashingFailed,
    HashType,
    HashValue,
    check_kind,
    hex_digits,
    setting,
)
from openhotline.signals.types.images import max_pixels, over_pixel_limit

PHOTODNA_HASH_BYTES = 144
PHOTODNA_BASE64_LENGTH = PHOTODNA_HASH_BYTES * 4 // 3
PHOTODNA_HEX_LENGTH = PHOTODNA_HASH_BYTES * 2
# The Euclidean distance at or below which two hashes match, unless the
# PHOTODNA_MATCH_THRESHOLD setting says otherwise. Microsoft gives licensees the value
# to use; this default is a placeholder, not a published figure: set the setting.
# Distances run from 0 to sqrt(144 x 255^2), about 3060.
PHOTODNA_DEFAULT_THRESHOLD = 1800.0

_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")


class PhotoDnaImplementation(Protocol):
    """A licensed PhotoDNA hasher: image file bytes in, 144-byte hash (or None) out."""

    def __call__(self, image: bytes, /) -> bytes | None: ...


def photodna_implementation() -> PhotoDnaImplementation | None:
    """The plugged-in implementation, or None; ImproperlyConfigured if it cannot load."""
    path = str(setting("PHOTODNA_IMPLEMENTATION", "") or "")
    return _load(path) if path else None


@functools.cache
def _load(path: str) -> PhotoDnaImplementation:
    try:
        implementation = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"PHOTODNA_IMPLEMENTATION {path!r}: {exc}") from exc
    if not callable(implementation):
        raise ImproperlyConfigured(f"PHOTODNA_IMPLEMENTATION {path!r} is not callable")
    checked: PhotoDnaImplementation = implementation
    return checked


class PhotoDnaHashType(HashType[bytes]):
    name = "photodna"
    label = "PhotoDNA"
    exact = False
    default_threshold = PHOTODNA_DEFAULT_THRESHOLD
    examples = (
        # Synthetic values, not hashes of any image.
        base64.b64encode(bytes(range(PHOTODNA_HASH_BYTES))).decode(),
        base64.b64encode(bytes((i * 7) % 256 for i in range(PHOTODNA_HASH_BYTES))).decode(),
    )

    # --- reading and writing ---------------------------------------------------------

    def _parse_text(self, text: str, offset: int) -> bytes:
        if "," in text:
            return self._parse_decimal(text, offset)
        if len(text) == PHOTODNA_HEX_LENGTH:
            return hex_digits(self.name, text, offset, PHOTODNA_HEX_LENGTH)
        return self._parse_base64(text, offset)

    def _parse_decimal(self, text: str, offset: int) -> bytes:
        values = []
        start = 0
        for item in text.split(","):
            number = item.strip()
            position = offset + start + len(item) - len(item.lstrip()) + 1
            if not number:
                raise self.bad(BadHash.EMPTY, "an empty item in the list", position=position)
            if not (number.isascii() and number.isdigit()):
                inner = next((c for c in number if not c.isdigit()), number[0])
                problem = BadHash.WHITESPACE if inner.isspace() else BadHash.BAD_ENCODING
                raise self.bad(problem, f"{number!r} is not a number", position=position)
            if int(number) > 255:
                raise self.bad(BadHash.OUT_OF_RANGE, f"{number} is over 255", position=position)
            values.append(int(number))
            start += len(item) + 1
        if len(values) != PHOTODNA_HASH_BYTES:
            raise self.bad(
                BadHash.WRONG_LENGTH,
                f"expected {PHOTODNA_HASH_BYTES} comma-separated numbers, got {len(values)}",
            )
        return bytes(values)

    def _parse_base64(self, text: str, offset: int) -> bytes:
        fault = _NOT_BASE64.search(text)
        if fault is not None:
            char = fault.group()
            raise self.bad(
                BadHash.WHITESPACE if char.isspace() else BadHash.BAD_ENCODING,
                f"{char!r} is not a base64 character",
                position=offset + fault.start() + 1,
            )
        if len(text) != PHOTODNA_BASE64_LENGTH:
            raise self.bad(
                BadHash.WRONG_LENGTH,
                f"expected {PHOTODNA_BASE64_LENGTH} base64 characters, {PHOTODNA_HEX_LENGTH} "
                f"hex digits or {PHOTODNA_HASH_BYTES} comma-separated numbers; got "
                f"{len(text)} characters",
            )
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise self.bad(BadHash.BAD_ENCODING, f"not valid base64: {exc}") from None

    def _parse_object(self, value: object) -> bytes:
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            if len(raw) != PHOTODNA_HASH_BYTES:
                raise self.bad(
                    BadHash.WRONG_LENGTH,
                    f"expected {PHOTODNA_HASH_BYTES} bytes, got {len(raw)}",
                )
            return raw
        raise self.bad(BadHash.WRONG_TYPE, f"expected text or bytes, got {type(value).__name__}")

    def format(self, parsed: bytes) -> str:
        return base64.b64encode(parsed).decode("ascii")

    def to_hex(self, value: object) -> str:
        return self.parse(value).hex()

    def to_decimal(self, value: object) -> str:
        return ",".join(str(byte) for byte in self.parse(value))

    # --- comparing -------------------------------------------------------------------

    def effective_threshold(self) -> float:
        return float(setting("PHOTODNA_MATCH_THRESHOLD", PHOTODNA_DEFAULT_THRESHOLD))

    def _distance(self, a: bytes, b: bytes) -> float:
        return math.dist(a, b)

    # --- computing -------------------------------------------------------------------

    def compute(self, data: bytes, kind: str) -> list[HashValue]:
        check_kind(kind)
        if kind != KIND_IMAGE:
            return []
        implementation = photodna_implementation()
        if implementation is None:
            return []
        _refuse_over_pixel_limit(data)
        try:
            result = implementation(data)
        except Exception as exc:  # a third-party library: its failures are the image's
            raise HashingFailed(f"PhotoDNA implementation failed: {exc!r}"[:300]) from None
        if result is None:
            return []
        if not isinstance(result, bytes | bytearray | memoryview):
            raise HashingFailed(
                f"PhotoDNA implementation returned {type(result).__name__}, not bytes"
            )
        try:
            parsed = self.parse(result)
        except BadHash as exc:
            raise HashingFailed(f"PhotoDNA implementation returned a bad hash: {exc}") from None
        return [HashValue(self.name, self.format(parsed))]


def _refuse_over_pixel_limit(data: bytes) -> None:
    """Refuse images over the pixel limit before a third-party decoder sees them.

    Only the header is read; what Pillow cannot identify is left to the implementation.
    """
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise HashingFailed(f"image is over the pixel limit of {limit:,}: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        return
    if width * height > limit:
        raise HashingFailed(over_pixel_limit(width, height, limit))
