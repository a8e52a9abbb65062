"""A small NNTP reader (RFC 3977, RFC 4643 AUTHINFO USER/PASS) that connects only where
captures may.

The standard library's nntplib is deprecated in Python 3.12 and gone in 3.13; a reader
needs a handful of commands, written here. A news server is named by an operator or a
report, so its name is resolved through the platform's resolver and every address is
checked with the capture fetcher's policy (`evidence.net.policy`) before a packet is sent,
as the RDAP client does. Replies are bounded: a line, a multi-line block and the whole
exchange each have a size or time limit, and breaking one is a typed error.

A password is only ever sent over TLS unless the operator allows plaintext
(OPENHOTLINE_NNTP_PLAINTEXT_AUTH): news servers' logins are often shared accounts.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from django.conf import settings

from openhotline.evidence.net.checked import NameRefused, NameUnresolved, checked_addresses
from openhotline.evidence.net.policy import IPNetwork

MAX_LINE_BYTES = 64 * 1024
MAX_BLOCK_BYTES = 64 * 1024 * 1024


class NNTPError(Exception):
    """Reading news failed; str() is the plain reason."""


class NNTPRefused(NNTPError):
    """The address policy refused the server; nothing was sent to it."""


class NNTPLimit(NNTPError):
    """A reply broke a size or time limit."""


class NNTPReplyError(NNTPError):
    def __init__(self, command: str, code: int, text: str) -> None:
        self.code = code
        super().__init__(f"{command}: the server answered {code} {text}")


@dataclass(frozen=True)
class NNTPConfig:
    host: str
    port: int = 119
    tls: bool = False
    tls_verify: bool = True
    ca_file: str | None = None
    user: str | None = None
    password: str | None = None
    plaintext_auth: bool = False
    timeout: float = 30.0
    max_block_bytes: int = MAX_BLOCK_BYTES
    allow_nets: Sequence[IPNetwork] = field(default_factory=list)
    dns_servers: Sequence[tuple[str, int]] | None = None
    ssl_context: ssl.SSLContext | None = None  # instead of one built from the fields above

    @classmethod
    def from_settings(cls, **overrides: object) -> NNTPConfig:
        values: dict[str, object] = {
            "host": settings.NNTP_SERVER,
            "port": settings.NNTP_PORT,
            "tls": settings.NNTP_TLS,
            "tls_verify": settings.NNTP_TLS_VERIFY,
            "ca_file": settings.NNTP_CA_FILE or None,
            "user": settings.NNTP_USER or None,
            "password": settings.NNTP_PASSWORD or None,
            "plaintext_auth": settings.NNTP_PLAINTEXT_AUTH,
            "timeout": float(settings.NNTP_TIMEOUT),
            "allow_nets": list(getattr(settings, "FETCH_ALLOW_NETS", [])),
            "dns_servers": getattr(settings, "DNS_SERVERS", None) or None,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GroupInfo:
    name: str
    count: int
    first: int
    last: int


@dataclass(frozen=True)
class Overview:
    number: int
    subject: str
    message_id: str
    byte_count: int


@dataclass(frozen=True)
class Article:
    number: int
    message_id: str
    raw: bytes  # headers, blank line, body; CRLF line ends, dot-stuffing undone


def _addresses(config: NNTPConfig) -> tuple[str, ...]:
    """The server's addresses the capture policy allows."""
    try:
        return checked_addresses(
            config.host, config.allow_nets, config.dns_servers, min(config.timeout, 5.0)
        )
    except NameRefused as refused:
        raise NNTPRefused(str(refused)) from None
    except NameUnresolved as unresolved:
        raise NNTPError(str(unresolved)) from None


