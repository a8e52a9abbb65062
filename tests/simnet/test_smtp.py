"""The simnet's mail exchanger keeps every message it accepts, for tests to look at."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from openhotline.simnet.smtp import MailStore, SimSMTPServer

ADDRESS = "127.77.0.25"


@pytest.fixture
def server() -> Iterator[SimSMTPServer]:
    smtp = SimSMTPServer(ADDRESS)
    smtp.start()
    try:
        yield smtp
    finally:
        smtp.stop()


def send(server: SimSMTPServer, message: EmailMessage, to: list[str]) -> None:
    with smtplib.SMTP(server.address, server.port, local_hostname="hq.test", timeout=5) as smtp:
        smtp.send_message(message, from_addr="hotline@hq.test", to_addrs=to)


def notice(subject: str = "Notice", body: str = "Please remove http://a.test/x") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "hotline@hq.test", "a@b.test", subject
    message.set_content(body)
    return message


def test_it_stores_envelope_raw_bytes_and_the_parsed_message(server: SimSMTPServer) -> None:
    assert server.port > 0
    send(server, notice("Täkedown ☂"), ["abuse@uk-hosting.test", "abuse@names-uk.test"])
    (mail,) = server.store.messages()
    assert mail.mail_from == "hotline@hq.test"
    assert mail.rcpt_tos == ("abuse@uk-hosting.test", "abuse@names-uk.test")
    assert b"Subject:" in mail.raw
    assert mail.subject == "Täkedown ☂"
    assert "http://a.test/x" in mail.text()
    assert mail.peer.startswith("127.")
    assert mail.received_at.tzinfo is not None


def test_it_reads_text_out_of_attachments_such_as_xarf_json(server: SimSMTPServer) -> None:
    message = notice(body="See the attached report.")
    message.add_attachment(
        b'{"Source": {"Url": "http://b.test/y"}}', maintype="application", subtype="json"
    )
    message.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="x.png")
    send(server, message, ["abuse@b.test"])
    text = server.store.wait_for().text()
    assert "See the attached report." in text and "http://b.test/y" in text


def test_wait_for_waits_for_a_matching_message_or_times_out(server: SimSMTPServer) -> None:
    with pytest.raises(TimeoutError):
        server.store.wait_for(timeout=0.2)
    later = threading.Timer(0.3, send, (server, notice("Second"), ["x@y.test"]))
    later.start()
    send(server, notice("First"), ["x@y.test"])
    assert server.store.wait_for(lambda m: m.subject == "Second", timeout=5).subject == "Second"
    later.join()
    assert [m.subject for m in server.store.messages()] == ["First", "Second"]
    assert [m.subject for m in server.store.to("X@Y.test")] == ["First", "Second"]
    server.store.clear()
    assert server.store.messages() == []


def test_it_keeps_every_message_sent_at_once(server: SimSMTPServer) -> None:
    threads = [
        threading.Thread(target=send, args=(server, notice(f"n{i}"), ["z@z.test"]))
        for i in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m.subject for m in server.store.messages()) == sorted(f"n{i}" for i in range(12))


def test_it_spools_messages_to_a_directory_when_given_one(tmp_path: Path) -> None:
    store = MailStore(spool=tmp_path / "mail")
    smtp = SimSMTPServer(ADDRESS, 0, store)
    smtp.start()
    try:
        send(smtp, notice("Spooled"), ["a@b.test"])
    finally:
        smtp.stop()
    (eml,) = (tmp_path / "mail").glob("*.eml")
    assert b"Subject: Spooled" in eml.read_bytes()


def test_it_frees_its_port_on_stop(server: SimSMTPServer) -> None:
    port = server.port
    server.stop()
    with pytest.raises(OSError, match=r"refused|Errno 111"):
        smtplib.SMTP(ADDRESS, port, local_hostname="hq.test", timeout=2)
    again = SimSMTPServer(ADDRESS, port)
    again.start()
    try:
        assert again.port == port
    finally:
        again.stop()
