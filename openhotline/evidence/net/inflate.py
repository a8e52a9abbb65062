"""Response bodies decompressed in bounded steps, so a gzip bomb cannot expand in memory.

The fetcher asks only for gzip and deflate and undoes them itself, at most PIECE bytes at
a time however dense the input, and stops reading at its size limit. Bodies as a browser
would see them: several gzip members are joined, raw deflate without the zlib wrapper is
accepted, bytes after the end are ignored, and an unknown encoding leaves the body raw.
"""

import zlib
from collections.abc import Iterable, Iterator

PIECE = 64 * 1024


class DecodeError(Exception):
    """The body is not the gzip or deflate stream its Content-Encoding says."""


class _Inflater:
    """gzip or deflate, yielding at most PIECE bytes at a time however dense the input."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
        self._z = zlib.decompressobj(self._wbits)
        self._started = False
        self._done = False

    def run(self, upstream: Iterable[bytes]) -> Iterator[bytes]:
        for data in upstream:
            yield from self._feed(data)
        yield from self._feed(b"")

    def _feed(self, data: bytes) -> Iterator[bytes]:
        while not self._done:
            try:
                out = self._z.decompress(data, PIECE)
            except zlib.error as exc:
                if not self._started and not self._gzip and self._wbits > 0:
                    # "deflate" is sometimes raw deflate without the zlib wrapper.
                    self._wbits = -zlib.MAX_WBITS
                    self._z = zlib.decompressobj(self._wbits)
                    continue
                raise DecodeError(str(exc)) from None
            self._started = True
            if out:
                yield out
            if self._z.eof:
                rest = self._z.unused_data
                if self._gzip and rest.startswith(b"\x1f\x8b"):
                    self._z = zlib.decompressobj(self._wbits)  # another gzip member
                    data = rest
                    continue
                self._done = True  # bytes after the end are ignored, as browsers do
                return
            data = self._z.unconsumed_tail
            if not data and len(out) < PIECE:
                return


def decode_body(raw: Iterator[bytes], encodings: list[str]) -> Iterator[bytes]:
    """The body as the browser would see it; raw if an encoding is one we do not know."""
    names = [name.strip().lower() for name in encodings if name.strip()]
    names = [name for name in names if name != "identity"]
    if any(name not in ("gzip", "x-gzip", "deflate") for name in names):
        return raw
    stream: Iterator[bytes] = raw
    # Encodings are listed in the order applied; undo them last first.
    for name in reversed(names):
        stream = _Inflater(gzip=name != "deflate").run(stream)
    return stream