class NNTPClient:
    """``with NNTPClient(config) as news: news.group("alt.test"); news.article("<id>")``."""

    def __init__(self, config: NNTPConfig) -> None:
        self.config = config
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._start = 0  # where the next line begins in _buffer
        self.capabilities: list[str] = []

    # -- connection --------------------------------------------------------------------------

    def connect(self) -> Self:
        config = self.config
        if not config.host:
            raise NNTPError("no news server is configured (OPENHOTLINE_NNTP_SERVER)")
        failure: Exception = NNTPError(f"could not connect to {config.host}")
        for address in _addresses(config):
            try:
                sock = socket.create_connection((address, config.port), timeout=config.timeout)
            except OSError as exc:
                failure = NNTPError(f"could not connect to {config.host} ({address}): {exc}")
                continue
            try:
                self._sock = self._wrap(sock) if config.tls else sock
            except ssl.SSLCertVerificationError as exc:
                sock.close()
                raise NNTPError(
                    f"{config.host}: TLS certificate refused: {exc.verify_message}"
                ) from None
            except (ssl.SSLError, OSError) as exc:
                sock.close()
                raise NNTPError(f"{config.host}: TLS handshake failed: {exc}") from None
            break
        else:
            raise failure
        try:
            code, text = self._reply(time.monotonic() + config.timeout)
            if code not in (200, 201):
                raise NNTPReplyError("greeting", code, text)
            if config.user:
                self._login()
        except BaseException:
            self.close()  # a failed connect leaves no socket behind
            raise
        return self

    def _wrap(self, sock: socket.socket) -> socket.socket:
        if self.config.ssl_context is not None:
            return self.config.ssl_context.wrap_socket(sock, server_hostname=self.config.host)
        context = ssl.create_default_context(cafile=self.config.ca_file)
        if not self.config.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context.wrap_socket(sock, server_hostname=self.config.host)

    def _login(self) -> None:
        if not self.config.tls and not self.config.plaintext_auth:
            raise NNTPRefused(
                f"{self.config.host}: a password is sent only over TLS "
                "(OPENHOTLINE_NNTP_TLS, or OPENHOTLINE_NNTP_PLAINTEXT_AUTH to allow it)"
            )
        self.command("AUTHINFO USER", f"AUTHINFO USER {self.config.user}", expect=(381, 281))
        self.command("AUTHINFO PASS", f"AUTHINFO PASS {self.config.password or ''}", expect=(281,))

    def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()

    def quit(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(NNTPError):  # leaving anyway
                self.command("QUIT", "QUIT", expect=(205,))
            self.close()

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.quit()

    # -- protocol ----------------------------------------------------------------------------

    def _readline(self, deadline: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise NNTPError("not connected")
        while True:
            # Lines are read from an offset: slicing the rest off after every line would copy
            # the buffer once per line, quadratic in a block of short lines.
            end = self._buffer.find(b"\n", self._start)
            if end >= 0:
                line = self._buffer[self._start : end + 1]
                self._start = end + 1
                return line
            if len(self._buffer) - self._start > MAX_LINE_BYTES:
                raise NNTPLimit(f"a line of more than {MAX_LINE_BYTES} bytes")
            left = deadline - time.monotonic()
            if left <= 0:
                raise NNTPLimit(f"no complete reply within {self.config.timeout:g} s")
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                raise NNTPLimit(f"no complete reply within {self.config.timeout:g} s") from None
            except OSError as exc:
                raise NNTPError(f"connection failed: {exc}") from None
            if not data:
                raise NNTPError("the server closed the connection")
            self._buffer = self._buffer[self._start :] + data
            self._start = 0

    def _reply(self, deadline: float) -> tuple[int, str]:
        line = self._readline(deadline).decode("utf-8", "replace").strip()
        code, _, text = line.partition(" ")
        if len(code) != 3 or not code.isdigit():
            raise NNTPError(f"not an NNTP reply: {line[:80]!r}")
        return int(code), text

    def _block(self, deadline: float) -> bytes:
        """A multi-line block up to its "." line, dot-stuffing undone."""
        lines: list[bytes] = []
        size = 0
        while True:
            line = self._readline(deadline)
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size > self.config.max_block_bytes:
                raise NNTPLimit(f"a reply of more than {self.config.max_block_bytes} bytes")
            lines.append(line)

    def command(
        self, name: str, line: str, *, expect: tuple[int, ...], block: bool = False
    ) -> tuple[int, str, bytes]:
        if self._sock is None:
            raise NNTPError("not connected")
        if "\r" in line or "\n" in line:
            raise NNTPError(f"{name}: an argument holds a line break")
        deadline = time.monotonic() + self.config.timeout
        try:
            self._sock.sendall(line.encode("utf-8") + b"\r\n")
        except OSError as exc:
            raise NNTPError(f"{name}: connection failed: {exc}") from None
        code, text = self._reply(deadline)
        if code not in expect:
            raise NNTPReplyError(name, code, text)
        return code, text, self._block(deadline) if block else b""

    def fetch_capabilities(self) -> list[str]:
        _, _, data = self.command("CAPABILITIES", "CAPABILITIES", expect=(101,), block=True)
        self.capabilities = data.decode("utf-8", "replace").split()
        return self.capabilities

    def group(self, name: str) -> GroupInfo:
        _, text, _ = self.command("GROUP", f"GROUP {name}", expect=(211,))
        count, first, last, *_ = [*text.split(), "0", "0", "0"]
        try:
            return GroupInfo(name, int(count), int(first), int(last))
        except ValueError:
            raise NNTPError(f"GROUP: not a group reply: {text[:80]!r}") from None

    def listgroup(self, name: str) -> list[int]:
        _, _, data = self.command("LISTGROUP", f"LISTGROUP {name}", expect=(211,), block=True)
        return [int(n) for n in data.split() if n.isdigit()]

    def over(self, first: int, last: int) -> list[Overview]:
        try:
            _, _, data = self.command("OVER", f"OVER {first}-{last}", expect=(224,), block=True)
        except NNTPReplyError as exc:
            if exc.code != 500:
                raise
            _, _, data = self.command("XOVER", f"XOVER {first}-{last}", expect=(224,), block=True)
        rows = []
        for line in data.decode("utf-8", "replace").splitlines():
            fields = line.split("\t")
            if len(fields) >= 7 and fields[0].isdigit():
                size = int(fields[6]) if fields[6].isdigit() else 0
                rows.append(Overview(int(fields[0]), fields[1], fields[4], size))
        return rows

    def article(self, key: str | int) -> Article:
        """An article by Message-ID (`<…>`) or number in the current group."""
        _, text, data = self.command(
            "ARTICLE", f"ARTICLE {_key(key)}", expect=(220,), block=True
        )  # fmt: skip
        number, _, message_id = text.partition(" ")
        return Article(int(number) if number.isdigit() else 0, message_id.split(" ")[0], data)

    def stat(self, message_id: str) -> bool:
        """Does the server still have the article? 223 yes, 430 no; anything else an error
        (a failure never proves removal)."""
        code, _, _ = self.command("STAT", f"STAT {_key(message_id)}", expect=(223, 430))
        return code == 223


def _key(key: str | int) -> str:
    if isinstance(key, int):
        return str(key)
    if not (key.startswith("<") and key.endswith(">")) or any(c.isspace() for c in key):
        raise NNTPError(f"not a Message-ID: {key[:80]!r}")
    return key
