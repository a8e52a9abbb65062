"""The video hash type without the reference vectors: reading and writing vPDQ text,
the vPDQ match rule, and hashing videos made in memory."""

import hashlib

import pytest

from openhotline.signals.types import VIDEO, BadHash, HashingFailed
from openhotline.signals.types.video import (
    VideoComparison,
    VideoFrame,
    compare_videos,
    hash_video,
)
from tests.signals.media import encode, gradient, video

A = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"


def flip(hex_hash: str, bits: int) -> str:
    """The hash with its lowest `bits` bits inverted: exactly `bits` apart."""
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):064x}"


def far(index: int) -> str:
    """Pseudo-random hashes: about 128 bits from A and from each other."""
    return hashlib.sha256(str(index).encode()).hexdigest()


def frames(*hashes: str, quality: int = 100) -> list[VideoFrame]:
    return [VideoFrame(i, quality, h, float(i)) for i, h in enumerate(hashes)]


# --- text ----------------------------------------------------------------------------


def test_vpdq_text_round_trips():
    text = f"0,100,{A},0.000\n30,49,{A.upper()},1.001\n"
    parsed = VIDEO.parse(text)
    assert parsed == (VideoFrame(0, 100, A, 0.0), VideoFrame(30, 49, A, 1.001))
    assert VIDEO.format(parsed) == f"0,100,{A},0.000\n30,49,{A},1.001"
    assert VIDEO.normalize(f"\r\n0,100,{A},0\r\n\r\n30,49,{A},1.0012\r\n") == VIDEO.format(parsed)


def test_frames_can_be_given_as_tuples():
    assert VIDEO.normalize([(0, 100, A, 0), (5, 0, A, 0.5)]) == f"0,100,{A},0.000\n5,0,{A},0.500"


@pytest.mark.parametrize(
    ("text", "problem", "line", "position"),
    [
        (f"0,100,{A}", BadHash.BAD_FORMAT, 1, None),
        (f"0,100,{A},0.0,extra", BadHash.BAD_FORMAT, 1, None),
        (f"0,100,{A},0\nx,100,{A},1", BadHash.BAD_FORMAT, 2, 1),
        (f"0,-1,{A},0", BadHash.BAD_FORMAT, 1, 3),
        (f"0,101,{A},0", BadHash.OUT_OF_RANGE, 1, 3),
        (f"0, 100 ,{A[:-1]}z,0", BadHash.NOT_HEX, 1, 72),
        (f"0,100,{A[:-2]},0", BadHash.WRONG_LENGTH, 1, None),
        (f"0,100,{A[:10]} {A[11:]},0", BadHash.WHITESPACE, 1, 17),
        ("0,100,,0", BadHash.EMPTY, 1, 7),
        (f"0,100,{A},-1", BadHash.BAD_FORMAT, 1, 72),
        (f"0,100,{A},nan", BadHash.BAD_FORMAT, 1, 72),
        (f"5,100,{A},0\n\n5,100,{A},1", BadHash.BAD_FORMAT, 3, None),
        (f"5,100,{A},0\n4,100,{A},1", BadHash.BAD_FORMAT, 2, None),
    ],
)
def test_bad_vpdq_text_is_located(text, problem, line, position):
    with pytest.raises(BadHash) as caught:
        VIDEO.parse(text)
    assert (caught.value.problem, caught.value.line, caught.value.position) == (
        problem,
        line,
        position,
    )


@pytest.mark.parametrize(
    "value",
    [[], [(0, 100, A)], [("0", 100, A, 0.0)], [(0, 100, 123, 0.0)], [(0, 100, A, "0")]],
)
def test_bad_frame_lists(value):
    with pytest.raises(BadHash) as caught:
        VIDEO.parse(value)
    assert caught.value.problem in (BadHash.EMPTY, BadHash.WRONG_TYPE)


# --- the vPDQ match rule -------------------------------------------------------------


def test_identical_videos_match_fully():
    video_hash = frames(A, far(1), far(2))
    assert compare_videos(video_hash, video_hash) == VideoComparison(100.0, 100.0)
    assert VIDEO.distance(video_hash, video_hash) == 0


def test_frame_distance_31_matches_and_32_does_not():
    assert compare_videos(frames(A), frames(flip(A, 31))).query_percent == 100.0
    assert compare_videos(frames(A), frames(flip(A, 32))).query_percent == 0.0


