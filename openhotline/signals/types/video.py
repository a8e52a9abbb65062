"""Video hashes compatible with Meta's vPDQ: a PDQ hash per sampled frame.

Hashing follows vPDQ's reference: frames are numbered from 0 in the order the decoder
outputs them; one frame in every int(seconds_per_hash x frame rate) is hashed (one a
second by default, every frame when seconds_per_hash is 0); the frame rate is the
stream's average rate (else its base rate); a frame's timestamp is its number divided
by that rate. Frames are decoded with PyAV and converted to RGB24 at full size, as vPDQ
does with libswscale.

The canonical text is vPDQ's own hash file format, one frame a line:
`frame_number,quality,pdq_hex,timestamp` with the timestamp to 3 decimals.

Matching is vPDQ's brute-force comparison: frames below quality 50 are dropped, then
duplicate frame hashes; a frame matches when some frame of the other video is within
PDQ distance 31 (at most 31, as vPDQ's README and python-threatexchange have it; its C++
counts only distances below 31). The query-match percentage is the share of the query's
frames that match, the compared-match percentage the share of the compared video's
frames that match. vPDQ leaves the two thresholds to the caller (its README's example is
80% of the compared video and 0% of the query; python-threatexchange's default is the
reverse); OpenHotline asks for 80% in both directions, so a match means the two videos
are mostly the same footage, not that one is a clip of the other.
"""

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import av
import numpy as np
import numpy.typing as npt

from openhotline.signals.types.base import (
    KIND_VIDEO,
    BadHash,
    HashingFailed,
    HashType,
    HashValue,
    check_kind,
    hex_digits,
    setting,
)
from openhotline.signals.types.images import max_pixels
from openhotline.signals.types.pdq import PDQ_HEX_LENGTH, PDQ_MATCH_DISTANCE, pdq_of_pixels

SECONDS_PER_HASH = 1.0
FRAME_MATCH_DISTANCE = PDQ_MATCH_DISTANCE
FRAME_MIN_QUALITY = 50
MATCH_PERCENT = 80.0
# FFmpeg demuxers hashed here (names as FFmpeg gives them). FFmpeg reads much more,
# playlists and still images among them; those are not videos to hash.
VIDEO_CONTAINERS = frozenset(
    {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "flv", "mpegts",
     "mpeg", "ogg", "asf", "ivf", "m4v", "h264", "hevc"}
)  # fmt: skip
# Rows of the frame-distance matrix worked on at once: bounds memory for long videos.
_ROWS_PER_CHUNK = 64


class VideoFrame(NamedTuple):
    frame_number: int
    quality: int
    pdq_hex: str
    timestamp: float

    def line(self) -> str:
        return f"{self.frame_number},{self.quality},{self.pdq_hex},{self.timestamp:.3f}"


VideoHash = tuple[VideoFrame, ...]


@dataclass(frozen=True, slots=True)
class VideoComparison:
    """How much of each video the other covers, in percent (vPDQ's two numbers)."""

    query_percent: float
    compared_percent: float

    def is_match(
        self, query_min: float = MATCH_PERCENT, compared_min: float = MATCH_PERCENT
    ) -> bool:
        return self.query_percent >= query_min and self.compared_percent >= compared_min


def compare_videos(
    query: Sequence[VideoFrame],
    compared: Sequence[VideoFrame],
    *,
    frame_distance: int = FRAME_MATCH_DISTANCE,
    min_quality: int = FRAME_MIN_QUALITY,
) -> VideoComparison:
    """vPDQ's brute-force comparison of two frame lists."""
    query_bits = _usable_frame_bits(query, min_quality)
    compared_bits = _usable_frame_bits(compared, min_quality)
    if not len(query_bits) or not len(compared_bits):
        # Nothing to compare on one side: nothing matches (as vPDQ's C++ says).
        return VideoComparison(0.0, 0.0)
    query_matched = np.zeros(len(query_bits), dtype=bool)
    compared_matched = np.zeros(len(compared_bits), dtype=bool)
    for start in range(0, len(query_bits), _ROWS_PER_CHUNK):
        rows = query_bits[start : start + _ROWS_PER_CHUNK]
        distances = np.bitwise_count(rows[:, None, :] ^ compared_bits[None, :, :]).sum(axis=2)
        close = distances <= frame_distance
        query_matched[start : start + len(rows)] = close.any(axis=1)
        compared_matched |= close.any(axis=0)
    return VideoComparison(
        int(query_matched.sum()) * 100 / len(query_bits),
        int(compared_matched.sum()) * 100 / len(compared_bits),
    )


def _usable_frame_bits(frames: Sequence[VideoFrame], min_quality: int) -> npt.NDArray[np.uint64]:
    """Each distinct frame hash of good enough quality, as 4 x 64-bit words."""
    # Quality first, then duplicates. Upstream is not of one mind (python-threatexchange's
    # matcher dedupes first, its index filters first, the C++ does not dedupe at all);
    # deduping first would let a weak copy of a hash hide a strong one.
    kept = list(dict.fromkeys(f.pdq_hex for f in frames if f.quality >= min_quality))
    raw = bytes.fromhex("".join(kept))
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(kept), 4)


