"""The NNTP reader against the simulated news server, over real loopback sockets.

The server binds 127.77.0.119 (inside the allowed 127.77.0.0/16); the forbidden target is
a canary on 127.0.0.2, which must count no connection at all. The pictures are benign
generated JPEGs (simnet.images).
"""

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from openhotline.newsgroups.binaries import Reassembler, attachments, decode_yenc
from openhotline.newsgroups.client import (
    NNTPClient,
    NNTPConfig,
    NNTPError,
    NNTPLimit,
    NNTPRefused,
    NNTPReplyError,
)
from openhotline.simnet.images import make_jpeg
from openhotline.simnet.nntp import GROUP, NEWS_PICTURE_SEEDS, SimNNTPServer
from tests.evidence.netfixtures import Canary, FakeDNS, tls_contexts

ALLOWED = [ipaddress.ip_network("127.77.0.0/16")]
NEWS_NAME = "news.simnet.test"


@pytest.fixture(scope="module")
def dns() -> Iterator[FakeDNS]:
    with FakeDNS() as server:
        server.add(NEWS_NAME, "127.77.0.119")
        server.add("evil-news.test", "127.0.0.2")
        server.add("mixed-news.test", "127.77.0.119", "127.0.0.2")
        yield server


@pytest.fixture(scope="module")
def news() -> Iterator[SimNNTPServer]:
    server = SimNNTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_news() -> Iterator[tuple[SimNNTPServer, ssl.SSLContext]]:
    server_context, client_context, _ = tls_contexts(NEWS_NAME)
    server = SimNNTPServer(credentials=("reader", "s3cret"), tls=server_context).start()
    yield server, client_context
    server.stop()


@pytest.fixture
def canary() -> Iterator[Canary]:
    with Canary("127.0.0.2") as listener:
        yield listener


def config(dns: FakeDNS, port: int, **kwargs: Any) -> NNTPConfig:
    values: dict[str, Any] = {
        "host": NEWS_NAME,
        "port": port,
        "tls": False,
        "allow_nets": ALLOWED,
        "dns_servers": [dns.endpoint],
        "timeout": 5.0,
    }
    values.update(kwargs)
    return NNTPConfig(**values)


def test_a_group_is_listed_and_a_multi_part_yenc_post_decodes_to_the_original_jpeg(
    dns: FakeDNS, news: SimNNTPServer
) -> None:
    with NNTPClient(config(dns, news.port)) as client:
        assert "READER" in client.fetch_capabilities()
        info = client.group(GROUP)
        assert (info.count, info.first, info.last) == (6, 1, 6)
        assert client.listgroup(GROUP) == [1, 2, 3, 4, 5, 6]
        overview = client.over(info.first, info.last)
        joiner = Reassembler()
        stems = set()
        for row in overview:
            if "yEnc" in row.subject:
                article = client.article(row.message_id)
                body = article.raw.split(b"\r\n\r\n", 1)[1]
                stems.add(joiner.add(row.subject, decode_yenc(body)))
        assert len(stems) == 1
        assert joiner.assemble(stems.pop()).data == make_jpeg(NEWS_PICTURE_SEEDS[0])


def test_uuencoded_and_mime_posts_decode_and_dot_stuffing_is_undone(
    dns: FakeDNS, news: SimNNTPServer
) -> None:
    with NNTPClient(config(dns, news.port)) as client:
        client.group(GROUP)
        (uu,) = attachments(client.article(4).raw)
        (mime,) = attachments(client.article(5).raw)
        text = client.article(6).raw
    assert (uu.encoding, uu.data) == ("uuencode", make_jpeg(NEWS_PICTURE_SEEDS[1]))
    assert (mime.encoding, mime.data) == ("mime", make_jpeg(NEWS_PICTURE_SEEDS[2]))
    assert b"\r\n.a line the server dot-stuffs\r\n" in text


def test_stat_sees_a_removal_only_after_its_delay(dns: FakeDNS, news: SimNNTPServer) -> None:
    message_id = news.state.articles[0].message_id
    try:
        with NNTPClient(config(dns, news.port)) as client:
            assert client.stat(message_id) is True
            news.state.remove(message_id, delay=0.5)
            assert client.stat(message_id) is True  # the admin has not acted yet
            time.sleep(0.6)
            assert client.stat(message_id) is False
            with pytest.raises(NNTPReplyError, match="430") as caught:
                client.article(message_id)
            assert caught.value.code == 430
            assert client.stat("<never-posted@news.simnet.test>") is False
    finally:
        news.state.reset()


