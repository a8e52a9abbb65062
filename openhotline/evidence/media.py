"""Checking media from bytes (never from names or headers), with limits against bombs,
and previews made in memory. Nothing here touches the disk.

`inspect` never raises for bad input: corrupt, truncated, over-limit or unknown files
come back as a result with a reason, so a worker never dies on hostile media. Captured
media is decoded through `decoding.examine` (another process, a time budget), which runs
`examine` here; only our own small preview bases are decoded in the caller's process.
"""

import io
import warnings
from dataclasses import dataclass

import av
from django.conf import settings
from PIL import Image, ImageFilter, ImageOps

from openhotline.evidence.models import MediaCheck, MediaKind
from openhotline.signals.types import ComputeResult, compute_all
from openhotline.signals.types.sniff import sniff

# Pillow refuses images above twice this with DecompressionBombError; our own check
# (below) refuses above MEDIA_MAX_PIXELS first, with a reason.
Image.MAX_IMAGE_PIXELS = None

# Previews are at most this many pixels a side; the sealed preview base is made at this
# size, in colour and unblurred, and each person's blur and greyscale are applied to it.
PREVIEW_SIDE = 512


@dataclass(frozen=True)
class MediaFacts:
    kind: str
    mime: str
    format: str
    check: str
    problem: str = ""
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    duration_seconds: float | None = None


def inspect(data: bytes) -> MediaFacts:
    kind, mime, fmt = sniff(data)
    if not data:
        return MediaFacts(MediaKind.OTHER, mime, fmt, MediaCheck.UNSUPPORTED, "empty file")
    if kind == MediaKind.IMAGE:
        return _inspect_image(data, mime, fmt)
    if kind == MediaKind.VIDEO:
        return _inspect_video(data, mime, fmt)
    return MediaFacts(kind, mime, fmt, MediaCheck.UNSUPPORTED, "not a known image or video format")


def _inspect_image(data: bytes, mime: str, fmt: str) -> MediaFacts:
    def result(check: str, problem: str = "", **facts: int | None) -> MediaFacts:
        return MediaFacts(MediaKind.IMAGE, mime, fmt, check, problem, **facts)

    try:
        with warnings.catch_warnings():
            # Hostile files warn a lot (corrupt EXIF…); the outcome is recorded instead.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            pixels = width * height
            if pixels > settings.MEDIA_MAX_PIXELS:
                return result(
                    MediaCheck.REFUSED,
                    f"pixel bomb: {width}x{height} = {pixels:,} pixels, over the limit of "
                    f"{settings.MEDIA_MAX_PIXELS:,}",
                    width=width,
                    height=height,
                )
            frames = _count_frames(image)
            if (
                frames > settings.MEDIA_MAX_FRAMES
                or frames * pixels > settings.MEDIA_MAX_TOTAL_PIXELS
            ):
                return result(
                    MediaCheck.REFUSED,
                    f"animation bomb: {frames} frames of {width}x{height}, over the limits",
                    width=width,
                    height=height,
                    frames=frames,
                )
            # Decode every frame: truncation and corruption show only when pixels are read.
            # Frames may differ in size (multi-page TIFF), so check each before decoding.
            total = 0
            for index in range(frames):
                image.seek(index)
                frame_pixels = image.size[0] * image.size[1]
                total += frame_pixels
                if (
                    frame_pixels > settings.MEDIA_MAX_PIXELS
                    or total > settings.MEDIA_MAX_TOTAL_PIXELS
                ):
                    return result(
                        MediaCheck.REFUSED,
                        f"pixel bomb: frame {index + 1} is {image.size[0]}x{image.size[1]}; "
                        "over the limits",
                        width=width,
                        height=height,
                        frames=frames,
                    )
                image.load()
            return result(MediaCheck.OK, width=width, height=height, frames=frames)
    except MemoryError:
        return result(MediaCheck.REFUSED, "decoding needed more memory than is available")
    except Exception as exc:  # any decoder failure on hostile bytes is "corrupt"
        return result(MediaCheck.CORRUPT, f"cannot decode: {_plain(exc)}")


def _count_frames(image: Image.Image) -> int:
    """Frames of an animation, counted without decoding more than the limit allows."""
    declared = getattr(image, "n_frames", 1)
    return int(declared)


