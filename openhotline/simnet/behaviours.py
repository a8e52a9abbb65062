"""Hosts that behave badly on purpose, so captures meet their hard cases on loopback.

- redirects: `/chain/N` redirects N times then shows a page; `/loop` redirects to itself;
  `/to-loopback?port=P` and `/to-metadata` redirect to forbidden addresses.
- disguised: `/` shows decoy pictures unless the Referer comes from forum-nl.test, the
  "pathway" that shows the hidden ones.
- hostile: `/huge?bytes=N` streams N bytes (endless without N), `/slow` drips a byte every
  half second, `/corrupt.jpg` is a truncated JPEG, `/bomb.png` declares 100,000² pixels,
  `/page` shows all of them with one fine image.
- hotlink: its pictures answer 403 unless the Referer is one of its own pages (hotlink
  protection), so only a visitor coming the capture's way sees them.
- fickle: its pictures answer what `set_fault(host, ...)` says (403, 429, 503, "slow"
  for a body that never finishes), or normally when no fault is set: a host that is
  briefly unreachable is not a host that removed anything.
"""

import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from . import images
from .world import SimHost

PATHWAY = "http://forum-nl.test"

# Faults of "fickle" hosts, by host name: an HTTP status or "slow". Tests set and clear
# them (the simnet runs in the test process); Simnet.reset() does not know of them.
_faults: dict[str, int | str] = {}
_faults_lock = threading.Lock()


def set_fault(host_name: str, fault: int | str | None) -> None:
    """What a fickle host's pictures answer from now on (None: served normally)."""
    with _faults_lock:
        if fault is None:
            _faults.pop(host_name, None)
        else:
            _faults[host_name] = fault


def _fault_of(host_name: str) -> int | str | None:
    with _faults_lock:
        return _faults.get(host_name)


@dataclass
class SimResponse:
    status: int
    content_type: str = "text/html; charset=utf-8"
    body: bytes | Iterator[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


def respond(host: SimHost, path: str, headers: dict[str, str]) -> SimResponse | None:
    """The behaviour's answer, or None to fall back to the host's ordinary pages."""
    handler = {
        "redirects": _redirects,
        "disguised": _disguised,
        "hostile": _hostile,
        "hotlink": _hotlink,
        "fickle": _fickle,
    }.get(host.behaviour)
    return handler(host, path, headers) if handler else None


def _page(title: str, image_urls: list[str]) -> bytes:
    imgs = "".join(f'<img src="{url}" alt="">\n' for url in image_urls)
    return f"<!doctype html><title>{title}</title><h1>{title}</h1>\n{imgs}".encode()


def _redirect(location: str, status: int = 302) -> SimResponse:
    return SimResponse(status, headers={"Location": location})


def _redirects(host: SimHost, path: str, headers: dict[str, str]) -> SimResponse | None:
    parts = urlsplit(path)
    query = parse_qs(parts.query)
    if parts.path.startswith("/chain/"):
        remaining = int(parts.path.removeprefix("/chain/") or 0)
        if remaining > 0:
            # Alternate relative and absolute Locations, as real chains do.
            step = f"/chain/{remaining - 1}"
            return _redirect(step if remaining % 2 else f"http://{host.name}{_port(headers)}{step}")
        return SimResponse(200, body=_page("End of the chain", ["/img/end.png"]))
    if parts.path == "/img/end.png":
        return SimResponse(200, "image/png", images.make_png(f"{host.name}/end.png"))
    if parts.path == "/loop":
        return _redirect("/loop")
    if parts.path == "/to-loopback":
        return _redirect(f"http://127.0.0.1:{query.get('port', ['80'])[0]}/canary")
    if parts.path == "/to-metadata":
        return _redirect("http://169.254.169.254/latest/meta-data/")
    return None


def _port(headers: dict[str, str]) -> str:
    host = headers.get("host", "")
    return ":" + host.rsplit(":", 1)[1] if ":" in host else ""


def _disguised(host: SimHost, path: str, headers: dict[str, str]) -> SimResponse | None:
    if urlsplit(path).path != "/":
        return None
    if headers.get("referer", "").startswith(PATHWAY):
        return SimResponse(200, body=_page("Gallery", ["/img/hidden-1.jpg", "/img/hidden-2.png"]))
    return SimResponse(200, body=_page("Holiday snaps", ["/img/decoy-1.jpg", "/img/decoy-2.jpg"]))


def pixel_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + chunk(b"IEND", b""))  # fmt: skip


def _hostile(host: SimHost, path: str, headers: dict[str, str]) -> SimResponse | None:
    parts = urlsplit(path)
    query = parse_qs(parts.query)
    if parts.path == "/page":
        return SimResponse(200, body=_page("Trouble", [
            "/img/fine.jpg", "/corrupt.jpg", "/bomb.png", "/huge?bytes=100000000", "/slow",
        ]))  # fmt: skip
    if parts.path == "/huge":
        limit = int(query["bytes"][0]) if "bytes" in query else None
        return SimResponse(200, "image/jpeg", _zeros(limit))
    if parts.path == "/slow":
        return SimResponse(200, "image/jpeg", _drip())
    if parts.path == "/corrupt.jpg":
        fine = images.make_jpeg(f"{host.name}/corrupt", (320, 240))
        return SimResponse(200, "image/jpeg", fine[: len(fine) // 3])
    if parts.path == "/bomb.png":
        return SimResponse(200, "image/png", pixel_bomb())
    return None


def _zeros(limit: int | None) -> Iterator[bytes]:
    chunk = b"\xff\xd8\xff" + b"\x00" * (64 * 1024 - 3)
    sent = 0
    while limit is None or sent < limit:
        piece = chunk if limit is None else chunk[: limit - sent]
        sent += len(piece)
        yield piece


def _drip() -> Iterator[bytes]:
    yield b"\xff\xd8\xff"
    for _ in range(600):  # five minutes at most, then it ends by itself
        time.sleep(0.5)
        yield b"\x00"


def _own_page(host: SimHost, headers: dict[str, str]) -> bool:
    referer = urlsplit(headers.get("referer", ""))
    return (referer.hostname or "") == host.name and referer.path in host.pages


def _hotlink(host: SimHost, path: str, headers: dict[str, str]) -> SimResponse | None:
    if urlsplit(path).path.startswith("/img/") and not _own_page(host, headers):
        return SimResponse(403, "text/plain", b"Hotlinking is not allowed.")
    return None  # its pages, and its pictures seen from them, as any host's


def _fickle(host: SimHost, path: str, headers: dict[str, str]) -> SimResponse | None:
    fault = _fault_of(host.name)
    if fault is None or not urlsplit(path).path.startswith("/img/"):
        return None
    if fault == "slow":
        return SimResponse(200, "image/jpeg", _drip())
    status = int(fault)
    extra = {"Retry-After": "3600"} if status in (429, 503) else {}
    return SimResponse(status, "text/plain", f"Error {status}".encode(), headers=extra)
