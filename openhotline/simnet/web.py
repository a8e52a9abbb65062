"""Web servers for the simulated world: one HTTP server per host address, all on one port.

Each server does name-based virtual hosting on the Host header, limited to the hosts that live
on its address (a Host naming a site elsewhere, or no site at all, gets 404). Routes per host:
``/`` index, each page's path, and ``/img/<name>`` for the host's generated images. A CDN edge
address also serves the sites behind it (with a ``Via`` header naming the CDN); the shared
``NetState`` says what a notice has removed (404 from then on) and where moved hosts are now.
"""

from __future__ import annotations

import errno
import html
import ipaddress
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import behaviours, images
from .state import NetState
from .world import SimHost, SimPage, World, normalize_name

log = logging.getLogger(__name__)

_BIND_ATTEMPTS = 20


class SimWebServer:
    """All of the world's web sites. ``port=0`` picks one free port shared by every address."""

    def __init__(self, world: World, port: int = 0, state: NetState | None = None) -> None:
        self.world = world
        self.state = state if state is not None else NetState(world)
        self.requested_port = port
        self.port = port
        self._servers: list[_HostServer] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._servers:
            raise RuntimeError("web servers already started")
        self._servers = self._bind_all()
        self.port = self._servers[0].server_address[1]
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"simnet-web-{server.address}:{self.port}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        # shutdown() waits out a poll interval; do all servers at once rather than in turn.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers:
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers = []
        self._threads = []

    def url(self, host_name: str, path: str = "/") -> str:
        port = "" if self.port == 80 else f":{self.port}"
        return f"http://{host_name}{port}{path}"

    def _bind_all(self) -> list[_HostServer]:
        addresses = self.world.addresses()
        attempts = _BIND_ATTEMPTS if self.requested_port == 0 else 1
        for attempt in range(attempts):
            bound: list[_HostServer] = []
            try:
                port = self.requested_port
                for address in addresses:
                    bound.append(_HostServer(address, port, self))
                    port = bound[0].server_address[1]
            except OSError as exc:
                for server in bound:
                    server.server_close()
                # The first address's free port can be taken on another one; pick again.
                if exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise
                continue
            return bound
        raise AssertionError("unreachable")

    # -- rendering -------------------------------------------------------------------------

    def respond(self, server_address: str, host_header: str, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one GET; shared by the handler and by tests."""
        host = self._pick_host(server_address, host_header)
        if host is None:
            return _not_found("No such site on this address.")
        path = urlsplit(path).path
        if self.state.is_removed(host, path, server_address):
            return _not_found("This content has been removed.")
        if path == "/":
            return 200, "text/html; charset=utf-8", self._index(host, server_address)
        if path in host.pages:
            return 200, "text/html; charset=utf-8", self._page(host, host.pages[path])
        if path.startswith("/img/"):
            name = path.removeprefix("/img/")
            fmt = images.format_for_name(name)
            if fmt is not None and name in host.images:
                body = images.make_image(host.image_seed(name), fmt, host.image_size(name))
                return 200, images.content_type(fmt), body
        return _not_found("No such page.")

    def _pick_host(self, server_address: str, host_header: str) -> SimHost | None:
        name = normalize_name(host_header.rsplit(":", 1)[0] if ":" in host_header else host_header)
        if not name or _is_ip(name):
            local = self.state.hosts_at(server_address)
            # No name (HTTP/1.0) or a bare IP: the address's first site is the default one.
            return local[0] if local and name in ("", server_address) else None
        host = self.world.host_by_name(name)
        return host if host is not None and self.state.serves(host, server_address) else None

    def _index(self, host: SimHost, server_address: str) -> bytes:
        links = "".join(
            f'<li><a href="{_e(page.path)}">{_e(page.title)}</a></li>\n'
            for page in host.pages.values()
            if not self.state.is_removed(host, page.path, server_address)
        )
        body = f"<p>{_e(host.description)}</p>\n<ul>\n{links}</ul>\n"
        return _html(host.name, body)

    def _page(self, host: SimHost, page: SimPage) -> bytes:
        parts = ['<p><a href="/">Home</a></p>\n']
        for name in page.images:
            width, height = host.image_size(name)
            parts.append(
                f'<img src="/img/{_e(name)}" alt="{_e(name)}" width="{width}" height="{height}">\n'
            )
        if page.srcset:
            candidates = ", ".join(
                f"/img/{_e(name)} {host.image_size(name)[0]}w" for name in page.srcset
            )
            parts.append(
                f'<img src="/img/{_e(page.srcset[0])}" srcset="{candidates}" '
                f'sizes="(max-width: 600px) 100vw, 50vw" alt="{_e(page.srcset[0])}">\n'
            )
        head = ""
        if page.background is not None:
            width, height = host.image_size(page.background)
            head = (
                f".banner {{ background-image: url('/img/{_e(page.background)}'); "
                f"width: {width}px; height: {height}px; }}"
            )
            parts.append('<div class="banner"></div>\n')
        for ref in page.remote_images:
            other, _, name = ref.partition("/")
            parts.append(f'<img src="{_e(self.url(other, "/img/" + name))}" alt="{_e(name)}">\n')
        return _html(page.title, "".join(parts), style=head)


class _HostServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # restart at once despite TIME_WAIT

    def __init__(self, address: str, port: int, site: SimWebServer) -> None:
        self.address = address
        self.site = site
        super().__init__((address, port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up mid-response are normal here; keep test output clean.
        log.debug("error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _HostServer
    protocol_version = "HTTP/1.0"
    server_version = "SimNet/1"
    sys_version = ""
    timeout = 10  # a stalled client cannot hold a thread for ever

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        site = self.server.site
        host = site._pick_host(self.server.address, self.headers.get("Host", ""))
        removed = host is not None and site.state.is_removed(
            host, urlsplit(self.path).path, self.server.address
        )
        if host is not None and host.behaviour and not removed:
            headers = {name.lower(): value for name, value in self.headers.items()}
            special = behaviours.respond(host, self.path, headers)
            if special is not None:
                self._send_special(special, send_body)
                return
        status, ctype, body = site.respond(
            self.server.address, self.headers.get("Host", ""), self.path
        )
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if host is not None and host.cdn == self.server.address:
            edge = site.world.provider_at(host.cdn)
            self.send_header("Via", f"1.1 {edge.handle if edge else 'cdn'}")
        self.send_header("Connection", "close")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _send_special(self, response: behaviours.SimResponse, send_body: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if isinstance(response.body, bytes):
            self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not send_body:
            return
        chunks = [response.body] if isinstance(response.body, bytes) else response.body
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its limit, as it should

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _html(title: str, body: str, style: str = "") -> bytes:
    style_tag = f"<style>{style}</style>\n" if style else ""
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n{style_tag}</head>\n"
        f"<body>\n<h1>{_e(title)}</h1>\n{body}</body></html>\n"
    ).encode()


def _not_found(message: str) -> tuple[int, str, bytes]:
    return 404, "text/html; charset=utf-8", _html("Not found", f"<p>{_e(message)}</p>\n")
