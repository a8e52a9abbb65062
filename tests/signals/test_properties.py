"""Distances behave as distances, and every canonical form reads back to itself."""

import math

from hypothesis import given
from hypothesis import strategies as st

from openhotline.signals.types import PDQ, PHOTODNA, VIDEO
from openhotline.signals.types.video import VideoFrame

pdq_hashes = st.integers(min_value=0, max_value=2**256 - 1).map(lambda n: f"{n:064x}")
photodna_hashes = st.binary(min_size=144, max_size=144)


@given(pdq_hashes, pdq_hashes, pdq_hashes)
def test_pdq_hamming_is_a_metric(a, b, c):
    assert PDQ.distance(a, a) == 0
    assert PDQ.distance(a, b) == PDQ.distance(b, a)
    assert PDQ.distance(a, c) <= PDQ.distance(a, b) + PDQ.distance(b, c)
    assert PDQ.distance(a, b) == bin(int(a, 16) ^ int(b, 16)).count("1")
    assert (PDQ.distance(a, b) == 0) == (a == b)


@given(pdq_hashes)
def test_pdq_round_trips(value):
    assert PDQ.normalize(value.upper()) == value
    assert PDQ.format(PDQ.parse(value)) == value


@given(photodna_hashes, photodna_hashes, photodna_hashes)
def test_photodna_euclidean_is_a_metric(a, b, c):
    assert PHOTODNA.distance(a, a) == 0
    assert PHOTODNA.distance(a, b) == PHOTODNA.distance(b, a)
    assert PHOTODNA.distance(a, c) <= PHOTODNA.distance(a, b) + PHOTODNA.distance(b, c) + 1e-9
    assert math.isclose(
        PHOTODNA.distance(a, b), math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))
    )


@given(photodna_hashes)
def test_photodna_encodings_round_trip(raw):
    canonical = PHOTODNA.normalize(raw)
    for encoded in (canonical, PHOTODNA.to_hex(raw), PHOTODNA.to_decimal(raw), raw):
        assert PHOTODNA.parse(encoded) == raw
        assert PHOTODNA.normalize(encoded) == canonical


@st.composite
def video_hashes(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    numbers = sorted(draw(st.sets(st.integers(0, 10_000), min_size=count, max_size=count)))
    # Few distinct hashes so that frames do match across videos now and then.
    pool = draw(st.lists(pdq_hashes, min_size=1, max_size=4))
    return tuple(
        VideoFrame(
            number,
            draw(st.integers(0, 100)),
            draw(st.sampled_from(pool)),
            round(number / 30, 3),
        )
        for number in numbers
    )


@given(video_hashes(), video_hashes())
def test_video_distance_is_symmetric_and_bounded(a, b):
    assert VIDEO.distance(a, b) == VIDEO.distance(b, a)
    assert 0 <= VIDEO.distance(a, b) <= 100
    forward, backward = VIDEO.compare(a, b), VIDEO.compare(b, a)
    assert (forward.query_percent, forward.compared_percent) == (
        backward.compared_percent,
        backward.query_percent,
    )


@given(video_hashes())
def test_video_is_zero_from_itself_when_it_has_usable_frames(value):
    usable = any(frame.quality >= 50 for frame in value)
    assert (VIDEO.distance(value, value) == 0) == usable


@given(video_hashes())
def test_video_text_round_trips(value):
    text = VIDEO.format(value)
    assert VIDEO.parse(text) == value
    assert VIDEO.normalize(value) == text