def hash_video(data: bytes, seconds_per_hash: float = SECONDS_PER_HASH) -> tuple[VideoHash, str]:
    """(frames, note) of a video's bytes; raises HashingFailed.

    The note is empty, or says why hashing stopped early when decoding failed part way:
    the frames hashed until then are kept, since a cut-short file is still worth matching.
    """
    limit_pixels = max_pixels()
    limit_seconds = float(setting("VIDEO_MAX_SECONDS", 3 * 3600))
    frames: list[VideoFrame] = []
    note = ""
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise HashingFailed(f"cannot open video: {_plain(exc)}") from None
    with container:
        if not VIDEO_CONTAINERS.intersection(container.format.name.split(",")):
            raise HashingFailed(f"not a video container: {container.format.name}")
        if not container.streams.video:
            raise HashingFailed("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if not (math.isfinite(fps) and fps > 0):
            raise HashingFailed("the video stream has no frame rate")
        if container.duration and container.duration / av.time_base > limit_seconds:
            raise HashingFailed(
                f"video of {container.duration / av.time_base:.0f} s is over the limit "
                f"of {limit_seconds:.0f} s"
            )
        every = max(1, int(seconds_per_hash * fps))
        # Containers can lie about their duration; the frame count cannot.
        max_frames = int(limit_seconds * fps) + 1
        number = -1
        try:
            for number, frame in enumerate(container.decode(stream)):
                if number >= max_frames:
                    raise HashingFailed(f"video is over the limit of {limit_seconds:.0f} s")
                if number % every:
                    continue
                if frame.width * frame.height > limit_pixels:
                    raise HashingFailed(
                        f"video frames of {frame.width}x{frame.height} are over the pixel "
                        f"limit of {limit_pixels:,}"
                    )
                pdq_hex, quality = pdq_of_pixels(frame.to_ndarray(format="rgb24"))
                frames.append(VideoFrame(number, quality, pdq_hex, round(number / fps, 3)))
        except HashingFailed:
            raise
        except (av.error.FFmpegError, OSError, ValueError, IndexError, MemoryError) as exc:
            if not frames:
                raise HashingFailed(f"cannot decode video: {_plain(exc)}") from None
            note = f"decoding stopped after frame {number}: {_plain(exc)}"
    if not frames:
        raise HashingFailed("no frame could be decoded")
    return tuple(frames), note


def _plain(exc: BaseException) -> str:
    # FFmpeg errors carry a readable strerror; their str() adds an errno and a filename.
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)[:300]


