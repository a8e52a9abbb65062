"""Media are checked from their bytes, with limits; hostile files never crash the check."""

import io

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from openhotline.evidence.media import inspect, preview, sniff
from openhotline.evidence.models import MediaCheck
from tests.evidence.media_samples import (
    animated_gif,
    huge_png_header,
    make_jpeg,
    make_png,
    tiny_video,
)


def test_it_sniffs_types_from_bytes_not_names() -> None:
    assert sniff(make_png("a"))[1] == "image/png"
    assert sniff(make_jpeg("a"))[1] == "image/jpeg"
    assert sniff(animated_gif(2))[1] == "image/gif"
    assert sniff(tiny_video())[1] == "video/mp4"
    assert sniff(b"<html>not an image</html>")[0] == "other"


def test_it_records_dimensions_format_and_frames() -> None:
    facts = inspect(make_jpeg("dims", size=(320, 200)))
    assert (facts.check, facts.width, facts.height, facts.frames) == (MediaCheck.OK, 320, 200, 1)
    gif = inspect(animated_gif(5))
    assert gif.check == MediaCheck.OK and gif.frames == 5
    video = inspect(tiny_video(frames=12))
    assert video.check == MediaCheck.OK and (video.width, video.height) == (64, 48)
    assert video.frames == 12 and video.duration_seconds is not None


@pytest.mark.parametrize(
    ("data", "check", "reason"),
    [
        (b"", MediaCheck.UNSUPPORTED, "empty"),
        (b"\x89PNG\r\n\x1a\n", MediaCheck.CORRUPT, "cannot decode"),
        (make_png("trunc")[:300], MediaCheck.CORRUPT, "cannot decode"),
        (make_jpeg("trunc-j")[:500], MediaCheck.CORRUPT, "cannot decode"),
        (b"GIF89a" + b"\x00" * 20, MediaCheck.CORRUPT, "cannot decode"),
        (b"MZ\x90\x00 an executable", MediaCheck.UNSUPPORTED, "not a known"),
        (huge_png_header(100_000, 100_000), MediaCheck.REFUSED, "pixel bomb"),
        (huge_png_header(1000, 1), MediaCheck.OK, ""),
        (huge_png_header(60_000, 1), MediaCheck.CORRUPT, "cannot decode"),
        (tiny_video()[:200], MediaCheck.CORRUPT, ""),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, MediaCheck.CORRUPT, ""),
    ],
)
def test_hostile_media_is_recorded_with_a_reason(data: bytes, check: str, reason: str) -> None:
    facts = inspect(data)
    assert facts.check == check
    assert reason in facts.problem


def test_animation_bombs_are_refused(settings) -> None:
    settings.MEDIA_MAX_FRAMES = 20
    facts = inspect(animated_gif(30))
    assert facts.check == MediaCheck.REFUSED and "30 frames" in facts.problem
    settings.MEDIA_MAX_FRAMES, settings.MEDIA_MAX_TOTAL_PIXELS = 2000, 64 * 64 * 10
    assert inspect(animated_gif(11)).check == MediaCheck.REFUSED


def test_long_videos_are_refused(settings) -> None:
    settings.VIDEO_MAX_SECONDS = 0
    facts = inspect(tiny_video(frames=24))
    assert facts.check == MediaCheck.REFUSED and "over the limit" in facts.problem


def test_previews_are_small_grey_and_blurred_in_memory() -> None:
    original = make_jpeg("preview", size=(1024, 768))
    png = preview(original, max_side=256, blur=8, greyscale=True)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and max(image.size) == 256 and image.mode == "L"
    sharp = Image.open(io.BytesIO(preview(original, max_side=256, blur=0, greyscale=False)))
    assert sharp.mode == "RGB"
    video = Image.open(io.BytesIO(preview(tiny_video(), max_side=32)))
    assert max(video.size) == 32


def test_previews_apply_exif_orientation() -> None:
    image = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    shown = Image.open(io.BytesIO(preview(out.getvalue(), greyscale=False)))
    assert shown.size == (20, 40)


def test_no_preview_of_a_bomb() -> None:
    with pytest.raises(ValueError, match="pixel bomb"):
        preview(huge_png_header(100_000, 100_000))


def test_a_multi_page_tiff_with_a_huge_later_page_is_refused(settings) -> None:
    settings.MEDIA_MAX_PIXELS = 1_000_000
    pages = [Image.new("L", (1, 1)), Image.new("L", (2000, 2000))]
    out = io.BytesIO()
    pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:])
    facts = inspect(out.getvalue())
    assert facts.check == MediaCheck.REFUSED and "frame 2 is 2000x2000" in facts.problem


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    header=st.sampled_from(
        [
            make_png("fz")[:40],
            make_jpeg("fz")[:40],
            animated_gif(2)[:30],
            b"II*\x00",
            b"MM\x00*",
            b"RIFF\x00\x00\x00\x00WEBP",
            b"BM",
            b"\x00\x00\x00\x18ftypmp42",
            b"\x1aE\xdf\xa3",
        ]
    ),
    tail=st.binary(max_size=400),
)
def test_no_bytes_make_the_check_raise(header: bytes, tail: bytes) -> None:
    facts = inspect(header + tail)
    assert facts.check in set(MediaCheck)
    assert facts.check == MediaCheck.OK or facts.problem
