"""Decoding image bytes into the RGB pixels perceptual hashes read: in memory, within
the pixel limit, and only with Pillow's plain raster decoders (never EPS, which runs
Ghostscript, or other exotic plugins).
"""

import io
import warnings

import numpy as np
import numpy.typing as npt
from PIL import Image

from openhotline.signals.types.base import HashingFailed, setting

# Raster formats Pillow decodes itself; whichever of these this Pillow has are tried.
SAFE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF", "PPM")

RGBArray = npt.NDArray[np.uint8]


def max_pixels() -> int:
    return int(setting("MEDIA_MAX_PIXELS", 50_000_000))


def decode_rgb(data: bytes) -> RGBArray:
    """The first frame of an image as an H x W x 3 uint8 array; raises HashingFailed.

    Every mode becomes RGB through Pillow's own `convert("RGB")`, as python-threatexchange's
    PDQ hasher does: alpha is dropped (not composited), palettes are expanded and 16-bit
    grey is clipped, so hashes equal the ones Meta's tools compute from the same file.
    EXIF orientation is not applied, as in the C++ reference and python-threatexchange.
    """
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
                rgb = image if image.mode == "RGB" else image.convert("RGB")
                rgb.load()
                return np.asarray(rgb)
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
