"""Decoding image bytes into the pixels perceptual hashes read: in memory, within the
pixel limit, and only with Pillow's plain raster decoders (never EPS, which runs
Ghostscript, or other exotic plugins).
"""

import io
import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from PIL import Image

from openhotline.signals.types.base import HashingFailed, setting

# Raster formats Pillow decodes itself; whichever of these this Pillow has are tried.
SAFE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF", "PPM")

RGBArray = npt.NDArray[np.uint8]
# PDQ's luma: float32, or uint8 for 8-bit grey pictures, whose luma is the grey itself.
LumaArray = npt.NDArray[np.float32] | npt.NDArray[np.uint8]


def max_pixels() -> int:
    return int(setting("MEDIA_MAX_PIXELS", 50_000_000))


def decode_rgb(data: bytes) -> RGBArray:
    """The first frame of an image as an H x W x 3 uint8 array; raises HashingFailed.

    Every mode becomes RGB through Pillow's own `convert("RGB")`, as python-threatexchange's
    PDQ hasher does: alpha is dropped (not composited), palettes are expanded and 16-bit
    grey is clipped, so hashes equal the ones Meta's tools compute from the same file.
    EXIF orientation is not applied, as in the C++ reference and python-threatexchange.
    """
    return _decode(data, lambda image: np.asarray(_rgb(image)))


def decode_luma(data: bytes) -> LumaArray:
    """PDQ's luma 0.299R + 0.587G + 0.114B of `decode_rgb`'s pixels; raises HashingFailed.

    Bit for bit the float32 luma pdqhash computes from those pixels: Pillow's RGB-to-F
    conversion is the same sum, in C, with no H x W x 3 array in between.
    """

    def luma(image: Image.Image) -> LumaArray:
        if image.mode == "L":
            # convert("RGB") would copy the grey to all three channels, which sum back to it.
            image.load()
            return np.asarray(image)
        return _float_luma(_rgb(image))

    return _decode(data, luma)


def _float_luma(rgb: Image.Image) -> npt.NDArray[np.float32]:
    luma = np.empty((rgb.height, rgb.width), np.float32)
    try:
        # Pillow's conversion written straight into numpy's memory, through the internals
        # Image.frombuffer and ImageTk use: convert("F") then np.asarray would make two
        # more copies, a fifth of the time PDQ takes on a JPEG.
        target = Image.core.map_buffer(luma, rgb.size, "raw", 0, ("F", 0, 1))
        rgb.im.convert_into(target)
    except (AttributeError, TypeError, ValueError):
        # A Pillow without them, or a size they refuse: the public way.
        return np.asarray(rgb.convert("F"))
    return luma


def _rgb(image: Image.Image) -> Image.Image:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    rgb.load()
    return rgb


def _decode[T](data: bytes, pixels: Callable[[Image.Image], T]) -> T:
    """`pixels` of the opened image, its errors and the pixel limit's as HashingFailed."""
    limit = max_pixels()
    Image.init()
    formats = [name for name in SAFE_FORMATS if name in Image.OPEN]
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning fires above its default; our limit decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=formats) as image:
                width, height = image.size
                if width * height > limit:
                    raise HashingFailed(over_pixel_limit(width, height, limit))
                return pixels(image)
    except HashingFailed:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own, higher limit tripped before ours could be checked.
        raise HashingFailed(f"image is over the pixel limit of {limit:,}: {exc}") from None
    except Image.UnidentifiedImageError:
        # Pillow's own message names the BytesIO object, which says nothing.
        known = ", ".join(formats)
        raise HashingFailed(f"not an image in a format read here ({known})") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise HashingFailed(f"cannot decode image: {exc or type(exc).__name__}") from None


def over_pixel_limit(width: int, height: int, limit: int) -> str:
    pixels = width * height
    return f"image of {width}x{height} = {pixels:,} pixels is over the pixel limit of {limit:,}"
