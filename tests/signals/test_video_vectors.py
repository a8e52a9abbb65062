"""Video hashes against vPDQ's sample videos and their expected hash files.

The expected files hash every frame (frame numbers 0, 1, 2, ... at 30 fps), while
OpenHotline hashes one frame a second, as vPDQ does by default. So every sample video
that has an expected file is hashed twice:
  - the default way (frames 0, 30, 60, ...), compared with the expected file's frames of
    the same numbers: same timestamps, frames of quality >= 80 within 10 bits, and a
    match under the vPDQ rule (80% both ways);
  - at every frame, matched against the whole expected file as vPDQ's own regression
    test does (about 11 s of the run on two cores).
"""

from functools import cache
from typing import Any

import pytest

from openhotline.signals.types import PDQ, VIDEO
from openhotline.signals.types.video import VideoFrame, VideoHash, hash_video
from tests.signals.vectors import MISSING, expected_video_hash, sample_videos, video_bytes

SAMPLES = sample_videos()


def names(chosen: list[str]) -> list[Any]:
    if not chosen:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))]
    return chosen


@cache
def one_a_second(name: str) -> VideoHash:
    [value] = VIDEO.compute(video_bytes(name), "video")
    assert value.note == ""
    return VIDEO.parse(value.value)


@cache
def expected(name: str) -> dict[int, VideoFrame]:
    return {frame.frame_number: frame for frame in VIDEO.parse(expected_video_hash(name))}


def assert_frames_agree(ours: VideoHash, theirs: dict[int, VideoFrame]) -> None:
    for frame in ours:
        reference = theirs[frame.frame_number]
        assert frame.timestamp == pytest.approx(reference.timestamp, abs=0.0015)
        if frame.quality >= 80 and reference.quality >= 80:
            distance = PDQ.distance(frame.pdq_hex, reference.pdq_hex)
            assert distance <= 10, f"frame {frame.frame_number}: {distance} bits apart"


def test_every_sample_video_with_an_expected_file_is_covered():
    if not SAMPLES:
        pytest.skip(MISSING)
    assert len(SAMPLES) == 7


@pytest.mark.parametrize("name", names(SAMPLES))
def test_one_frame_a_second_lines_up_with_the_expected_file(name):
    ours = one_a_second(name)
    theirs = expected(name)
    # 30 fps: frames 0, 30, 60, ... up to the last frame the expected file has.
    assert [frame.frame_number for frame in ours] == list(range(0, max(theirs) + 1, 30))
    assert_frames_agree(ours, theirs)


@pytest.mark.parametrize("name", names(SAMPLES))
def test_one_frame_a_second_matches_under_the_vpdq_rule(name):
    ours = one_a_second(name)
    theirs = expected(name)
    same_frames = [theirs[frame.frame_number] for frame in ours]
    assert VIDEO.matches(ours, same_frames)
    comparison = VIDEO.compare(ours, same_frames)
    assert (comparison.query_percent, comparison.compared_percent) == (100.0, 100.0)
    # Against the whole file, every one of our frames is found in it; the other way
    # round only the sampled share can be, which is what vPDQ's query/compared split is for.
    against_all = VIDEO.compare(ours, list(theirs.values()))
    assert against_all.query_percent == 100.0
    assert against_all.is_match(query_min=80, compared_min=0)


@pytest.mark.parametrize("name", names(SAMPLES))
def test_every_frame_matches_the_whole_expected_file(name):
    ours, note = hash_video(video_bytes(name), seconds_per_hash=0)
    theirs = expected(name)
    assert note == ""
    assert [frame.frame_number for frame in ours] == sorted(theirs)
    assert_frames_agree(ours, theirs)
    assert VIDEO.matches(ours, VIDEO.format(tuple(theirs.values())))
    assert VIDEO.distance(ours, list(theirs.values())) == 0


def test_expected_files_round_trip_exactly():
    if not SAMPLES:
        pytest.skip(MISSING)
    for name in SAMPLES:
        text = expected_video_hash(name)
        assert VIDEO.normalize(text) == text.rstrip("\n")
