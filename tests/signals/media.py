"""Small benign media made in memory for the tests: test-card images and videos."""

import io

import av
import numpy as np
from PIL import Image


def gradient(width: int = 96, height: int = 64) -> Image.Image:
    """A featureful RGB picture: diagonal bands and a bright square."""
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    green = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    blue = (((x // 8 + y // 8) % 2) * 255).astype(np.uint8)
    pixels = np.stack([red, green, blue], axis=2)
    pixels[height // 4 : height // 2, width // 4 : width // 2] = 255
    return Image.fromarray(pixels, "RGB")


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def video(
    seconds: float = 3.0, fps: int = 10, width: int = 64, height: int = 48, fmt: str = "mp4"
) -> bytes:
    """An MPEG-4 video whose picture changes every second."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=fmt) as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        base = np.asarray(gradient(width, height))
        for index in range(int(seconds * fps)):
            # A new picture each second, so one-a-second hashes differ from each other.
            pixels = np.roll(base, shift=(index // fps) * 7, axis=1)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
