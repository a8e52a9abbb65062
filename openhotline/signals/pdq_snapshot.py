"""PDQ index snapshots: one versioned file, written atomically, read back memory-mapped.

The file: magic, format version, a CRC32-checked JSON header describing every array, and
the arrays at 4 KiB-aligned offsets, each with its CRC32. `write_snapshot` writes it
atomically (a temporary file in the same directory, fsync, rename, fsync of the
directory), so the previous snapshot stays whole until the new one is. `read_snapshot`
memory-maps the arrays (or reads them), checks size, header and (unless ``verify=False``)
every array's CRC32, and raises `SnapshotError` on anything wrong; the caller then
rebuilds from the database. `pdq_index.PdqIndex.save` and `.load` are the way in.
"""

import json
import math
import mmap as mmap_module
import os
import sys
import threading
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from openhotline.signals.pdq_layout import PDQ_BITS, part_layout
from openhotline.signals.pdq_segments import Segment, State

FORMAT_VERSION = 1
MAGIC = b"OHPDQIX\x00"
_PREFIX = 24  # magic (8), version, header length, header CRC32, reserved (4 each)
_ALIGN = 4096


class SnapshotError(ValueError):
    """A snapshot file is missing, truncated, corrupt or of another format version."""


def write_snapshot(
    path: Path | str, arrays: dict[str, npt.NDArray[Any]], header: dict[str, Any]
) -> None:
    """Write ``arrays`` under ``header`` (which gains the layout fields) to ``path``,
    atomically: the old file stays whole until the new one is."""
    described: dict[str, dict[str, Any]] = {}
    offset = end = 0
    for name, array in arrays.items():
        offset = -(-end // _ALIGN) * _ALIGN
        end = offset + array.nbytes
        described[name] = {
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "offset": offset,  # from data_start
            "crc32": zlib.crc32(raw_bytes(array)),
        }
    header = {
        **header,
        "format": "openhotline-pdq-index",
        "version": FORMAT_VERSION,
        "byteorder": "little",
        "arrays": described,
    }
    # data_start and file_size are in the header they place: settle them by iterating
    data_start = 0
    while True:
        header["data_start"] = data_start
        header["file_size"] = data_start + end
        blob = json.dumps(header, sort_keys=True).encode()
        if _PREFIX + len(blob) <= data_start:
            break
        data_start = -(-(_PREFIX + len(blob)) // _ALIGN) * _ALIGN
    numbers = (FORMAT_VERSION, len(blob), zlib.crc32(blob), 0)
    prefix = MAGIC + b"".join(n.to_bytes(4, "little") for n in numbers)
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(prefix + blob)
            for name, array in arrays.items():
                out.seek(data_start + described[name]["offset"])
                out.write(raw_bytes(array))
            out.truncate(data_start + end)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_snapshot(
    path: Path | str, mmap: bool = True, verify: bool = True
) -> tuple[State, int | None, int]:
    """(state, fixed parts, max radius) of a snapshot written by `write_snapshot`. With
    ``mmap`` the arrays stay in the page cache (shared, read on first touch); ``verify``
    checks every array's CRC32 (reading the whole file). Raises `SnapshotError` for a bad
    file."""
    target = Path(path)
    try:
        with open(target, "rb") as source:
            size = os.fstat(source.fileno()).st_size
            header = _read_header(target, source, size)
            data: Any
            if mmap:
                data = mmap_module.mmap(source.fileno(), 0, access=mmap_module.ACCESS_READ)
            else:
                data = np.empty(size, dtype=np.uint8)
                source.seek(0)
                if source.readinto(memoryview(data)) != size:
                    raise SnapshotError(f"{target}: short read")
    except OSError as error:
        raise SnapshotError(f"{target}: cannot read the snapshot ({error})") from error
    try:
        return _from_header(target, header, data, verify)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, SnapshotError):
            raise
        raise SnapshotError(f"{target}: malformed header ({error!r})") from error


def _from_header(
    target: Path, header: dict[str, Any], data: Any, verify: bool
) -> tuple[State, int | None, int]:
    max_radius = int(header["max_radius"])
    fixed = header["fixed_parts"]
    segments = []
    for number, described in enumerate(header["segments"]):
        lengths = tuple(int(b) for b in described["lengths"])
        indexed = int(described["indexed"])
        if sum(lengths) != PDQ_BITS or not 0 < indexed <= len(lengths):
            raise SnapshotError(f"{target}: segment {number} has a bad layout")
        parts = part_layout(lengths, indexed)
        a = {
            name: _array(target, header, data, f"{number}.{name}", verify)
            for name in ("ids", "words", "alive", "perms", "offsets")
        }
        n = a["ids"].shape[0]
        buckets = sum((1 << p.bits) + 1 for p in parts)
        if (a["words"].shape, a["alive"].shape, a["perms"].shape, a["offsets"].shape) != (
            (n, 4), (n,), (indexed * n,), (buckets,)
        ):  # fmt: skip
            raise SnapshotError(f"{target}: segment {number} arrays do not fit its layout")
        alive = a["alive"].astype(np.bool_)  # a private, writable copy
        segments.append(Segment(a["ids"], a["words"], alive, max_radius, lengths, parts,
                                 a["perms"], a["offsets"]))  # fmt: skip
    if not segments:
        raise SnapshotError(f"{target}: no segments")
    tail_ids = np.array(_array(target, header, data, "tail.ids", verify), dtype=np.int64)
    tail_words = np.array(_array(target, header, data, "tail.words", verify), np.uint64)
    if tail_words.shape != (tail_ids.shape[0], 4):
        raise SnapshotError(f"{target}: tail arrays do not match")
    live = sum(int(np.count_nonzero(s.alive)) for s in segments) + tail_ids.shape[0]
    tail_alive = np.ones(tail_ids.shape[0], np.bool_)
    state = State(tuple(segments), tail_ids, tail_words, tail_alive, tail_ids.shape[0], live)
    return state, None if fixed is None else int(fixed), max_radius


def raw_bytes(array: npt.NDArray[Any]) -> memoryview:
    """The bytes of an array (empty ones included, which memoryview.cast refuses)."""
    return memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _read_header(target: Path, source: Any, size: int) -> dict[str, Any]:
    head = source.read(_PREFIX)
    if len(head) < _PREFIX or head[:8] != MAGIC:
        raise SnapshotError(f"{target}: not a PDQ index snapshot")
    version, length, crc = (int.from_bytes(head[i : i + 4], "little") for i in (8, 12, 16))
    if version != FORMAT_VERSION:
        raise SnapshotError(
            f"{target}: snapshot format version {version}, this code reads version "
            f"{FORMAT_VERSION}; rebuild the index from the database"
        )
    blob = source.read(length)
    if len(blob) != length or zlib.crc32(blob) != crc:
        raise SnapshotError(f"{target}: the header is truncated or corrupt")
    try:
        header: dict[str, Any] = json.loads(blob)
    except ValueError as error:
        raise SnapshotError(f"{target}: the header is not JSON ({error})") from error
    if header.get("byteorder") != "little" or sys.byteorder != "little":
        raise SnapshotError(f"{target}: little-endian snapshots on little-endian machines only")
    if header.get("file_size") != size:
        raise SnapshotError(
            f"{target}: {size} bytes, the header says {header.get('file_size')} (truncated?)"
        )
    return header


_DTYPES = {"ids": "<i8", "words": "<u8", "alive": "|u1", "perms": "<u4", "offsets": "<u4"}


def _array(target: Path, header: dict[str, Any], data: Any, name: str, verify: bool) -> Any:
    entry = header["arrays"][name]
    dtype = np.dtype(entry["dtype"])
    if dtype.str != _DTYPES[name.rpartition(".")[2]]:
        raise SnapshotError(f"{target}: array {name} has dtype {dtype.str}")
    shape = tuple(int(x) for x in entry["shape"])
    offset = int(header["data_start"]) + int(entry["offset"])
    count = math.prod(shape)
    if offset < 0 or offset + count * dtype.itemsize > len(data):
        raise SnapshotError(f"{target}: array {name} runs past the end of the file")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)
    if verify and zlib.crc32(raw_bytes(array)) != int(entry["crc32"]):
        raise SnapshotError(f"{target}: array {name} fails its checksum (corrupt)")
    return array
