"""PDQ, Meta's 256-bit perceptual image hash, with its 0-100 quality score.

Hashes are written as Meta's tools write them: 64 lowercase hex digits, the first bit of
the hash the most significant bit of the first digit.

Images are hashed by our numpy PDQ (`pdq_fast`) over the luma Pillow decodes (see
`images`), about 4.5 times faster than the pdqhash binding of Meta's C++ over the same
pixels, which reproduces python-threatexchange's hashes bit for bit. The two sum in a
different order, so bits or a quality point can differ where float rounding tips a
value: on none of the 39 reference vector images, on 1 in 600 of bench/hash_bench.py's
pictures (2 bits). Setting PDQ_HASHER = "reference" (default "fast") hashes with pdqhash
instead. Video frames always go through pdqhash (`pdq_of_pixels`).
"""

from typing import Any

import numpy as np
import numpy.typing as npt
import pdqhash

from openhotline.signals.types.base import (
    KIND_IMAGE,
    HashType,
    HashValue,
    check_kind,
    hex_digits,
    setting,
)
from openhotline.signals.types.images import decode_luma, decode_rgb
from openhotline.signals.types.pdq_fast import pdq_of_luma

PDQ_BITS = 256
PDQ_HEX_LENGTH = PDQ_BITS // 4
# Meta's recommended match distance, and the quality below which a hash is too
# featureless to match on (pdq/README.md).
PDQ_MATCH_DISTANCE = 31
PDQ_MIN_QUALITY = 50
PDQ_HASHERS = ("fast", "reference")


def pdq_of_pixels(pixels: npt.NDArray[Any]) -> tuple[str, int]:
    """(hex, quality) of an H x W x 3 uint8 RGB array."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    # pdqhash gives 256 0/1 values, first bit first; packbits puts the first bit in the
    # high bit of the first byte, which is the order Meta's hex is written in.
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def pdq_value(hex_hash: str, quality: int) -> HashValue:
    return HashValue(
        PdqHashType.name,
        hex_hash,
        quality=quality,
        usable_for_matching=quality >= PDQ_MIN_QUALITY,
    )


class PdqHashType(HashType[int]):
    name = "pdq"
    label = "PDQ"
    exact = False
    default_threshold = float(PDQ_MATCH_DISTANCE)
    examples = (
        # Two public test photos from Meta's ThreatExchange repository (a bridge, a street).
        "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22",
        "489db672e9190276d452aeab41eba20f02375fe4092d88defdf491a5c55c5f70",
    )

    def _parse_text(self, text: str, offset: int) -> int:
        return int.from_bytes(hex_digits(self.name, text, offset, PDQ_HEX_LENGTH))

    def format(self, parsed: int) -> str:
        return f"{parsed:0{PDQ_HEX_LENGTH}x}"

    def _distance(self, a: int, b: int) -> int:
        # Hamming distance: the number of differing bits.
        return (a ^ b).bit_count()

    def compute(self, data: bytes, kind: str) -> list[HashValue]:
        check_kind(kind)
        if kind != KIND_IMAGE:
            return []
        hasher = setting("PDQ_HASHER", "fast")
        if hasher == "reference":
            return [pdq_value(*pdq_of_pixels(decode_rgb(data)))]
        if hasher != "fast":
            # A typo must not quietly pick one: hashes from either feed matching.
            raise ValueError(f"PDQ_HASHER is {hasher!r}; expected one of {', '.join(PDQ_HASHERS)}")
        return [pdq_value(*pdq_of_luma(decode_luma(data)))]
