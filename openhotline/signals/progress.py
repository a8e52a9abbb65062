"""Progress lines for long commands: one line on standard error, rewritten in place,
at most a few times a second, with a rate and (for files) how much has been read."""

import io
import sys
import time
from typing import BinaryIO, TextIO


class CountingReader(io.RawIOBase):
    """Wraps a binary file and counts the bytes read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # RawIOBase's own signature
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


class Progress:
    def __init__(self, verb: str, *, total_bytes: int | None = None, out: TextIO | None = None):
        self.verb = verb
        self.total_bytes = total_bytes
        self.out = out or sys.stderr
        self.started = time.monotonic()
        self.last = 0.0

    def show(
        self, done: int, detail: str = "", read_bytes: int | None = None, force: bool = False
    ) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        parts = [f"{self.verb} {done:,} rows", f"{done / elapsed:,.0f}/s"]
        if read_bytes is not None and self.total_bytes:
            parts.append(f"{read_bytes / 2**20:,.1f} of {self.total_bytes / 2**20:,.1f} MiB "
                         f"({100 * read_bytes / self.total_bytes:.0f}%)")  # fmt: skip
        if detail:
            parts.append(detail)
        self.out.write("\r" + " · ".join(parts) + "  ")
        self.out.flush()

    def finish(self) -> None:
        self.out.write("\n")
        self.out.flush()
