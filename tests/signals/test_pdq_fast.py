"""Our numpy PDQ (PDQ_HASHER "fast", the default) against the pdqhash reference."""

import io
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from openhotline.signals.types import PDQ, HashingFailed, HashValue, pdq_fast
from openhotline.signals.types.images import decode_luma, decode_rgb
from openhotline.signals.types.pdq import pdq_of_pixels
from openhotline.signals.types.pdq_fast import downsample, pdq_of_luma
from tests.signals.media import encode, gradient
from tests.signals.vectors import MISSING, PDQ_DIR, params_or_skip, pdq_rows

# The rows written by pdqhash over Pillow's pixels (python-threatexchange's tests): the
# issue allows our own implementation at most 2 bits from these.
PDQHASH_ROWS = pdq_rows("python-threatexchange")
ALL_ROWS = pdq_rows("")
VECTOR_FILES = sorted({row["file"] for row in ALL_ROWS})


def both(data: bytes, settings) -> tuple[HashValue, HashValue]:
    """(fast, reference) values of the same bytes."""
    settings.PDQ_HASHER = "fast"
    [fast] = PDQ.compute(data, "image")
    settings.PDQ_HASHER = "reference"
    [reference] = PDQ.compute(data, "image")
    return fast, reference


def assert_close(fast: HashValue, reference: HashValue, bits: int) -> None:
    assert PDQ.distance(fast.value, reference.value) <= bits
    assert fast.quality is not None and reference.quality is not None
    assert abs(fast.quality - reference.quality) <= 1


# --- the reference vectors ------------------------------------------------------------


@pytest.mark.parametrize("row", params_or_skip(PDQHASH_ROWS))
def test_within_2_bits_of_the_pdqhash_fixtures(row):
    [value] = PDQ.compute((PDQ_DIR / "files" / row["file"]).read_bytes(), "image")
    # Measured: all four are identical, hash and quality.
    assert PDQ.distance(value.value, row["expected_pdq"]) <= 2
    if row["expected_quality"]:
        assert value.quality is not None
        assert abs(value.quality - int(row["expected_quality"])) <= 1


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=Path(p).name) for p in VECTOR_FILES]
    or [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))],
)
def test_within_2_bits_of_pdqhash_on_every_vector_image(path, settings):
    # Photos, EXIF-rotated 12-megapixel JPEGs, 16-bit grey, alpha: measured identical.
    fast, reference = both((PDQ_DIR / "files" / path).read_bytes(), settings)
    assert_close(fast, reference, bits=2)


# --- generated images -----------------------------------------------------------------


def card(width: int, height: int, seed: int) -> Image.Image:
    """A benign test card: a gradient, a few shapes and a little grain."""
    rng = np.random.default_rng(seed)
    image = gradient(width, height)
    draw = ImageDraw.Draw(image)
    for _ in range(5):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(1, width + 1)), y0 + int(rng.integers(1, height + 1))
        draw.ellipse((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    grain = rng.integers(-8, 9, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, np.int16) + grain, 0, 255).astype(np.uint8))


def rgba(image: Image.Image) -> Image.Image:
    out = image.convert("RGBA")
    out.putalpha(Image.linear_gradient("L").resize(image.size))
    return out