def _inspect_video(data: bytes, mime: str, fmt: str) -> MediaFacts:
    facts: dict[str, float | int | None] = {}

    def result(check: str, problem: str = "") -> MediaFacts:
        return MediaFacts(
            MediaKind.VIDEO, mime, fmt, check, problem,
            width=_int(facts.get("width")), height=_int(facts.get("height")),
            frames=_int(facts.get("frames")), duration_seconds=facts.get("duration"),
        )  # fmt: skip

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                return result(MediaCheck.UNSUPPORTED, "no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            duration = float(container.duration / av.time_base) if container.duration else None
            facts.update(width=width, height=height, duration=duration)
            if width * height > settings.MEDIA_MAX_PIXELS:
                return result(MediaCheck.REFUSED, f"video frames of {width}x{height} are over "
                              "the pixel limit")  # fmt: skip
            if duration is not None and duration > settings.VIDEO_MAX_SECONDS:
                return result(MediaCheck.REFUSED, f"video of {duration:.0f} s is over the limit "
                              f"of {settings.VIDEO_MAX_SECONDS} s")  # fmt: skip
            decoded = 0
            for _frame in container.decode(stream):
                decoded += 1
                if decoded >= settings.VIDEO_MAX_DECODED_FRAMES:
                    break
            facts["frames"] = decoded
            if decoded == 0:
                return result(MediaCheck.CORRUPT, "no frame could be decoded")
            return result(MediaCheck.OK)
    except MemoryError:
        return result(MediaCheck.REFUSED, "decoding needed more memory than is available")
    except Exception as exc:  # any decoder failure on hostile bytes is "corrupt"
        return result(MediaCheck.CORRUPT, f"cannot decode: {_plain(exc)}")


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def _plain(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:300]


@dataclass(frozen=True)
class Examined:
    """What one decode of captured media found: its facts, the preview base (a JPEG of
    at most PREVIEW_SIDE a side, unblurred, to be sealed) and its hashes."""

    facts: MediaFacts
    preview_base: bytes | None = None
    hashes: ComputeResult | None = None


def examine(data: bytes, *, hashes: bool = True, preview: bool = True) -> Examined:
    """Everything captured media needs decoded, in one pass over its bytes. Run it through
    `decoding.examine`, which adds the time budget and memory cap."""
    facts = inspect(data)
    base = None
    if preview and facts.check == MediaCheck.OK:
        try:
            base = preview_base(data, checked=True)
        except Exception:  # a frame that inspect accepted may still fail to convert
            base = None
    computed = None
    if hashes:
        kind = facts.kind if facts.kind in (MediaKind.IMAGE, MediaKind.VIDEO) else "other"
        try:
            computed = compute_all(data, str(kind))
        except MemoryError:
            computed = compute_all(data, "other")  # the exact hashes need no decoding
            computed.failures["pdq" if kind == MediaKind.IMAGE else "video"] = (
                "decoding needed more memory than is allowed"
            )
    return Examined(facts, base, computed)


def preview_base(data: bytes, *, checked: bool = False) -> bytes:
    """The unblurred colour preview every blurred preview is made from: oriented, first
    frame, scaled to PREVIEW_SIDE, as JPEG. Raises ValueError if nothing can be shown."""
    image = _first_image(data, checked=checked).convert("RGB")
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def blur_base(base: bytes, *, blur: float, greyscale: bool) -> bytes:
    """A person's preview from a sealed preview base: cheap (at most 512 px, and Pillow's
    blur costs the same at any radius), so it is done in the web process on each view."""
    image = Image.open(io.BytesIO(base))
    if image.format != "JPEG" or max(image.size) > PREVIEW_SIDE:
        raise ValueError("not a preview base")
    return _render(image.convert("RGB"), blur=blur, greyscale=greyscale)


def preview(
    data: bytes, *, max_side: int = PREVIEW_SIDE, blur: float = 0.0, greyscale: bool = True
) -> bytes:
    """A PNG preview made in memory: oriented, scaled down, optionally blurred and grey.

    For a video, its first decodable frame. Raises ValueError if nothing can be shown.
    Decodes the original: for captured media use `decoding.examine`'s preview base and
    `blur_base`.
    """
    image = _first_image(data).convert("RGB")
    image.thumbnail((max_side, max_side))
    return _render(image, blur=blur, greyscale=greyscale)


def _render(image: Image.Image, *, blur: float, greyscale: bool) -> bytes:
    if greyscale:
        image = ImageOps.grayscale(image)
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(radius=blur))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _first_image(data: bytes, *, checked: bool = False) -> Image.Image:
    """The first frame, oriented; `checked`: inspect already found the file decodable."""
    if not checked:
        facts = inspect(data)
        if facts.check != MediaCheck.OK:
            raise ValueError(f"no preview: {facts.problem}")
    kind, _mime, _fmt = sniff(data)
    if kind == MediaKind.VIDEO:
        with av.open(io.BytesIO(data), mode="r") as container:
            for frame in container.decode(container.streams.video[0]):
                return frame.to_image()
        raise ValueError("no preview: no frame")
    image = Image.open(io.BytesIO(data))
    image.seek(0)
    return ImageOps.exif_transpose(image) or image
