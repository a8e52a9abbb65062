"""Loopback-only servers for the fetcher's tests: a scriptable DNS server, HTTP servers with
hostile routes, canary listeners that count connections, a SOCKS5 proxy and TLS material.

Everything binds to 127.x.y.z (or ::1) on ephemeral ports, as the suite's socket guard
requires; each is a context manager that stops its threads on exit.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, A, DNSRecord

ALLOWED_NET = ipaddress.ip_network("127.77.0.0/16")
DNS_ADDRESS = "127.77.0.53"


class _Service:
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        raise NotImplementedError


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _wake(sock: socket.socket) -> None:
    # On Linux, shutdown() wakes a thread blocked in accept() or recvfrom() at once.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def free_port(host: str = "127.77.9.9") -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --- DNS -----------------------------------------------------------------------------------


class FakeDNS(_Service):
    """A UDP DNS server answering from dictionaries; unknown names get NXDOMAIN."""

    def __init__(self, address: str = DNS_ADDRESS) -> None:
        self.v4: dict[str, list[str]] = {}
        self.v6: dict[str, list[str]] = {}
        self.cnames: dict[str, str] = {}
        self.rebinding: dict[str, list[list[str]]] = {}
        self.modes: dict[str, str] = {}  # "servfail", "refused" or "silent"
        self.queries: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((address, 0))
        self._sock.settimeout(0.05)
        self.endpoint: tuple[str, int] = (address, self._sock.getsockname()[1])
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-dns")
        self._thread.start()

    def add(self, name: str, *addresses: str) -> None:
        """Records for `name` (none at all: the name exists with no address, NODATA)."""
        self.v4.setdefault(name, []).extend(a for a in addresses if ":" not in a)
        self.v6.setdefault(name, []).extend(a for a in addresses if ":" in a)

    def alias(self, name: str, target: str) -> None:
        self.cnames[name] = target

    def rebind(self, name: str, *answers: list[str]) -> None:
        """Successive A queries for `name` get successive answers (the last one repeats)."""
        self.rebinding[name] = list(answers)

    def count(self, name: str, qtype: str = "A") -> int:
        return sum(1 for q in self.queries if q == (name, qtype))

    def stop(self) -> None:
        self._stopping.set()
        _wake(self._sock)
        self._thread.join(timeout=2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                continue  # woken by stop()
            reply = self._answer(data)
            if reply is not None:
                self._sock.sendto(reply, peer)

    def _answer(self, data: bytes) -> bytes | None:
        request = DNSRecord.parse(data)
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.queries.append((qname, qtype))
        reply = request.reply()
        mode = self.modes.get(qname)
        if mode == "silent":
            return None
        if mode in ("servfail", "refused"):
            reply.header.rcode = RCODE.SERVFAIL if mode == "servfail" else RCODE.REFUSED
            return bytes(reply.pack())
        name = qname
        for _ in range(8):
            target = self.cnames.get(name)
            if target is None:
                break
            reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(target), ttl=0))
            name = target
        if name in self.rebinding and qtype == "A":
            answers = self.rebinding[name]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            for address in addresses:
                reply.add_answer(RR(name, QTYPE.A, rdata=A(address), ttl=0))
        elif name in self.v4 or name in self.rebinding:
            records = self.v4.get(name, []) if qtype == "A" else self.v6.get(name, [])
            for address in records if qtype in ("A", "AAAA") else []:
                packed = tuple(ipaddress.ip_address(address).packed)
                rdata = A(address) if qtype == "A" else AAAA(packed)
                reply.add_answer(RR(name, getattr(QTYPE, qtype), rdata=rdata, ttl=0))
        else:
            reply.header.rcode = RCODE.NXDOMAIN
        return bytes(reply.pack())


# --- HTTP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    client: str = ""  # the address the request came from


class Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        owner = self.server.owner
        headers = {k.lower(): v for k, v in self.headers.items()}
        owner.requests.append(Seen(self.path, headers, str(self.client_address[0])))
        route = owner.routes.get(urlsplit(self.path).path) or owner.routes.get("*")
        with contextlib.suppress(ConnectionError, TimeoutError):
            if route is None:
                self.reply(404, b"not found")
            else:
                route(self)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stopping

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.reply(status, b"", {"Location": location})

    def log_message(self, format: str, *args: Any) -> None:
        pass


Route = Callable[[Handler], None]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: HTTPServer

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, peer = super().get_request()
        if self.owner.tls is not None:
            sock = self.owner.tls.wrap_socket(sock, server_side=True)
        return sock, peer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up on purpose are the point of these tests


class HTTPServer(_Service):
    """``HTTPServer("127.77.1.1", {"/": lambda h: h.reply(200, b"hi")})``; "*" catches all."""

    def __init__(
        self,
        host: str,
        routes: dict[str, Route] | None = None,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        self.tls = tls
        server_class = type("_Server", (_HTTPServer,), {"address_family": _family(host)})
        self._server: _HTTPServer = server_class((host, port), Handler)
        self._server.owner = self
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)


# --- Canaries --------------------------------------------------------------------------


class _TCPListener(_Service):
    """A loopback TCP listener whose thread hands each accepted connection to `_accepted`."""

    def _listen(self, host: str, port: int, name: str) -> int:
        self._sock = socket.socket(_family(host), socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name=name)
        self._thread.start()
        return int(self._sock.getsockname()[1])

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _peer = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted(conn)

    def _accepted(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopping.set()
        _wake(self._sock)
        self._thread.join(timeout=2)
        self._sock.close()


class Canary(_TCPListener):
    """A listener that only counts connections: a forbidden target that must stay at 0."""

    def __init__(self, host: str, port: int = 0) -> None:
        self.host = host
        self.hits = 0
        self.port = self._listen(host, port, f"canary-{host}")

    def _accepted(self, conn: socket.socket) -> None:
        self.hits += 1
        conn.close()


@contextlib.contextmanager
def recorded_connects() -> Iterator[list[Any]]:
    """Every socket.connect() target in this process while the block runs."""
    seen: list[Any] = []
    original = socket.socket.connect

    def recording(sock: socket.socket, address: Any) -> None:
        seen.append(address)
        original(sock, address)

    socket.socket.connect = recording  # type: ignore[method-assign, assignment]
    try:
        yield seen
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


def outside_allowed(connects: list[Any], nets: list[Any] | None = None) -> list[Any]:
    """The connect targets that are not inside the allowed networks."""
    allowed = nets or [ALLOWED_NET]
    outside = []
    for target in connects:
        address = ipaddress.ip_address(str(target[0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not any(address in net for net in allowed if net.version == address.version):
            outside.append(target)
    return outside


# --- SOCKS5 ----------------------------------------------------------------------------


class Socks5Proxy(_TCPListener):
    """Accepts CONNECT to any name (as Tor does for .onion) and answers with a page itself."""

    def __init__(self, host: str = "127.77.5.1") -> None:
        self.targets: list[tuple[str, int]] = []
        self.requests: list[bytes] = []
        self.url = f"socks5://{host}:{self._listen(host, 0, 'socks5')}"

    def _accepted(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(2)
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        _version, count = _exactly(conn, 2)
        _exactly(conn, count)
        conn.sendall(b"\x05\x00")  # no authentication
        _version, _command, _reserved, kind = _exactly(conn, 4)
        if kind == 3:
            host = _exactly(conn, _exactly(conn, 1)[0]).decode()
        else:
            host = str(ipaddress.ip_address(_exactly(conn, 4 if kind == 1 else 16)))
        port = int.from_bytes(_exactly(conn, 2))
        self.targets.append((host, port))
        conn.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        self.requests.append(request)
        body = f"hello from {host} via socks".encode()
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class ForwardingSocks5Proxy(Socks5Proxy):
    """A SOCKS5 proxy that, like Tor, resolves names itself (from `routes`: name → address)
    and connects onwards from its own address, so a server's log tells a request that came
    through the proxy (client == `host`) from a direct one. Unknown names are refused."""

    def __init__(self, host: str, routes: dict[str, tuple[str, int]]) -> None:
        self.host = host
        self.routes = routes
        super().__init__(host)

    def _handle(self, conn: socket.socket) -> None:
        _version, count = _exactly(conn, 2)
        _exactly(conn, count)
        conn.sendall(b"\x05\x00")
        _version, _command, _reserved, kind = _exactly(conn, 4)
        if kind != 3:
            conn.sendall(b"\x05\x08\x00\x01\x00\x00\x00\x00\x00\x00")  # names only
            return
        name = _exactly(conn, _exactly(conn, 1)[0]).decode()
        port = int.from_bytes(_exactly(conn, 2))
        self.targets.append((name, port))
        route = self.routes.get(name)
        if route is None:
            conn.sendall(b"\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00")  # host unreachable
            return
        with socket.create_connection(route, timeout=2, source_address=(self.host, 0)) as up:
            conn.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
            _splice(conn, up)


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(a, selectors.EVENT_READ, b)
        selector.register(b, selectors.EVENT_READ, a)
        while True:
            ready = selector.select(timeout=2)
            if not ready:
                return
            for key, _events in ready:
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                data = source.recv(65536)
                if not data:
                    return
                key.data.sendall(data)


def _exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed early")
        data += chunk
    return data


# --- TLS -------------------------------------------------------------------------------


def tls_contexts(name: str) -> tuple[ssl.SSLContext, ssl.SSLContext, list[str]]:
    """(server context for `name`, client context trusting it, SNI names the server saw)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpenHotline test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        # load_cert_chain only reads files; these are test keys in a throwaway folder.
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
        key_file.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        server.load_cert_chain(cert_file, key_file)
    seen: list[str] = []

    def record_sni(sock: Any, server_name: str | None, context: ssl.SSLContext) -> None:
        seen.append(server_name or "")

    server.sni_callback = record_sni
    client = ssl.create_default_context(cadata=ca.public_bytes(pem).decode())
    return server, client, seen