def test_a_message_id_cannot_smuggle_a_second_command(dns: FakeDNS, news: SimNNTPServer) -> None:
    with NNTPClient(config(dns, news.port)) as client:
        with pytest.raises(NNTPError, match="not a Message-ID"):
            client.stat("<a@b>\r\nQUIT")
        assert client.stat(news.state.articles[0].message_id) is True


# --- authentication and TLS --------------------------------------------------------------------


def test_login_over_tls_reads_the_group(
    dns: FakeDNS, tls_news: tuple[SimNNTPServer, ssl.SSLContext]
) -> None:
    server, context = tls_news
    settings = config(
        dns, server.port, tls=True, ssl_context=context, user="reader", password="s3cret"
    )
    with NNTPClient(settings) as client:
        assert client.group(GROUP).count == 6


def test_a_wrong_password_is_a_reply_error(
    dns: FakeDNS, tls_news: tuple[SimNNTPServer, ssl.SSLContext]
) -> None:
    server, context = tls_news
    settings = config(
        dns, server.port, tls=True, ssl_context=context, user="reader", password="wrong"
    )
    with pytest.raises(NNTPReplyError, match="481") as caught:
        NNTPClient(settings).connect()
    assert caught.value.code == 481


def test_without_login_the_server_refuses_the_group(
    dns: FakeDNS, tls_news: tuple[SimNNTPServer, ssl.SSLContext]
) -> None:
    server, context = tls_news
    with (
        NNTPClient(config(dns, server.port, tls=True, ssl_context=context)) as client,
        pytest.raises(NNTPReplyError, match="480"),
    ):
        client.group(GROUP)


def test_a_password_is_never_sent_without_tls(dns: FakeDNS, news: SimNNTPServer) -> None:
    news.state.reset()
    settings = config(dns, news.port, user="reader", password="s3cret")
    with pytest.raises(NNTPRefused, match="a password is sent only over TLS"):
        NNTPClient(settings).connect()
    assert "AUTHINFO" not in news.state.verbs
    allowed = config(dns, news.port, user="reader", password="s3cret", plaintext_auth=True)
    with pytest.raises(NNTPReplyError, match="481"):  # this server takes no logins
        NNTPClient(allowed).connect()
    assert "AUTHINFO" in news.state.verbs


def test_an_untrusted_certificate_is_refused(
    dns: FakeDNS, tls_news: tuple[SimNNTPServer, ssl.SSLContext]
) -> None:
    server, _ = tls_news
    server.state.reset()
    settings = config(dns, server.port, tls=True, user="reader", password="s3cret")
    with pytest.raises(NNTPError, match="TLS certificate refused"):
        NNTPClient(settings).connect()
    assert "AUTHINFO" not in server.state.verbs


def test_a_failed_login_leaves_no_socket_open(
    dns: FakeDNS, tls_news: tuple[SimNNTPServer, ssl.SSLContext]
) -> None:
    server, context = tls_news
    client = NNTPClient(
        config(dns, server.port, tls=True, ssl_context=context, user="reader", password="no")
    )
    with pytest.raises(NNTPReplyError, match="481"):
        client.connect()
    assert client._sock is None


def test_no_configured_server_is_a_plain_error(settings: Any) -> None:
    settings.NNTP_SERVER = ""
    with pytest.raises(NNTPError, match="no news server is configured"):
        NNTPClient(NNTPConfig.from_settings()).connect()


def test_tls_to_a_plaintext_server_fails_plainly(dns: FakeDNS, news: SimNNTPServer) -> None:
    with pytest.raises(NNTPError, match="TLS handshake failed"):
        NNTPClient(config(dns, news.port, tls=True)).connect()


# --- the address policy ------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.2", "evil-news.test", "mixed-news.test"])
def test_a_server_outside_the_allowed_networks_gets_no_connection(
    dns: FakeDNS, canary: Canary, host: str
) -> None:
    with pytest.raises(NNTPRefused, match="loopback address"):
        NNTPClient(config(dns, canary.port, host=host)).connect()
    assert canary.hits == 0