def encode_with(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    return encode_with(image, "JPEG", quality=quality)


def transparent(image: Image.Image) -> Image.Image:
    out = image.convert("RGBA")
    out.putalpha(0)
    return out


def jpeg_card(width: int, height: int) -> bytes:
    return jpeg(card(width, height, width * height))


def png_card(mode: str) -> bytes:
    return encode(card(257, 129, 5).convert(mode))


GENERATED: dict[str, Callable[[], bytes]] = {
    **{
        f"jpeg-{w}x{h}": partial(jpeg_card, w, h)
        for w, h in [(1024, 768), (640, 480), (333, 517), (1600, 900), (64, 64), (100, 37)]
    },
    "jpeg-q50": lambda: jpeg(card(800, 600, 1), quality=50),
    "jpeg-grey": lambda: jpeg(card(500, 400, 2).convert("L")),
    "jpeg-cmyk": lambda: jpeg(card(300, 200, 3).convert("CMYK")),
    "jpeg-progressive": lambda: encode_with(card(700, 500, 4), "JPEG", progressive=True),
    **{f"png-{mode}": partial(png_card, mode) for mode in ["RGB", "L", "LA", "P", "1", "I;16"]},
    "tiff-int32": lambda: encode(card(200, 100, 11).convert("I"), "TIFF"),
    "png-rgba": lambda: encode(rgba(card(400, 300, 6))),
    "png-rgba-transparent": lambda: encode(transparent(card(200, 150, 7))),
    "gif": lambda: encode(card(320, 240, 8), "GIF"),
    "webp": lambda: encode(card(320, 240, 9), "WEBP"),
    "bmp": lambda: encode(card(129, 257, 10), "BMP"),
    "tiff-float": lambda: encode(card(200, 100, 12).convert("F"), "TIFF"),
    "tiny-1x1": lambda: encode(Image.new("RGB", (1, 1), (200, 10, 10))),
    "tiny-4x4": lambda: encode(card(4, 4, 12)),
    "smallest-5x5": lambda: encode(card(5, 5, 13)),
    "wide-4000x3": lambda: encode(card(4000, 3, 14)),
    "tall-3x4000": lambda: encode(card(3, 4000, 15)),
    "wide-4000x5": lambda: encode(card(4000, 5, 16)),
    "tall-7x3000": lambda: jpeg(card(7, 3000, 17)),
    "square-2048": lambda: jpeg(card(2048, 2048, 18)),
}


@pytest.mark.parametrize("name", list(GENERATED))
def test_within_4_bits_of_pdqhash_on_generated_images(name, settings):
    fast, reference = both(GENERATED[name](), settings)
    assert_close(fast, reference, bits=4)


def test_images_under_5_pixels_across_hash_to_zero_like_the_cpp():
    for data in (GENERATED["tiny-1x1"](), GENERATED["wide-4000x3"]()):
        [value] = PDQ.compute(data, "image")
        assert (value.value, value.quality) == ("0" * 64, 0)


def test_the_luma_is_pdqhash_s_to_the_bit():
    # pdqhash sums float64 0.299R + 0.587G + 0.114B of decode_rgb's pixels into float32.
    for name in ["jpeg-640x480", "png-P", "png-I;16", "png-rgba", "jpeg-cmyk", "png-L"]:
        data = GENERATED[name]()
        pixels = decode_rgb(data).astype(np.float64)
        expected = (pixels @ [0.299, 0.587, 0.114]).astype(np.float32)
        assert np.array_equal(decode_luma(data), expected), name


def test_the_luma_without_pillow_internals(monkeypatch):
    # The public convert("F") route, taken when Pillow lacks map_buffer.
    data = GENERATED["jpeg-333x517"]()
    direct = decode_luma(data)
    monkeypatch.delattr(Image.core, "map_buffer")
    assert np.array_equal(decode_luma(data), direct)


# --- the algorithm against a literal port of the C++ ----------------------------------


def box_1d(values: np.ndarray, window: int) -> np.ndarray:
    """box1DFloat of downscaling.cpp along axis 0, phase by phase as written there."""
    half = (window + 2) // 2
    length = len(values)
    out = np.empty_like(values)
    total = np.zeros_like(values[0])
    count, right, left, o = 0, 0, 0, 0
    for _ in range(half - 1):  # phase 1: accumulate, no writes
        total, count, right = total + values[right], count + 1, right + 1
    for _ in range(window - half + 1):  # phase 2: writes with a growing window
        total, count, right = total + values[right], count + 1, right + 1
        out[o], o = total / count, o + 1
    for _ in range(length - window):  # phase 3: the full window slides
        total = total + values[right] - values[left]
        right, left = right + 1, left + 1
        out[o], o = total / count, o + 1
    for _ in range(half - 1):  # phase 4: writes with a shrinking window
        total, count, left = total - values[left], count - 1, left + 1
        out[o], o = total / count, o + 1
    return out


def cpp_downsample(luma: np.ndarray) -> np.ndarray:
    rows, cols = luma.shape
    blurred = luma.astype(np.float64)
    for _ in range(2):  # PDQ_NUM_JAROSZ_XY_PASSES: along rows, then along columns
        blurred = box_1d(blurred.T, (cols + 127) // 128).T
        blurred = box_1d(blurred, (rows + 127) // 128)
    picked_rows = [int((i + 0.5) * rows / 64) for i in range(64)]
    picked_cols = [int((j + 0.5) * cols / 64) for j in range(64)]
    return blurred[np.ix_(picked_rows, picked_cols)]


@pytest.mark.parametrize(
    "shape", [(5, 5), (64, 64), (129, 257), (300, 7), (255, 1000), (768, 1024), (1001, 130)]
)
def test_the_weights_are_the_cpp_box_filter_s(shape):
    luma = np.random.default_rng(shape[0]).random(shape, np.float32) * 255
    assert np.allclose(downsample(luma), cpp_downsample(luma), rtol=0, atol=1e-3)


def test_uint8_and_float_luma_hash_alike():
    grey = np.asarray(card(300, 200, 20).convert("L"))
    assert pdq_of_luma(grey) == pdq_of_luma(grey.astype(np.float32))


def test_reference_and_fast_agree_on_raw_pixels():
    pixels = np.asarray(card(640, 480, 21))
    luma = (pixels.astype(np.float64) @ [0.299, 0.587, 0.114]).astype(np.float32)
    assert pdq_of_luma(luma) == pdq_of_pixels(pixels)


def test_weights_of_freak_long_sides_are_not_cached():
    pdq_fast._cached_axis_weights.cache_clear()
    pdq_fast.axis_weights(pdq_fast.CACHED_LENGTH + 1)
    pdq_fast.axis_weights(1024)
    assert pdq_fast._cached_axis_weights.cache_info().currsize == 1


# --- errors and the setting -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an image"),
        (b"\x89PNG\r\n\x1a\n not really", "not an image"),
        (jpeg(gradient())[:300], "cannot decode image"),
        (encode(gradient())[:-30], "cannot decode image"),
    ],
    ids=["empty", "bad-png", "truncated-jpeg", "truncated-png"],
)
def test_corrupt_images_fail_as_before(data, message):
    with pytest.raises(HashingFailed, match=message):
        PDQ.compute(data, "image")


def test_the_pixel_limit_holds(settings):
    settings.MEDIA_MAX_PIXELS = 96 * 64 - 1
    with pytest.raises(HashingFailed, match="96x64 = 6,144 pixels is over the pixel limit"):
        PDQ.compute(jpeg(gradient()), "image")


def test_an_unknown_hasher_is_refused(settings):
    settings.PDQ_HASHER = "fastest"
    with pytest.raises(ValueError, match="PDQ_HASHER is 'fastest'"):
        PDQ.compute(encode(gradient()), "image")


def test_a_freak_width_costs_memory_in_proportion_to_its_pixels():
    # 5 x 1,000,000 is within the pixel limit. Rows first would make 64 rows of it, 13
    # times the luma; the weights alone take about 4 (a few arrays as long as the side).
    luma = np.random.default_rng(0).random((5, 1_000_000), np.float32)
    tracemalloc.start()
    try:
        downsample(luma)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * luma.nbytes
