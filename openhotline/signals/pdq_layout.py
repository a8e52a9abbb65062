"""The PDQ index's layout: hashes as arrays, and how the 256 bits are cut into parts.

A PDQ hash is 256 bits (32 bytes; `codes_from_hex` parses 64-digit hex); the index works on
each as four little-endian uint64 words. Multi-index hashing cuts the bits into ``k``
disjoint parts of ``b`` or ``b + 1`` bits (`part_lengths`, `default_parts`: about
log2(n) - 2 bits, 16 to 22); with per-part probe distances ``t_i`` (`tolerances`) such that
``sum(t_i + 1) > radius``, a hash within the radius of a query is within ``t_i`` of it on
some part, so probing each part's buckets finds every match. `Part` reads one part's
values out of the words; `Plan` lists every (part, XOR mask) a radius probes. The
segments (`pdq_segments`) build their tables from this layout.
"""

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

PDQ_BITS = 256
PDQ_BYTES = 32
DEFAULT_RADIUS = 31
# Parts of 16 to 22 bits: the offsets table of a part has 2^b + 1 entries, so b is chosen
# from the number of entries (about log2(n) - 2 bits) and capped where the tables would
# start to cost more memory than the positions they index.
MIN_PART_BITS = 16
MAX_PART_BITS = 22
LARGEST_PART = 24  # bits; a larger part's offsets (4 << bits bytes) would be too large
# Beyond this the tables cost more than a scan (which larger query radii use anyway).
MAX_RADIUS = 63

IdArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.uint8]
Words = npt.NDArray[np.uint64]
Match = tuple[int, int]


def codes_from_hex(hexes: Iterable[str]) -> CodeArray:
    """(n, 32) uint8 array of 64-digit hex PDQ hashes (first digit = high bits of byte 0)."""
    hexes = list(hexes)
    joined = "".join(hexes)
    if len(joined) != 64 * len(hexes) or any(len(h) != 64 for h in hexes):
        raise ValueError("PDQ hashes are 64 hex digits each")
    return np.frombuffer(bytes.fromhex(joined), dtype=np.uint8).reshape(-1, PDQ_BYTES).copy()


def words_of(codes: CodeArray) -> Words:
    """The (n, 4) little-endian uint64 view the index works on (a view, no copy)."""
    return np.ascontiguousarray(codes, dtype=np.uint8).view("<u8")


def as_codes(codes: Any) -> CodeArray:
    array = np.asarray(codes)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != PDQ_BYTES:
        raise ValueError(f"codes must be an (n, {PDQ_BYTES}) uint8 array, got {array.dtype} "
                         f"{array.shape}")  # fmt: skip
    return array


def as_ids(ids: Any, count: int) -> IdArray:
    array = np.asarray(ids)
    if array.ndim != 1 or array.shape[0] != count:
        raise ValueError(f"ids must be a 1-d array of {count} ids, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"ids must be integers, got {array.dtype}")
    return array.astype(np.int64, copy=False)


def one_code(code: bytes | str | npt.NDArray[Any]) -> bytes:
    if isinstance(code, str):
        raw = bytes.fromhex(code)
    elif isinstance(code, bytes | bytearray | memoryview):
        raw = bytes(code)
    else:
        raw = np.asarray(code, dtype=np.uint8).tobytes()
    if len(raw) != PDQ_BYTES:
        raise ValueError(f"a PDQ hash is {PDQ_BYTES} bytes, got {len(raw)}")
    return raw


def check_radius(radius: int) -> None:
    if isinstance(radius, bool) or not isinstance(radius, int | np.integer) or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")


def part_lengths(count: int) -> tuple[int, ...]:
    """``count`` parts covering 256 bits, as even as possible, longest first."""
    base, extra = divmod(PDQ_BITS, count)
    return (base + 1,) * extra + (base,) * (count - extra)


def tolerances(parts: int, radius: int) -> list[int]:
    """Per-part probe distances t_i (longest parts first, -1 = not probed) with
    sum(t_i + 1) = radius + 1: a hash within ``radius`` is within t_i on some part."""
    q, extra = divmod(radius + 1, parts)
    return [q] * extra + [q - 1] * (parts - extra)


def default_parts(count: int) -> int:
    """Number of parts for ``count`` entries: parts of about log2(count) - 2 bits, 16 to 22
    bits. (Only the parts a ``max_radius`` query probes get a table.)"""
    bits = min(MAX_PART_BITS, max(MIN_PART_BITS, int(math.log2(max(count, 1))) - 2))
    return PDQ_BITS // bits


@dataclass(frozen=True, slots=True)
class Part:
    start: int  # first bit, counting from the low bit of the first little-endian word
    bits: int
    base: int  # where this part's offsets begin in the shared offsets array

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    def keys(self, words: Words) -> Words:
        word, shift = divmod(self.start, 64)
        if shift + self.bits <= 64:
            return (words[:, word] >> np.uint64(shift)) & np.uint64(self.mask)
        low = 64 - shift  # bits taken from this word; the rest from the next one
        high = words[:, word + 1] & np.uint64((1 << (self.bits - low)) - 1)
        return (words[:, word] >> np.uint64(shift)) | (high << np.uint64(low))


@dataclass(frozen=True, slots=True)
class Plan:
    """Every probe of a query radius: for each, the part and the XOR mask."""

    part: npt.NDArray[np.intp]
    flips: npt.NDArray[np.int64]
    base: npt.NDArray[np.int64]


def flip_masks(bits: int, distance: int) -> list[int]:
    masks = [0]
    for flipped in range(1, distance + 1):
        for combo in itertools.combinations(range(bits), flipped):
            masks.append(sum(1 << b for b in combo))
    return masks


def part_layout(lengths: Sequence[int], indexed: int) -> tuple[Part, ...]:
    """The first ``indexed`` of ``lengths`` as parts, placed in the bits and the offsets."""
    built: list[Part] = []
    start = base = 0
    for bits in lengths[:indexed]:
        built.append(Part(start, bits, base))
        start += bits
        base += (1 << bits) + 1
    return tuple(built)
