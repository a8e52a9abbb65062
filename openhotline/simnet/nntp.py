"""The simulated internet's news server: NNTP on a loopback address, benign binaries only.

One group of generated pictures (``alt.binaries.pictures.simnet``): a JPEG posted as a
three-part yEnc post, one uuencoded, one as a MIME attachment, and a text article. A
removal (``remove(message_id, delay)``) takes effect after its delay, as a news admin
acting on a notice would; ``STAT`` then answers 430. Optional ``AUTHINFO USER/PASS`` and
implicit TLS (an ``ssl.SSLContext``). Runs in this process on a thread per connection.

Which articles a demo hash list should hold: ``NEWS_PICTURE_SEEDS`` names the seeds of
``images.make_jpeg``; a later step would add their hashes to the demo police list as
demo/seed.py adds the web sites' pictures.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
import time
import zlib
from binascii import b2a_base64, b2a_uu
from dataclasses import dataclass

from .images import make_jpeg

DEFAULT_NNTP_ADDRESS = "127.77.0.119"  # 119: NNTP's port
GROUP = "alt.binaries.pictures.simnet"
NEWS_PICTURE_SEEDS = ("news-yenc-1", "news-uu-1", "news-mime-1")
_MAX_LINE = 2048


def yenc_encode(data: bytes, *, line: int = 128) -> list[bytes]:
    """yEnc-encoded lines of `data` (no header or trailer)."""
    critical = {0x00, 0x0A, 0x0D, 0x3D}
    lines: list[bytes] = []
    current = bytearray()
    for byte in data:
        shifted = (byte + 42) % 256
        if shifted in critical or (not current and shifted in (0x09, 0x20, 0x2E)):
            current += bytes((0x3D, (shifted + 64) % 256))
        else:
            current.append(shifted)
        if len(current) >= line:
            lines.append(bytes(current))
            current = bytearray()
    if current:
        lines.append(bytes(current))
    return lines


def yenc_parts(name: str, data: bytes, parts: int) -> list[bytes]:
    """Bodies of a multi-part yEnc post of `data`, split in `parts` near-equal parts."""
    size = len(data)
    step = -(-size // parts)
    bodies = []
    for number in range(1, parts + 1):
        begin = (number - 1) * step
        chunk = data[begin : begin + step]
        lines = [
            f"=ybegin part={number} total={parts} line=128 size={size} name={name}".encode(),
            f"=ypart begin={begin + 1} end={begin + len(chunk)}".encode(),
            *yenc_encode(chunk),
            f"=yend size={len(chunk)} part={number} pcrc32={zlib.crc32(chunk):08x}"
            f" crc32={zlib.crc32(data):08x}".encode(),
        ]
        bodies.append(b"\r\n".join(lines) + b"\r\n")
    return bodies


@dataclass(frozen=True)
class Article:
    number: int
    message_id: str
    subject: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def raw(self) -> bytes:
        head = [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


def _article(number: int, subject: str, body: bytes, *extra: tuple[str, str]) -> Article:
    message_id = f"<{number}.{GROUP}@news.simnet.test>"
    headers = (
        ("From", "poster@news.simnet.test"),
        ("Newsgroups", GROUP),
        ("Subject", subject),
        ("Message-ID", message_id),
        ("Date", "Mon, 07 Dec 2026 12:00:00 +0000"),
        *extra,
    )
    return Article(number, message_id, subject, headers, body)


def default_articles() -> list[Article]:
    yenc_jpeg, uu_jpeg, mime_jpeg = (make_jpeg(seed) for seed in NEWS_PICTURE_SEEDS)
    articles = [
        _article(1 + i, f'"picture-1.jpg" yEnc ({1 + i}/3)', body)
        for i, body in enumerate(yenc_parts("picture-1.jpg", yenc_jpeg, 3))
    ]
    uu_lines = [b2a_uu(uu_jpeg[i : i + 45]).rstrip(b"\n") for i in range(0, len(uu_jpeg), 45)]
    uu_body = b"\r\n".join([b"begin 644 picture-2.jpg", *uu_lines, b"`", b"end"]) + b"\r\n"
    articles.append(_article(4, "picture-2.jpg (uuencoded)", uu_body))
    boundary = "simnet-boundary"
    b64 = b"".join(
        b2a_base64(mime_jpeg[i : i + 57]).replace(b"\n", b"\r\n")
        for i in range(0, len(mime_jpeg), 57)
    )
    mime_body = (
        (
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nA picture.\r\n"
            f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="picture-3.jpg"\r\n\r\n'
        ).encode()
        + b64
        + f"--{boundary}--\r\n".encode()
    )
    articles.append(
        _article(
            5,
            "picture-3.jpg (MIME)",
            mime_body,
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
        )
    )
    articles.append(
        _article(6, "Just words", b"No binaries here.\r\n.a line the server dot-stuffs\r\n")
    )
    return articles


class NewsState:
    """The groups' articles and the removals scheduled on them; thread-safe."""

    def __init__(self, articles: list[Article] | None = None) -> None:
        self.articles = articles if articles is not None else default_articles()
        self._removed_at: dict[str, float] = {}
        self.verbs: list[str] = []  # the commands heard (never their arguments), for tests
        self._lock = threading.Lock()

    def remove(self, message_id: str, delay: float = 0.0) -> None:
        """The admin hook a notice desk calls: the article is gone after `delay` seconds."""
        with self._lock:
            self._removed_at.setdefault(message_id, time.monotonic() + delay)

    def reset(self) -> None:
        with self._lock:
            self._removed_at.clear()
            self.verbs.clear()

    def present(self) -> list[Article]:
        now = time.monotonic()
        with self._lock:
            gone = {m for m, at in self._removed_at.items() if at <= now}
        return [a for a in self.articles if a.message_id not in gone]

    def find(self, key: str) -> Article | None:
        for article in self.present():
            if key in (article.message_id, str(article.number)):
                return article
        return None


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        if self.server.tls is not None:
            self.request = self.server.tls.wrap_socket(self.request, server_side=True)
        self.request.settimeout(10)
        super().setup()

    def send(self, *lines: str | bytes) -> None:
        out = b"".join((x.encode() if isinstance(x, str) else x) + b"\r\n" for x in lines)
        self.wfile.write(out)

    def send_block(self, status: str, data: bytes) -> None:
        stuffed = b"\r\n".join(
            b"." + line if line.startswith(b".") else line for line in data.split(b"\r\n")
        )
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.wfile.write(status.encode() + b"\r\n" + stuffed + b".\r\n")

    def handle(self) -> None:
        state, creds = self.server.state, self.server.credentials
        authed = creds is None
        user = ""
        self.send("200 news.simnet.test NNTP service ready, posting prohibited")
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if not line:
                return
            words = line.decode("latin-1").strip().split()
            if not words:
                continue
            verb, args = words[0].upper(), words[1:]
            state.verbs.append(verb)
            if verb == "QUIT":
                self.send("205 closing connection")
                return
            if verb == "CAPABILITIES":
                self.send("101 capability list follows", "VERSION 2", "READER", "OVER")
                self.send(*(["AUTHINFO USER"] if creds else []), ".")
            elif verb == "AUTHINFO" and len(args) == 2 and args[0].upper() == "USER":
                user = args[1]
                self.send("381 password required")
            elif verb == "AUTHINFO" and len(args) == 2 and args[0].upper() == "PASS":
                authed = creds is not None and (user, args[1]) == creds
                self.send("281 authentication accepted" if authed else "481 authentication failed")
            elif not authed:
                self.send("480 authentication required")
            elif verb == "GROUP" and args == [GROUP]:
                numbers = [a.number for a in state.present()]
                low, high = (min(numbers), max(numbers)) if numbers else (0, 0)
                self.send(f"211 {len(numbers)} {low} {high} {GROUP}")
            elif verb in ("GROUP", "LISTGROUP") and args[:1] != [GROUP]:
                self.send("411 no such newsgroup")
            elif verb == "LISTGROUP":
                listing = "\r\n".join(str(a.number) for a in state.present())
                self.send_block(f"211 list follows {GROUP}", listing.encode())
            elif verb in ("OVER", "XOVER"):
                rows = [
                    f"{a.number}\t{a.subject}\tposter@news.simnet.test\t"
                    f"Mon, 07 Dec 2026 12:00:00 +0000\t{a.message_id}\t\t{len(a.raw())}\t"
                    f"{a.body.count(b'\n')}"
                    for a in state.present()
                ]
                self.send_block("224 overview follows", "\r\n".join(rows).encode())
            elif verb in ("ARTICLE", "STAT") and args:
                article = state.find(args[0])
                if article is None:
                    self.send("430 no such article")
                elif verb == "STAT":
                    self.send(f"223 {article.number} {article.message_id}")
                else:
                    self.send_block(f"220 {article.number} {article.message_id}", article.raw())
            else:
                self.send("500 command not recognized")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        state: NewsState,
        credentials: tuple[str, str] | None,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.state, self.credentials, self.tls = state, credentials, tls
        super().__init__(address, _Session)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client: object
    ) -> None:
        pass  # a client that hangs up or fails TLS is no error of the server's


class SimNNTPServer:
    """``SimNNTPServer(address).start()``; ``port`` is the real bound port once started."""

    def __init__(
        self,
        address: str = DEFAULT_NNTP_ADDRESS,
        port: int = 0,
        *,
        state: NewsState | None = None,
        credentials: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.address, self.requested_port, self.port = address, port, port
        self.state = state if state is not None else NewsState()
        self._credentials, self._tls = credentials, tls
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SimNNTPServer:
        if self._server is not None:
            raise RuntimeError("NNTP server already started")
        server = _Server(
            (self.address, self.requested_port), self.state, self._credentials, self._tls
        )
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="simnet-nntp", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
