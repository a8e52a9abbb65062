"""Benign generated media for tests, and hostile variants of it (bombs, truncations)."""

import io
import struct
import zlib

import av
from PIL import Image

from openhotline.simnet.images import make_jpeg, make_png

__all__ = ["animated_gif", "huge_png_header", "make_jpeg", "make_png", "tiny_video"]


def huge_png_header(width: int, height: int) -> bytes:
    """A valid PNG header declaring huge dimensions, with one tiny compressed row: the
    classic pixel bomb (kilobytes that would decode to gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def animated_gif(frames: int, size: tuple[int, int] = (64, 64)) -> bytes:
    images = [Image.new("L", size, color=(n * 7) % 256) for n in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=40)
    return out.getvalue()


def tiny_video(frames: int = 12, size: tuple[int, int] = (64, 48)) -> bytes:
    """A short benign MP4 (moving gradient), encoded in memory."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=12)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for n in range(frames):
            image = Image.new("RGB", size, color=(n * 20 % 256, 80, 160))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
