"""Cryptographic digests of the file bytes: md5, sha1 and sha256. They match only the
very same bytes, so their distance is 0 or 1 and their threshold 0.
"""

import hashlib
from typing import ClassVar

from openhotline.signals.types.base import HashType, HashValue, check_kind, hex_digits


class DigestHashType(HashType[bytes]):
    """A hashlib digest written as lowercase hex, the way sha256sum and friends write it."""

    exact = True
    default_threshold = 0.0
    algorithm: ClassVar[str]
    digest_size: ClassVar[int]

    def _parse_text(self, text: str, offset: int) -> bytes:
        return hex_digits(self.name, text, offset, self.digest_size * 2)

    def format(self, parsed: bytes) -> str:
        return parsed.hex()

    def _distance(self, a: bytes, b: bytes) -> float:
        return 0.0 if a == b else 1.0

    def compute(self, data: bytes, kind: str) -> list[HashValue]:
        check_kind(kind)
        digest = hashlib.new(self.algorithm, data, usedforsecurity=False).hexdigest()
        return [HashValue(self.name, digest)]


class Md5HashType(DigestHashType):
    name = "md5"
    label = "MD5"
    algorithm = "md5"
    digest_size = 16
    examples = (
        "d41d8cd98f00b204e9800998ecf8427e",  # no bytes
        "900150983cd24fb0d6963f7d28e17f72",  # b"abc"
    )


class Sha1HashType(DigestHashType):
    name = "sha1"
    label = "SHA-1"
    algorithm = "sha1"
    digest_size = 20
    examples = (
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "a9993e364706816aba3e25717850c26c9cd0d89d",
    )


class Sha256HashType(DigestHashType):
    name = "sha256"
    label = "SHA-256"
    algorithm = "sha256"
    digest_size = 32
    examples = (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