class VideoHashType(HashType[VideoHash]):
    name = "video"
    label = "Video (vPDQ)"
    exact = False
    # The distance is the share of frames (in %) left unmatched in the worse direction,
    # so "at least 80% both ways" is "distance at most 20".
    default_threshold = 100.0 - MATCH_PERCENT
    examples = (
        # Frames from public test photos in Meta's ThreatExchange repository.
        "0,100,f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22,0.000\n"
        "30,100,489db672e9190276d452aeab41eba20f02375fe4092d88defdf491a5c55c5f70,1.000",
        "0,100,cfb2009ddd21c6dab0846a7745b5984757a8a4535b3377aea2591d32b33ff840,0.000\n"
        "25,100,b150231ffae4710ffcf4f18bb574b109a576f14bb8543189f8743289f174b109,1.000\n"
        "50,90,a0fe94f1e5cc1cc8dd855948498dc9243f7ca27336f036d7f212b74bc103c9a7,2.000",
    )

    # --- reading and writing ---------------------------------------------------------

    def parse(self, value: object) -> VideoHash:
        """vPDQ hash file text, or a sequence of VideoFrame or 4-tuples."""
        if isinstance(value, str):
            return self._parse_lines(value)
        if isinstance(value, list | tuple):
            return self._parse_frames(value)
        raise self.bad(
            BadHash.WRONG_TYPE, f"expected text or a list of frames, got {type(value).__name__}"
        )

    def _parse_text(self, text: str, offset: int) -> VideoHash:
        return self._parse_lines(text)

    def _parse_lines(self, text: str) -> VideoHash:
        frames: list[VideoFrame] = []
        line_numbers: list[int] = []
        for line_number, raw_line in enumerate(text.split("\n"), start=1):
            line = raw_line.rstrip("\r")
            if not line.strip():
                continue  # blank lines (and the final newline of a file) carry nothing
            frames.append(self._parse_line(line, line_number))
            line_numbers.append(line_number)
        if not frames:
            raise self.bad(BadHash.EMPTY, "no frames" if not text else "only whitespace")
        return self._checked_order(frames, line_numbers)

    def _parse_line(self, line: str, line_number: int) -> VideoFrame:
        fields = line.split(",")
        if len(fields) != 4:
            raise self.bad(
                BadHash.BAD_FORMAT,
                f"expected 4 comma-separated fields (frame_number,quality,pdq_hex,timestamp), "
                f"got {len(fields)}",
                line=line_number,
            )
        # Each field stripped, with the 1-based position where its text starts.
        cells: list[tuple[str, int]] = []
        start = 0
        for field in fields:
            cells.append((field.strip(), start + len(field) - len(field.lstrip()) + 1))
            start += len(field) + 1
        number_text, number_at = cells[0]
        quality_text, quality_at = cells[1]
        hex_text, hex_at = cells[2]
        time_text, time_at = cells[3]
        frame_number = self._whole_number(number_text, "frame number", line_number, number_at)
        quality = self._whole_number(quality_text, "quality", line_number, quality_at)
        if quality > 100:
            raise self.bad(
                BadHash.OUT_OF_RANGE,
                f"quality {quality} is over 100",
                line=line_number,
                position=quality_at,
            )
        pdq_hex = self._frame_hex(hex_text, line_number, hex_at)
        timestamp = self._timestamp(time_text, line_number, time_at)
        return VideoFrame(frame_number, quality, pdq_hex, timestamp)

    def _whole_number(self, text: str, what: str, line: int, position: int) -> int:
        if not text:
            raise self.bad(BadHash.EMPTY, f"no {what}", line=line, position=position)
        if not (text.isascii() and text.isdigit()):
            raise self.bad(
                BadHash.BAD_FORMAT,
                f"{what} {text!r} is not a whole number of 0 or more",
                line=line,
                position=position,
            )
        return int(text)

    def _frame_hex(self, text: str, line: int, position: int) -> str:
        if not text:
            raise self.bad(BadHash.EMPTY, "no frame hash", line=line, position=position)
        try:
            raw = hex_digits(self.name, text, position - 1, PDQ_HEX_LENGTH)
        except BadHash as exc:
            raise self.bad(
                exc.problem, f"frame hash: {exc.reason}", line=line, position=exc.position
            ) from None
        return raw.hex()

    def _timestamp(self, text: str, line: int, position: int) -> float:
        try:
            seconds = float(text)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds >= 0):
            raise self.bad(
                BadHash.BAD_FORMAT,
                f"timestamp {text!r} is not a number of seconds of 0 or more",
                line=line,
                position=position,
            )
        return round(seconds, 3)

    def _parse_frames(self, items: Sequence[object]) -> VideoHash:
        if not items:
            raise self.bad(BadHash.EMPTY, "no frames")
        frames = []
        for index, item in enumerate(items, start=1):
            if not (isinstance(item, tuple | list) and len(item) == 4):
                raise self.bad(
                    BadHash.WRONG_TYPE,
                    "each frame must be (frame_number, quality, pdq_hex, timestamp), got "
                    f"{type(item).__name__}",
                    line=index,
                )
            # Checked as text: one set of rules and messages for both forms.
            number, quality, pdq_hex, timestamp = item
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in (number, quality)):
                raise self.bad(
                    BadHash.WRONG_TYPE, "frame number and quality must be integers", line=index
                )
            if not isinstance(pdq_hex, str):
                raise self.bad(BadHash.WRONG_TYPE, "the frame hash must be text", line=index)
            if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
                raise self.bad(BadHash.WRONG_TYPE, "the timestamp must be a number", line=index)
            frames.append(self._parse_line(f"{number},{quality},{pdq_hex},{timestamp!r}", index))
        return self._checked_order(frames, list(range(1, len(frames) + 1)))

    def _checked_order(self, frames: list[VideoFrame], line_numbers: list[int]) -> VideoHash:
        for index in range(1, len(frames)):
            before, after = frames[index - 1], frames[index]
            if after.frame_number <= before.frame_number:
                raise self.bad(
                    BadHash.BAD_FORMAT,
                    f"frame numbers must increase: {after.frame_number} follows "
                    f"{before.frame_number}",
                    line=line_numbers[index],
                )
        return tuple(frames)

    def format(self, parsed: VideoHash) -> str:
        return "\n".join(frame.line() for frame in parsed)

    # --- comparing -------------------------------------------------------------------

    def compare(self, a: object, b: object) -> VideoComparison:
        """vPDQ's two percentages, `a` as the query."""
        return compare_videos(self.parse(a), self.parse(b))

    def _distance(self, a: VideoHash, b: VideoHash) -> float:
        result = compare_videos(a, b)
        return 100.0 - min(result.query_percent, result.compared_percent)

    # --- computing -------------------------------------------------------------------

    def compute(self, data: bytes, kind: str) -> list[HashValue]:
        check_kind(kind)
        if kind != KIND_VIDEO:
            return []
        frames, note = hash_video(data)
        return [
            HashValue(
                self.name,
                self.format(frames),
                usable_for_matching=any(f.quality >= FRAME_MIN_QUALITY for f in frames),
                note=note,
            )
        ]
