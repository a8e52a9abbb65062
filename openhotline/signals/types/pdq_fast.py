"""PDQ in numpy, giving the hashes of Meta's C++ (pdqhashing.cpp) that pdqhash runs.

The C++ blurs the whole luma image with two passes of a Jarosz box filter along rows
then columns, and keeps every (dim / 64)th pixel of the result. All of that is linear,
so each of the 64 x 64 kept values is a fixed weighted sum of a band of about dim / 64
rows and columns: here those weights are worked out once per image size and the pixels
are read once, where the C++ blurs the whole image four times. The DCT, median and
quality steps are the C++'s, on 64 x 64 and 16 x 16 numbers.

Both sum in float32, in different orders, so the values differ by float rounding: a
hash bit differs only where two DCT values next to the median are that close, and the
quality only where a neighbour difference sits on a whole percent. Neither happened on
the reference vectors; bench/hash_bench.py and tests/signals/test_pdq_fast.py count them.
"""

from functools import lru_cache

import numpy as np
import numpy.typing as npt

# Luma as decoded for PDQ: float32 0.299R + 0.587G + 0.114B, or uint8 grey (its own luma).
Luma = npt.NDArray[np.float32] | npt.NDArray[np.uint8]
Weights = tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]

OUT = 64  # the C++ decimates to 64 x 64
# pdqHash256FromFloatLuma gives an all-zero hash of quality 0 below this many rows or columns.
MIN_HASHABLE_DIM = 5
# Weights are cached for the sizes images usually have, not for freak long sides, whose
# weights are as large as the side itself.
CACHED_LENGTH = 8192


def pdq_of_luma(luma: Luma) -> tuple[str, int]:
    """(hex, quality) of an H x W luma array, as `pdq.pdq_of_pixels` gives for its pixels."""
    rows, cols = luma.shape
    if rows < MIN_HASHABLE_DIM or cols < MIN_HASHABLE_DIM:
        return "0" * 64, 0
    blurred = downsample(luma)
    quality = image_quality(blurred)
    dct = _dct_matrix()
    coefficients = (dct @ blurred @ dct.T).ravel()
    # Torben's median in the C++ is the 128th smallest of the 256; bits are set above it.
    median = np.partition(coefficients, 127)[127]
    # The C++ sets bit i*16+j for coefficient (i, j); pdqhash lists bit 255 first, and
    # packbits writes the first listed bit as the high bit of the first byte.
    bits = (coefficients > median)[::-1]
    return np.packbits(bits).tobytes().hex(), quality


def downsample(luma: Luma) -> npt.NDArray[np.float64]:
    """The 64 x 64 values the C++ keeps after its two blur passes."""
    if luma.shape[0] < OUT < luma.shape[1]:
        # Rows first would make 64 rows of a freak width out of fewer (5 x 10,000,000 is
        # within the pixel limit); the filter is separable, so take the columns first.
        transposed: npt.NDArray[np.float64] = downsample(luma.T).T
        return transposed
    row_starts, row_weights = axis_weights(luma.shape[0])
    col_starts, col_weights = axis_weights(luma.shape[1])
    # One weighted sum of rows per output row, read in place from its band of rows:
    # a small product each, which BLAS runs on this core (a big product would start
    # its threads, which cost more CPU than they save here).
    band = row_weights.shape[1]
    by_rows = np.empty((OUT, luma.shape[1]), np.float32)
    for k, start in enumerate(row_starts.tolist()):
        np.matmul(row_weights[k], luma[start : start + band], out=by_rows[k])
    # Then the same along columns, on the 64 rows' bands of columns (np.take copies
    # them much faster than fancy indexing does).
    band = col_weights.shape[1]
    picked = np.take(by_rows, (col_starts[:, None] + np.arange(band)).ravel(), axis=1)
    result = np.einsum("rkt,kt->rk", picked.reshape(OUT, OUT, band), col_weights)
    return result.astype(np.float64)


def image_quality(blurred: npt.NDArray[np.float64]) -> int:
    """The C++'s 0-100 quality: summed truncated neighbour differences in percent, / 90."""
    down = np.trunc((blurred[:-1] - blurred[1:]) * 100 / 255)
    across = np.trunc((blurred[:, :-1] - blurred[:, 1:]) * 100 / 255)
    return min(int(np.abs(down).sum() + np.abs(across).sum()) // 90, 100)


def axis_weights(length: int) -> Weights:
    if length <= CACHED_LENGTH:
        return _cached_axis_weights(length)
    return _axis_weights(length)


@lru_cache(maxsize=256)
def _cached_axis_weights(length: int) -> Weights:
    return _axis_weights(length)


def _axis_weights(length: int) -> Weights:
    """For one axis: where each output's band of inputs starts, and the band's weights.

    Output k is pixel idx_k = int((k + 0.5) * length / 64) of the blurred axis, blurred
    twice by box1DFloat, whose window around o is [o - (window - half), o + half - 1]
    clipped to the axis, divided by the clipped count. So pixel j weighs
    sum over o of box(idx_k, o) * box(o, j), summed here with prefix sums.
    """
    window = (length + 127) // 128  # computeJaroszFilterWindowSize(length, 64)
    half = (window + 2) // 2
    o = np.arange(length)
    lo = np.maximum(o - (window - half), 0)
    hi = np.minimum(o + half - 1, length - 1)
    # Prefix sums of 1 / count: the second pass's share of each o.
    share = np.concatenate(([0.0], np.cumsum(1.0 / (hi - lo + 1))))
    idx = ((np.arange(OUT) + 0.5) * length / OUT).astype(np.intp)
    first_lo, first_hi = lo[idx], hi[idx]
    starts = lo[first_lo]
    band = int((hi[first_hi] - starts).max()) + 1
    starts = np.minimum(starts, length - band)
    j = starts[:, None] + np.arange(band)
    # The o whose windows hold j, among those in idx_k's window.
    o_lo = np.maximum(j - half + 1, first_lo[:, None])
    o_hi = np.minimum(j + window - half, first_hi[:, None])
    summed = np.where(o_hi >= o_lo, share[o_hi + 1] - share[o_lo], 0.0)
    weights = (summed / (first_hi - first_lo + 1)[:, None]).astype(np.float32)
    # Cached and shared between calls: read-only.
    starts.flags.writeable = weights.flags.writeable = False
    return starts, weights


@lru_cache(maxsize=1)
def _dct_matrix() -> npt.NDArray[np.float64]:
    """The C++'s 16 x 64 DCT: rows 1-16 of DCT-II, leaving out the constant row 0."""
    i = np.arange(1, 17)[:, None]
    j = np.arange(OUT)[None, :]
    matrix: npt.NDArray[np.float64] = np.sqrt(2 / OUT) * np.cos(np.pi / 128 * i * (2 * j + 1))
    return matrix
