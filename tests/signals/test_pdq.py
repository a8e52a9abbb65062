"""PDQ against Meta's reference vectors, and PDQ on everything else an image can be."""

import io
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openhotline.signals.types import PDQ, HashingFailed, HashValue
from openhotline.signals.types.images import decode_rgb
from tests.signals.media import encode, gradient
from tests.signals.vectors import MISSING, PDQ_DIR, params_or_skip, pdq_rows

THREATEXCHANGE = pdq_rows("python-threatexchange")
CPP_REFERENCE = pdq_rows("cpp-reference")


def pdq_of(path: str) -> HashValue:
    [value] = PDQ.compute((PDQ_DIR / "files" / path).read_bytes(), "image")
    return value


@pytest.mark.parametrize("row", params_or_skip(THREATEXCHANGE))
def test_identical_to_python_threatexchange(row):
    value = pdq_of(row["file"])
    assert value.value == row["expected_pdq"]
    if row["expected_quality"]:
        assert value.quality == int(row["expected_quality"])


@pytest.mark.parametrize("row", params_or_skip(CPP_REFERENCE))
def test_within_10_bits_of_the_cpp_reference(row):
    value = pdq_of(row["file"])
    assert value.quality is not None
    if value.quality < 80:
        pytest.skip(f"quality {value.quality}: the upstream rule covers quality >= 80 only")
    assert PDQ.distance(value.value, row["expected_pdq"]) <= 10


def test_the_vector_tables_are_read_whole():
    if not THREATEXCHANGE:
        pytest.skip(MISSING)
    # A reader that silently lost rows would make the two tests above pass vacuously.
    assert len(THREATEXCHANGE) == 4
    assert len(CPP_REFERENCE) == 20


def test_low_quality_hashes_are_kept_but_not_for_matching():
    # I16.png is threatexchange's 16-bit grey sample; clipped to 8 bits it has quality 36.
    path = PDQ_DIR / "files/python-threatexchange/threatexchange/tests/hashing/resources/I16.png"
    if not path.is_file():
        pytest.skip(MISSING)
    [value] = PDQ.compute(path.read_bytes(), "image")
    assert (value.quality, value.usable_for_matching) == (36, False)
    assert not PDQ.values_match(value, value)
    assert PDQ.matches(value.value, value.value)  # the bare hashes still compare


def test_flat_images_have_quality_zero():
    flat = encode(Image.new("RGB", (64, 64), (120, 130, 140)))
    [value] = PDQ.compute(flat, "image")
    assert (value.quality, value.usable_for_matching) == (0, False)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA", "L", "P", "I;16", "CMYK", "1", "I", "F"])
def test_every_pillow_mode_hashes(mode):
    fmt = {"CMYK": "JPEG", "F": "TIFF", "I": "TIFF"}.get(mode, "PNG")
    image = gradient().convert(mode) if mode != "I;16" else gradient().convert("I;16")
    [value] = PDQ.compute(encode(image, fmt), "image")
    assert len(value.value) == 64


def test_rgba_drops_alpha_without_compositing():
    # As threatexchange does: convert("RGB") keeps the colour under transparent pixels.
    opaque = gradient()
    transparent = opaque.copy()
    transparent.putalpha(0)
    assert PDQ.compute(encode(opaque), "image") == PDQ.compute(encode(transparent), "image")


def test_exif_orientation_is_not_applied():
    image = gradient()
    plain = encode(image, "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees to display"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert PDQ.compute(plain, "image")[0].value == PDQ.compute(out.getvalue(), "image")[0].value


def test_animated_images_hash_their_first_frame():
    first, second = gradient(), gradient().transpose(Image.Transpose.ROTATE_180)
    out = io.BytesIO()
    first.save(out, format="GIF", save_all=True, append_images=[second])
    [animated] = PDQ.compute(out.getvalue(), "image")
    [still] = PDQ.compute(encode(first, "GIF"), "image")
    assert animated.value == still.value


def test_the_pixel_limit_is_respected(settings):
    settings.MEDIA_MAX_PIXELS = 96 * 64 - 1
    with pytest.raises(
        HashingFailed, match=r"96x64 = 6,144 pixels is over the pixel limit of 6,143"
    ):
        PDQ.compute(encode(gradient()), "image")
    settings.MEDIA_MAX_PIXELS = 96 * 64
    assert PDQ.compute(encode(gradient()), "image")


def test_a_header_claiming_huge_dimensions_is_refused_before_decoding():
    # A PNG whose header claims 100000 x 100000 pixels, with one pixel's data behind it.
    png = encode(Image.new("L", (1, 1)))
    header = b"IHDR" + (100_000).to_bytes(4, "big") * 2 + png[24:29]
    huge = png[:12] + header + zlib.crc32(header).to_bytes(4, "big") + png[33:]
    with pytest.raises(HashingFailed, match="over the pixel limit of 50,000,000"):
        PDQ.compute(huge, "image")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an image"),
        (b"plain text, not an image", "not an image"),
        (encode(gradient(), "JPEG")[:300], "cannot decode image"),
        # EPS would run Ghostscript: never tried.
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not an image"),
    ],
    ids=["empty", "text", "truncated-jpeg", "eps"],
)
def test_bad_images_fail_clearly(data, message):
    with pytest.raises(HashingFailed, match=message):
        PDQ.compute(data, "image")


@pytest.mark.parametrize("kind", ["video", "other"])
def test_pdq_applies_to_images_only(kind):
    assert PDQ.compute(encode(gradient()), kind) == []


def test_decoding_gives_rgb_pixels():
    pixels = decode_rgb(encode(gradient(30, 20).convert("P")))
    assert (pixels.shape, pixels.dtype) == ((20, 30, 3), np.uint8)


def test_vectors_path_is_beside_the_repository_unless_overridden():
    import os

    repository = Path(__file__).resolve().parents[2]
    expected = os.environ.get("OPENHOTLINE_VECTORS_DIR") or repository.parent / "shared" / "vectors"
    assert Path(expected) / "pdq" == PDQ_DIR
