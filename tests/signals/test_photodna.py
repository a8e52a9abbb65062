"""PhotoDNA hashes: the usual encodings, Euclidean distance, and the plug-in interface
for a licensed implementation (tested with a fake one)."""

import base64
import math

import pytest
from django.core.exceptions import ImproperlyConfigured

from openhotline.signals.types import PHOTODNA, BadHash, HashingFailed, compute_all
from openhotline.signals.types.photodna import (
    PHOTODNA_DEFAULT_THRESHOLD,
    photodna_implementation,
)
from tests.signals.fake_photodna import fake_photodna
from tests.signals.media import encode, gradient

RAW = bytes((i * 37 + 11) % 256 for i in range(144))
CANONICAL = base64.b64encode(RAW).decode()
FAKES = "tests.signals.fake_photodna"


@pytest.mark.parametrize(
    "encoded",
    [
        CANONICAL,
        RAW.hex(),
        RAW.hex().upper(),
        ",".join(str(b) for b in RAW),
        ", ".join(str(b) for b in RAW),
        RAW,
        bytearray(RAW),
        memoryview(RAW),
    ],
    ids=["base64", "hex", "HEX", "decimal", "decimal-spaced", "bytes", "bytearray", "view"],
)
def test_every_encoding_reads_to_the_canonical_base64(encoded):
    assert PHOTODNA.parse(encoded) == RAW
    assert PHOTODNA.normalize(encoded) == CANONICAL


def test_writing_other_encodings():
    assert PHOTODNA.to_hex(CANONICAL) == RAW.hex()
    assert PHOTODNA.to_decimal(CANONICAL) == ",".join(str(b) for b in RAW)
    assert len(CANONICAL) == 192


@pytest.mark.parametrize(
    ("value", "problem", "position"),
    [
        (CANONICAL[:-4], BadHash.WRONG_LENGTH, None),
        (CANONICAL + "AAAA", BadHash.WRONG_LENGTH, None),
        (CANONICAL[:10] + "!" + CANONICAL[11:], BadHash.BAD_ENCODING, 11),
        (CANONICAL[:10] + " " + CANONICAL[11:], BadHash.WHITESPACE, 11),
        ("=" * 192, BadHash.BAD_ENCODING, None),
        (RAW.hex()[:-1] + "g", BadHash.NOT_HEX, 288),
        (RAW.hex()[:-2], BadHash.WRONG_LENGTH, None),  # 286 digits: read as base64
        (",".join(["1"] * 143), BadHash.WRONG_LENGTH, None),
        (",".join(["1"] * 145), BadHash.WRONG_LENGTH, None),
        ("1,2,256," + ",".join(["1"] * 141), BadHash.OUT_OF_RANGE, 5),
        ("1,2,-3," + ",".join(["1"] * 141), BadHash.BAD_ENCODING, 5),
        ("1,2,x," + ",".join(["1"] * 141), BadHash.BAD_ENCODING, 5),
        ("1,2,,4," + ",".join(["1"] * 140), BadHash.EMPTY, 5),
        ("1,2,3 4," + ",".join(["1"] * 141), BadHash.WHITESPACE, 5),
        (RAW[:143], BadHash.WRONG_LENGTH, None),
        ([1] * 144, BadHash.WRONG_TYPE, None),
    ],
)
def test_bad_photodna_values(value, problem, position):
    with pytest.raises(BadHash) as caught:
        PHOTODNA.parse(value)
    assert (caught.value.problem, caught.value.position) == (problem, position)


def test_euclidean_distance():
    other = bytes(RAW[:-1]) + bytes([(RAW[-1] + 3) % 256])
    assert PHOTODNA.distance(RAW, other) == 3.0
    zeros, ones = bytes(144), bytes([1] * 144)
    assert PHOTODNA.distance(zeros, ones) == 12.0
    assert PHOTODNA.distance(zeros, bytes([255] * 144)) == pytest.approx(math.sqrt(144) * 255)
    assert PHOTODNA.distance(CANONICAL, RAW.hex()) == 0


def test_the_threshold_is_a_setting(settings):
    near = bytes(144)
    far = bytes([100] * 144)  # distance 1200
    assert PHOTODNA.effective_threshold() == PHOTODNA_DEFAULT_THRESHOLD
    settings.PHOTODNA_MATCH_THRESHOLD = 1199
    assert not PHOTODNA.matches(near, far)
    settings.PHOTODNA_MATCH_THRESHOLD = 1200
    assert PHOTODNA.matches(near, far)
    assert not PHOTODNA.matches(near, far, threshold=10)


def test_nothing_is_computed_without_an_implementation(settings):
    settings.PHOTODNA_IMPLEMENTATION = ""
    assert photodna_implementation() is None
    assert PHOTODNA.compute(encode(gradient()), "image") == []


def test_a_plugged_in_implementation_is_used(settings):
    settings.PHOTODNA_IMPLEMENTATION = f"{FAKES}.fake_photodna"
    image = encode(gradient())
    [value] = PHOTODNA.compute(image, "image")
    assert value.hash_type == "photodna"
    assert PHOTODNA.parse(value.value) == fake_photodna(image)
    assert PHOTODNA.compute(image, "video") == []
    assert "photodna" in [v.hash_type for v in compute_all(image, "image").values]


def test_an_implementation_may_decline_an_image(settings):
    settings.PHOTODNA_IMPLEMENTATION = f"{FAKES}.declines"
    assert PHOTODNA.compute(encode(gradient()), "image") == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("wrong_length", "returned a bad hash.*expected 144 bytes, got 100"),
        ("not_bytes", "returned str, not bytes"),
        ("explodes", "failed: RuntimeError\\('licence server unreachable'\\)"),
    ],
)
def test_a_misbehaving_implementation_fails_the_image_only(settings, name, message):
    settings.PHOTODNA_IMPLEMENTATION = f"{FAKES}.{name}"
    with pytest.raises(HashingFailed, match=message):
        PHOTODNA.compute(encode(gradient()), "image")
    result = compute_all(encode(gradient()), "image")
    assert "photodna" in result.failures
    assert "pdq" in [v.hash_type for v in result.values]


@pytest.mark.parametrize(
    "path", [f"{FAKES}.missing", "no.such.module.hasher", f"{FAKES}.NOT_CALLABLE"]
)
def test_a_misconfigured_implementation_is_loud(settings, path):
    settings.PHOTODNA_IMPLEMENTATION = path
    with pytest.raises(ImproperlyConfigured, match="PHOTODNA_IMPLEMENTATION"):
        PHOTODNA.compute(encode(gradient()), "image")


def test_the_pixel_limit_applies_before_the_implementation(settings):
    settings.PHOTODNA_IMPLEMENTATION = f"{FAKES}.explodes"
    settings.MEDIA_MAX_PIXELS = 100
    with pytest.raises(HashingFailed, match="over the pixel limit of 100"):
        PHOTODNA.compute(encode(gradient()), "image")