def test_a_clip_covers_the_query_but_not_the_compared_video():
    clip = frames(A, far(1))
    full = frames(A, far(1), far(2), far(3))
    comparison = compare_videos(clip, full)
    assert comparison == VideoComparison(100.0, 50.0)
    assert not comparison.is_match()  # 80% both ways
    assert comparison.is_match(compared_min=0)  # python-threatexchange's default
    assert not VIDEO.matches(clip, full)
    assert VIDEO.distance(clip, full) == VIDEO.distance(full, clip) == 50.0


def test_80_percent_is_enough():
    query = frames(A, far(1), far(2), far(3), far(4))
    compared = frames(A, far(1), far(2), far(3), far(9))
    assert compare_videos(query, compared) == VideoComparison(80.0, 80.0)
    assert VIDEO.matches(query, compared)
    assert not VIDEO.matches(query, compared, threshold=19.9)


def test_duplicate_frames_count_once():
    # Four identical frames of A against a video of A and three others: one distinct frame
    # of the query, all matched; one of four of the other.
    assert compare_videos(frames(A, A, A, A), frames(A, far(1), far(2), far(3))) == (
        VideoComparison(100.0, 25.0)
    )


def test_low_quality_frames_are_left_out():
    query = [*frames(A, far(1)), VideoFrame(9, 49, far(5), 9.0)]
    compared = frames(A, far(1))
    assert compare_videos(query, compared) == VideoComparison(100.0, 100.0)
    dull = frames(A, far(1), quality=10)
    assert compare_videos(dull, dull) == VideoComparison(0.0, 0.0)
    assert not VIDEO.matches(dull, dull)


def test_long_videos_compare_in_bounded_chunks():
    # 700 frames: several chunks of rows, with a partial one at the end.
    many = [VideoFrame(i, 100, far(i), float(i)) for i in range(700)]
    assert compare_videos(many, many) == VideoComparison(100.0, 100.0)
    assert compare_videos(many[:350], many) == VideoComparison(100.0, 50.0)


# --- hashing -------------------------------------------------------------------------


def test_one_frame_a_second():
    frames_, note = hash_video(video(seconds=3, fps=10))
    assert note == ""
    assert [(f.frame_number, f.timestamp) for f in frames_] == [(0, 0.0), (10, 1.0), (20, 2.0)]
    assert len({f.pdq_hex for f in frames_}) == 3
    assert all(f.quality >= 50 for f in frames_)


def test_seconds_per_hash():
    data = video(seconds=2, fps=10)
    assert len(hash_video(data, seconds_per_hash=0)[0]) == 20
    assert [f.frame_number for f in hash_video(data, seconds_per_hash=0.5)[0]] == [0, 5, 10, 15]


def test_compute_gives_one_value_for_a_video():
    [value] = VIDEO.compute(video(seconds=2), "video")
    assert value.hash_type == "video"
    assert value.usable_for_matching
    assert VIDEO.normalize(value.value) == value.value
    assert VIDEO.compute(encode(gradient()), "image") == []
    assert VIDEO.compute(b"", "other") == []


def test_a_truncated_stream_keeps_the_frames_it_had():
    # MPEG-TS carries no index at the end, so the front of a cut file still plays.
    data = video(seconds=4, fps=10, fmt="mpegts")
    full, _ = hash_video(data)
    partial, _note = hash_video(data[: len(data) // 2])
    assert 0 < len(partial) < len(full)
    assert partial == full[: len(partial)]


def test_a_truncated_mp4_without_its_index_fails_clearly():
    data = video(seconds=4, fps=10)
    with pytest.raises(HashingFailed, match=r"no video stream|cannot"):
        hash_video(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "cannot open video"),
        (b"not a video at all", "cannot open video"),
        (encode(gradient()), "not a video container: png_pipe"),
    ],
    ids=["empty", "text", "png"],
)
def test_bad_videos_fail_clearly(data, message):
    with pytest.raises(HashingFailed, match=message):
        VIDEO.compute(data, "video")


def test_the_pixel_limit_applies_to_frames(settings):
    settings.MEDIA_MAX_PIXELS = 64 * 48 - 1
    with pytest.raises(HashingFailed, match="64x48 are over the pixel limit of 3,071"):
        hash_video(video(seconds=1))


def test_the_duration_limit(settings):
    settings.VIDEO_MAX_SECONDS = 2
    with pytest.raises(HashingFailed, match="over the limit of 2 s"):
        hash_video(video(seconds=4))


def test_a_weak_copy_of_a_frame_does_not_hide_a_strong_one():
    # Quality is filtered before duplicates are dropped (see compare_videos).
    weak_then_strong = [VideoFrame(0, 10, A, 0.0), VideoFrame(1, 100, A, 1.0)]
    assert compare_videos(weak_then_strong, frames(A)) == VideoComparison(100.0, 100.0)
