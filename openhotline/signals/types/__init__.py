"""The hash type registry: every kind of hash OpenHotline reads, stores, matches and
computes, by name.

    from openhotline.signals.types import HASH_TYPES, compute_all
    HASH_TYPES["pdq"].matches(a, b)            # distance <= 31
    VIDEO.compare(a, b).query_percent          # vPDQ's two percentages
    compute_all(data, "image").values          # md5, sha1, sha256, pdq (+ photodna)
"""

from dataclasses import dataclass, field
from typing import Any

from openhotline.signals.types.base import (
    KIND_IMAGE,
    KIND_OTHER,
    KIND_VIDEO,
    KINDS,
    BadHash,
    HashingFailed,
    HashType,
    HashValue,
    check_kind,
)
from openhotline.signals.types.exact import Md5HashType, Sha1HashType, Sha256HashType
from openhotline.signals.types.pdq import PdqHashType
from openhotline.signals.types.photodna import PhotoDnaHashType
from openhotline.signals.types.video import VideoHashType

__all__ = [
    "HASH_TYPES",
    "KINDS",
    "KIND_IMAGE",
    "KIND_OTHER",
    "KIND_VIDEO",
    "MD5",
    "PDQ",
    "PHOTODNA",
    "SHA1",
    "SHA256",
    "VIDEO",
    "BadHash",
    "ComputeResult",
    "HashType",
    "HashValue",
    "HashingFailed",
    "UnknownHashType",
    "compute_all",
    "get_hash_type",
]

# One stateless instance of each type, under names that keep their own methods visible
# to type checkers (VIDEO.compare, PHOTODNA.to_hex), and all of them by name.
MD5 = Md5HashType()
SHA1 = Sha1HashType()
SHA256 = Sha256HashType()
PDQ = PdqHashType()
VIDEO = VideoHashType()
PHOTODNA = PhotoDnaHashType()

HASH_TYPES: dict[str, HashType[Any]] = {
    hash_type.name: hash_type for hash_type in (MD5, SHA1, SHA256, PDQ, VIDEO, PHOTODNA)
}


class UnknownHashType(KeyError):
    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(f"unknown hash type {name!r}; known: {', '.join(HASH_TYPES)}")

    def __str__(self) -> str:
        # KeyError's own str() quotes the message; this one reads as a sentence.
        return str(self.args[0])


def get_hash_type(name: str) -> HashType[Any]:
    try:
        return HASH_TYPES[name]
    except (KeyError, TypeError):
        raise UnknownHashType(name) from None


@dataclass
class ComputeResult:
    values: list[HashValue] = field(default_factory=list)
    # Hash type name -> why that type could not hash this media.
    failures: dict[str, str] = field(default_factory=dict)


def compute_all(data: bytes, kind: str) -> ComputeResult:
    """Every hash that applies to media of `kind`; bad media never raises.

    Types that apply but cannot hash the media (corrupt, over a limit) are listed in
    `failures`; the others' hashes are still returned.
    """
    check_kind(kind)
    result = ComputeResult()
    for name, hash_type in HASH_TYPES.items():
        try:
            result.values.extend(hash_type.compute(data, kind))
        except HashingFailed as exc:
            result.failures[name] = str(exc)
    return result
