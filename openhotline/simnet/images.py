"""Deterministic, benign test images: a colour gradient with a few random shapes on top.

The same seed always gives the same bytes and different seeds give visibly different pictures
(perceptual-hash tests rely on that). Images are only ever built in memory.
"""

from __future__ import annotations

import functools
import hashlib
import io
import random
from typing import Literal

from PIL import Image, ImageDraw, ImageOps

ImageFormat = Literal["png", "jpeg"]

DEFAULT_SIZE = (320, 240)
MAX_SIDE = 4096

_CONTENT_TYPES: dict[ImageFormat, str] = {"png": "image/png", "jpeg": "image/jpeg"}
_EXTENSIONS: dict[str, ImageFormat] = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg"}

Colour = tuple[int, int, int]


def make_png(seed: str, size: tuple[int, int] = DEFAULT_SIZE) -> bytes:
    return make_image(seed, "png", size)


def make_jpeg(seed: str, size: tuple[int, int] = DEFAULT_SIZE) -> bytes:
    return make_image(seed, "jpeg", size)


def make_image(seed: str, fmt: ImageFormat, size: tuple[int, int] = DEFAULT_SIZE) -> bytes:
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"image size {size} outside 1..{MAX_SIDE}")
    if fmt not in _CONTENT_TYPES:
        raise ValueError(f"unknown image format {fmt!r}")
    return _render(seed, fmt, width, height)


def format_for_name(name: str) -> ImageFormat | None:
    """``"a.png"`` -> ``"png"``, ``"b.jpg"`` -> ``"jpeg"``, anything else -> None."""
    _, dot, ext = name.rpartition(".")
    return _EXTENSIONS.get(ext.lower()) if dot else None


def content_type(fmt: ImageFormat) -> str:
    return _CONTENT_TYPES[fmt]


# Pages reference the same images over and over; rendering is the expensive part.
@functools.lru_cache(maxsize=2048)
def _render(seed: str, fmt: ImageFormat, width: int, height: int) -> bytes:
    image = _draw(seed, width, height)
    buf = io.BytesIO()
    if fmt == "png":
        image.save(buf, format="PNG")
    else:
        image.save(buf, format="JPEG", quality=88)
    return buf.getvalue()


def _rng(seed: str) -> random.Random:
    # Hash first so the picture depends only on the seed string, not on Python's str seeding.
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311 - pictures, not secrets


def _colour(rng: random.Random) -> Colour:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _gradient(rng: random.Random, width: int, height: int) -> Image.Image:
    if rng.random() < 0.5:
        # Oversize then crop after rotating, so the rotated corners never show.
        ramp = Image.linear_gradient("L").resize((512, 512))
        ramp = ramp.rotate(rng.uniform(0, 360), resample=Image.Resampling.BICUBIC)
        ramp = ramp.crop((128, 128, 384, 384))
    else:
        ramp = Image.radial_gradient("L")
        left, top = rng.randrange(0, 96), rng.randrange(0, 96)
        ramp = ramp.crop((left, top, left + 160, top + 160))
    ramp = ramp.resize((width, height), resample=Image.Resampling.BICUBIC)
    return ImageOps.colorize(ramp, black=_colour(rng), white=_colour(rng))


def _draw(seed: str, width: int, height: int) -> Image.Image:
    rng = _rng(seed)
    image = _gradient(rng, width, height)
    draw = ImageDraw.Draw(image)
    unit = max(4, min(width, height) // 3)
    for _ in range(rng.randint(3, 7)):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randint(unit // 3, unit), rng.randint(unit // 3, unit)
        box = (x - w // 2, y - h // 2, x + w // 2, y + h // 2)
        fill = _colour(rng)
        match rng.randrange(4):
            case 0:
                draw.ellipse(box, fill=fill)
            case 1:
                draw.rectangle(box, fill=fill)
            case 2:
                points = [(x + rng.randint(-w, w), y + rng.randint(-h, h)) for _ in range(3)]
                draw.polygon(points, fill=fill)
            case _:
                draw.line(box, fill=fill, width=max(1, unit // 8))
    return image
