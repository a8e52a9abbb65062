"""What every hash type promises, the value it produces and the errors it raises.

A hash type is a stateless object: it reads a hash from any form it accepts (`parse`),
writes it in one canonical form (`format`), measures how far apart two hashes are
(`distance`) and computes hashes of media bytes (`compute`). Canonical text is what gets
stored and exchanged; the parsed form is whatever the type measures distances on.
"""

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings

KIND_IMAGE = "image"
KIND_VIDEO = "video"
KIND_OTHER = "other"
KINDS = (KIND_IMAGE, KIND_VIDEO, KIND_OTHER)


class BadHash(ValueError):
    """A hash value that cannot be read: which type, what is wrong, and where.

    `problem` is one of the constants below, for code that counts or groups errors;
    `position` is the 1-based character position in the text as given (within `line`
    when the format has lines), None when the problem has no single place.
    """

    WRONG_TYPE = "wrong type"
    EMPTY = "empty"
    WRONG_LENGTH = "wrong length"
    NOT_HEX = "not hex"
    WHITESPACE = "whitespace"
    BAD_ENCODING = "bad encoding"
    OUT_OF_RANGE = "out of range"
    BAD_FORMAT = "bad format"

    def __init__(
        self,
        hash_type: str,
        problem: str,
        reason: str,
        *,
        position: int | None = None,
        line: int | None = None,
    ) -> None:
        self.hash_type = hash_type
        self.problem = problem
        self.reason = reason
        self.position = position
        self.line = line
        where = []
        if line is not None:
            where.append(f"line {line}")
        if position is not None:
            where.append(f"position {position}")
        suffix = f" (at {', '.join(where)})" if where else ""
        super().__init__(f"bad {hash_type} hash: {problem}: {reason}{suffix}")


class HashingFailed(ValueError):
    """Media of a kind this type hashes could not be hashed (corrupt, over a limit, ...)."""


@dataclass(frozen=True, slots=True)
class HashValue:
    """One computed or imported hash, in its type's canonical text."""

    hash_type: str
    value: str
    # PDQ's 0-100 quality when known; None for types without one.
    quality: int | None = None
    # False for hashes kept for the record but too weak to match on (PDQ quality < 50).
    usable_for_matching: bool = True
    # Anything a reader of this hash should know, e.g. that a video was cut short.
    note: str = ""

    def __str__(self) -> str:
        return self.value


class HashType[P](ABC):
    """A kind of hash. `P` is the parsed form distances are measured on."""

    name: ClassVar[str]
    label: ClassVar[str]
    exact: ClassVar[bool]
    default_threshold: ClassVar[float]
    examples: ClassVar[tuple[str, ...]]

    # --- reading and writing ---------------------------------------------------------

    def parse(self, value: object) -> P:
        """Read `value` in any form this type accepts; raises BadHash."""
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise self.bad(BadHash.EMPTY, "no value" if not value else "only whitespace")
            # Surrounding whitespace is forgiven (it comes with CSV cells); positions in
            # errors still count from the start of the text as given.
            offset = len(value) - len(value.lstrip())
            return self._parse_text(text, offset)
        return self._parse_object(value)

    @abstractmethod
    def _parse_text(self, text: str, offset: int) -> P:
        """Parse stripped, non-empty text; `offset` is how much whitespace was stripped."""

    def _parse_object(self, value: object) -> P:
        raise self.bad(BadHash.WRONG_TYPE, f"expected text, got {type(value).__name__}")

    @abstractmethod
    def format(self, parsed: P) -> str:
        """The canonical text of a parsed hash."""

    def normalize(self, value: object) -> str:
        """Canonical text of `value` in any accepted form; raises BadHash."""
        return self.format(self.parse(value))

    def is_valid(self, value: object) -> bool:
        try:
            self.parse(value)
        except BadHash:
            return False
        return True

    def bad(self, problem: str, reason: str, **where: int | None) -> BadHash:
        return BadHash(self.name, problem, reason, **where)

    # --- comparing -------------------------------------------------------------------

    @abstractmethod
    def _distance(self, a: P, b: P) -> float:
        """Distance between two parsed hashes: 0 for the same, symmetric."""

    def distance(self, a: object, b: object) -> float:
        return self._distance(self.parse(a), self.parse(b))

    def effective_threshold(self) -> float:
        """The threshold used when none is given: `default_threshold` unless a setting
        overrides it (PhotoDNA's does)."""
        return self.default_threshold

    def matches(self, a: object, b: object, threshold: float | None = None) -> bool:
        """Whether two hashes are within `threshold` (default: `effective_threshold()`)."""
        limit = self.effective_threshold() if threshold is None else threshold
        return self.distance(a, b) <= limit

    def values_match(self, a: HashValue, b: HashValue, threshold: float | None = None) -> bool:
        """Like `matches`, but for full values: hashes flagged unusable never match."""
        for value in (a, b):
            if value.hash_type != self.name:
                raise ValueError(f"a {value.hash_type} value given to the {self.name} type")
        if not (a.usable_for_matching and b.usable_for_matching):
            return False
        return self.matches(a.value, b.value, threshold)

    # --- computing -------------------------------------------------------------------

    @abstractmethod
    def compute(self, data: bytes, kind: str) -> list[HashValue]:
        """Hashes of media bytes of `kind` ("image", "video", "other").

        Empty when this type does not apply to the kind or cannot be computed here;
        raises HashingFailed when it applies but the media cannot be hashed.
        """


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown media kind {kind!r}; expected one of {', '.join(KINDS)}")


def setting[T](name: str, default: T) -> T:
    """A Django setting, or `default` when unset or when Django is not configured."""
    if not settings.configured:
        return default
    value: T = getattr(settings, name, default)
    return value


def hex_digits(type_name: str, text: str, offset: int, length: int) -> bytes:
    """Bytes from exactly `length` hex digits (either case), with the first fault located."""
    fault = _NOT_HEX.search(text)
    if fault is not None:
        char = fault.group()
        problem = BadHash.WHITESPACE if char.isspace() else BadHash.NOT_HEX
        reason = f"{char!r} is not a hex digit"
        raise BadHash(type_name, problem, reason, position=offset + fault.start() + 1)
    if len(text) != length:
        reason = f"expected {length} hex digits, got {len(text)}"
        raise BadHash(type_name, BadHash.WRONG_LENGTH, reason)
    return bytes.fromhex(text)


_NOT_HEX = re.compile(r"[^0-9a-fA-F]")
