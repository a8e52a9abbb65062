"""The simulated internet's mail exchanger: an aiosmtpd server on loopback that keeps every
message it is given and never relays one.

It stands in for every ``.test`` mail domain at once (abuse desks, registrars, reporters), so
the platform's notices can be checked as delivered mail; a recipient whose local part begins
with ``bounce`` is refused with 550 (an unknown mailbox). Each message is also handed to a
callback (the notice desks) after it is stored. Runs in this process, on aiosmtpd's thread.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

# Never let aiosmtpd ask the system resolver for our name (socket.getfqdn()).
SERVER_NAME = "mx.test"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    received_at: datetime
    peer: str

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def text(self) -> str:
        """Every text part (and JSON/YAML attachment, as X-ARF uses) decoded, joined."""
        parts: list[str] = []
        for part in self.message.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            if ctype.startswith("text/") or ctype.endswith(("json", "yaml")):
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    charset = part.get_content_charset() or "utf-8"
                    parts.append(payload.decode(charset, errors="replace"))
        return "\n".join(parts)


class MailStore:
    """Thread-safe in-memory mailbox for everything the server accepted (optionally spooled)."""

    def __init__(self, spool: Path | None = None) -> None:
        self.spool = spool
        self._messages: list[ReceivedMail] = []
        self._changed = threading.Condition()

    def add(self, mail: ReceivedMail) -> None:
        with self._changed:
            self._messages.append(mail)
            number = len(self._messages)
            self._changed.notify_all()
        if self.spool is not None:
            self.spool.mkdir(parents=True, exist_ok=True)
            stamp = mail.received_at.strftime("%Y%m%dT%H%M%S")
            (self.spool / f"{stamp}-{number:04d}.eml").write_bytes(mail.raw)

    def messages(self) -> list[ReceivedMail]:
        with self._changed:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMail]:
        address = address.lower()
        return [m for m in self.messages() if address in (r.lower() for r in m.rcpt_tos)]

    def clear(self) -> None:
        with self._changed:
            self._messages.clear()

    def wait_for(
        self, predicate: Callable[[ReceivedMail], bool] | None = None, timeout: float = 10.0
    ) -> ReceivedMail:
        """The first message (already here or still to come) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for mail in self._messages:
                    if predicate is None or predicate(mail):
                        return mail
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no such message arrived at the simnet SMTP server")
                self._changed.wait(left)


class _Handler:
    def __init__(self, store: MailStore, on_mail: Callable[[ReceivedMail], None] | None) -> None:
        self.store = store
        self.on_mail = on_mail

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # A mailbox that does not exist: "bounce…@" is refused for good, as a real
        # exchanger refuses an unknown user, so senders meet a permanent 5xx.
        if address.lower().startswith("bounce"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=message,
            received_at=datetime.now(UTC),
            peer=peer,
        )
        self.store.add(mail)
        if self.on_mail is not None:
            try:
                self.on_mail(mail)
            except Exception:  # a desk's bug must not bounce the mail
                log.exception("simnet notice handling failed")
        return "250 Message accepted for delivery"


class _BoundController(Controller):
    """A Controller that serves a socket we bound ourselves, so port 0 means a free port."""

    def __init__(self, sock: socket.socket, handler: Any, **kwargs: Any) -> None:
        self._sock = sock
        address, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=address, port=port, **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class SimSMTPServer:
    """``SimSMTPServer(address, port, store).start()``; ``port`` is the real bound port."""

    def __init__(
        self,
        address: str,
        port: int = 0,
        store: MailStore | None = None,
        on_mail: Callable[[ReceivedMail], None] | None = None,
    ) -> None:
        self.address = address
        self.requested_port = port
        self.port = port
        self.store = store if store is not None else MailStore()
        self.on_mail = on_mail
        self._controller: _BoundController | None = None

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("SMTP server already started")
        # aiosmtpd logs every connection at INFO; the simnet's own events say what matters.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, self.requested_port))
            sock.listen(64)
            sock.setblocking(False)
            controller = _BoundController(
                sock,
                _Handler(self.store, self.on_mail),
                server_hostname=SERVER_NAME,
                ready_timeout=10.0,
                loop=asyncio.new_event_loop(),
                enable_SMTPUTF8=True,
            )
            controller.start()
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._controller = controller

    def stop(self) -> None:
        if self._controller is None:
            return
        controller, self._controller = self._controller, None
        controller.stop()  # closes the listening socket and the loop
        controller._sock.close()  # harmless if already closed