def test_settings_name_the_server(dns: FakeDNS, news: SimNNTPServer, settings: Any) -> None:
    settings.NNTP_SERVER = NEWS_NAME
    settings.NNTP_PORT = news.port
    settings.NNTP_TLS = False
    settings.DNS_SERVERS = [dns.endpoint]
    settings.FETCH_ALLOW_NETS = ALLOWED
    with NNTPClient(NNTPConfig.from_settings()) as client:
        assert client.group(GROUP).count == 6
    settings.FETCH_ALLOW_NETS = []  # a deployment without the simnet's exemption
    with pytest.raises(NNTPRefused):
        NNTPClient(NNTPConfig.from_settings()).connect()


# --- hostile servers ---------------------------------------------------------------------------


class ScriptedServer:
    """Accepts one connection at a time and sends `script`, then holds the line open."""

    def __init__(self, script: bytes) -> None:
        self.script = script
        self.sock = socket.create_server(("127.77.0.120", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.suppress(OSError):  # the client may hang up first
                conn.sendall(self.script)
            self._stop.wait(3)
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def scripted() -> Iterator[Any]:
    servers: list[ScriptedServer] = []

    def start(script: bytes) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_an_endless_line_is_a_limit(dns: FakeDNS, scripted: Any) -> None:
    server = scripted(b"200 " + b"x" * (256 * 1024))
    with pytest.raises(NNTPLimit, match="a line of more than"):
        NNTPClient(config(dns, server.port, host="127.77.0.120")).connect()


def test_a_silent_server_is_a_time_limit(dns: FakeDNS, scripted: Any) -> None:
    server = scripted(b"200 ready\r\n")
    started = time.monotonic()
    client = NNTPClient(config(dns, server.port, host="127.77.0.120", timeout=0.5)).connect()
    with pytest.raises(NNTPLimit, match=r"no complete reply within 0\.5 s"):
        client.group(GROUP)
    client.close()
    assert time.monotonic() - started < 3


def test_an_endless_article_is_a_size_limit(dns: FakeDNS, scripted: Any) -> None:
    server = scripted(b"200 ready\r\n220 1 <a@b>\r\n" + b"line\r\n" * 50_000)
    settings = config(dns, server.port, host="127.77.0.120", max_block_bytes=100_000)
    client = NNTPClient(settings).connect()
    with pytest.raises(NNTPLimit, match="a reply of more than 100000 bytes"):
        client.article("<a@b>")
    client.close()


def test_a_block_of_millions_of_short_lines_reads_quickly(dns: FakeDNS, scripted: Any) -> None:
    # 3 million short lines (9 MB): a guard against per-line costs that grow with the reply.
    server = scripted(b"200 ready\r\n220 1 <a@b>\r\n" + b"x\r\n" * 3_000_000 + b".\r\n")
    client = NNTPClient(config(dns, server.port, host="127.77.0.120")).connect()
    started = time.monotonic()
    article = client.article("<a@b>")
    elapsed = time.monotonic() - started
    client.close()
    assert len(article.raw) == 9_000_000
    assert elapsed < 5


def test_a_garbled_greeting_is_refused(dns: FakeDNS, scripted: Any) -> None:
    server = scripted(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(NNTPError, match="not an NNTP reply"):
        NNTPClient(config(dns, server.port, host="127.77.0.120")).connect()


def test_the_simnet_runs_the_news_server(simnet: Any, settings: Any) -> None:
    settings.NNTP_SERVER = simnet.nntp_host
    settings.NNTP_PORT = simnet.nntp_port
    settings.NNTP_TLS = False
    settings.FETCH_ALLOW_NETS = ALLOWED
    simnet.reset()
    message_id = simnet.news.articles[2].message_id
    try:
        with NNTPClient(NNTPConfig.from_settings()) as client:
            assert client.group(GROUP).count == 6
            simnet.news.remove(message_id)
            assert client.stat(message_id) is False
        simnet.reset()  # between tests, removals are undone
        with NNTPClient(NNTPConfig.from_settings()) as client:
            assert client.stat(message_id) is True
    finally:
        simnet.reset()
