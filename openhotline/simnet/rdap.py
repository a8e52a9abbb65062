"""RDAP for the simulated world (RFC 9082 queries, RFC 9083 answers, RFC 9224 bootstrap).

Tracing asks RDAP who holds an address and who registered a domain, and where their abuse
desk is. Routes, all answering ``application/rdap+json``:

- ``/ip/<address>`` or ``/ip/<prefix>/<len>``: the provider's network, with its abuse contact
  at the top level (RIPE style) or nested in the registrant entity (ARIN style);
- ``/domain/<name>``: registered domains only (one label under the zone, as real registries
  answer), with the registrar entity holding a nested abuse entity;
- ``/autnum/<asn>``: the provider's AS;
- ``/bootstrap/{ipv4,ipv6,dns,asn}.json``: IANA-format bootstrap files naming this server;
- unknown objects get 404 and malformed queries 400, both as RDAP error objects.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from .world import Provider, Registrar, World, normalize_name

log = logging.getLogger(__name__)

RDAP_JSON = "application/rdap+json"
_CONFORMANCE = ["rdap_level_0", "cidr0"]
_REGISTERED = "2020-02-02T00:00:00Z"
_EXPIRES = "2030-02-02T00:00:00Z"
_ASN_RANGE = "64496-65534"  # documentation and private-use AS numbers


def vcard(name: str, kind: str, email: str | None = None, phone: str | None = None) -> list[Any]:
    entries: list[list[Any]] = [
        ["version", {}, "text", "4.0"],
        ["fn", {}, "text", name],
        ["kind", {}, "text", kind],
    ]
    if email is not None:
        entries.append(["email", {"type": "work"}, "text", email])
    if phone is not None:
        entries.append(["tel", {"type": ["voice", "work"]}, "uri", f"tel:{phone}"])
    return ["vcard", entries]


def entity(handle: str, roles: list[str], card: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "objectClassName": "entity",
        "handle": handle,
        "roles": roles,
        "vcardArray": card,
        **extra,
    }


class RdapAnswers:
    """The JSON documents; separate from HTTP so tests can look at them directly."""

    def __init__(self, world: World, base_url: str) -> None:
        self.world = world
        self.base_url = base_url

    def bootstrap(self, kind: str) -> dict[str, Any] | None:
        services = {
            "ipv4": [[[self.world.network], [self.base_url]]],
            "ipv6": [],
            "dns": [[[self.world.zone], [self.base_url]]],
            "asn": [[[_ASN_RANGE], [self.base_url]]],
        }.get(kind)
        if services is None:
            return None
        return {
            "version": "1.0",
            "publication": _REGISTERED,
            "description": f"Simulated RDAP bootstrap for {kind}",
            "services": services,
        }

    def ip(self, query: str) -> tuple[int, dict[str, Any]]:
        try:
            wanted = ipaddress.ip_network(query, strict=False)
        except ValueError:
            return error(400, "Bad request", f"{query!r} is not an IP address or prefix")
        for provider in self.world.providers:
            network = ipaddress.IPv4Network(provider.network)
            if isinstance(wanted, ipaddress.IPv4Network) and wanted.subnet_of(network):
                return 200, self._network(provider, network)
        return error(404, "Not found", f"no network holds {query}")

    def domain(self, query: str) -> tuple[int, dict[str, Any]]:
        name = normalize_name(query)
        if not self.world.in_zone(name):
            return error(404, "Not found", f"this server does not serve {query!r}")
        registrar = self.world.domains().get(name)
        if registrar is None:
            return error(404, "Not found", f"{name} is not a registered domain")
        return 200, self._domain(name, registrar)

    def autnum(self, query: str) -> tuple[int, dict[str, Any]]:
        if not query.isdigit():
            return error(400, "Bad request", f"{query!r} is not an AS number")
        for provider in self.world.providers:
            if provider.asn == int(query):
                return 200, {
                    "rdapConformance": ["rdap_level_0"],
                    "objectClassName": "autnum",
                    "handle": f"AS{provider.asn}",
                    "startAutnum": provider.asn,
                    "endAutnum": provider.asn,
                    "name": provider.as_name,
                    "country": provider.country,
                    "entities": self._holders(provider),
                    "links": [self._link(f"autnum/{provider.asn}")],
                }
        return error(404, "Not found", f"AS{query} is not known here")

    def _network(self, provider: Provider, network: ipaddress.IPv4Network) -> dict[str, Any]:
        return {
            "rdapConformance": _CONFORMANCE,
            "objectClassName": "ip network",
            "handle": f"NET-{str(network.network_address).replace('.', '-')}-1",
            "startAddress": str(network.network_address),
            "endAddress": str(network.broadcast_address),
            "ipVersion": f"v{network.version}",
            "name": f"{provider.handle.upper()}-NET",
            "type": "ASSIGNED PA",
            "country": provider.country,
            "cidr0_cidrs": [
                {"v4prefix": str(network.network_address), "length": network.prefixlen}
            ],
            "entities": self._holders(provider),
            "events": [{"eventAction": "registration", "eventDate": _REGISTERED}],
            "links": [self._link(f"ip/{network}")],
        }

    def _holders(self, provider: Provider) -> list[dict[str, Any]]:
        handle = provider.handle.upper()
        abuse = entity(
            f"{handle}-ABUSE", ["abuse"], vcard("Abuse desk", "group", email=provider.abuse_email)
        )
        tech = entity(
            f"{handle}-NOC",
            ["technical"],
            vcard("Network operations", "group", email=f"noc@{provider.abuse_email.split('@')[1]}"),
        )
        if provider.nested_abuse:
            registrant = entity(
                handle, ["registrant"], vcard(provider.name, "org"), entities=[abuse, tech]
            )
            return [registrant]
        return [entity(handle, ["registrant"], vcard(provider.name, "org")), abuse, tech]

    def _domain(self, name: str, registrar: Registrar) -> dict[str, Any]:
        abuse = entity(
            f"{registrar.handle.upper()}-ABUSE",
            ["abuse"],
            vcard("", "group", email=registrar.abuse_email, phone=registrar.abuse_phone),
        )
        holder = entity(
            str(registrar.iana_id),
            ["registrar"],
            vcard(registrar.name, "org"),
            publicIds=[{"type": "IANA Registrar ID", "identifier": str(registrar.iana_id)}],
            entities=[abuse],
        )
        return {
            "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_0"],
            "objectClassName": "domain",
            "handle": f"D{zlib.crc32(name.encode()):08d}-TEST",
            "ldhName": name,
            "status": ["active"],
            "nameservers": [{"objectClassName": "nameserver", "ldhName": f"ns.{self.world.zone}"}],
            "entities": [holder],
            "events": [
                {"eventAction": "registration", "eventDate": _REGISTERED},
                {"eventAction": "expiration", "eventDate": _EXPIRES},
            ],
            "links": [self._link(f"domain/{name}")],
        }

    def _link(self, path: str) -> dict[str, str]:
        url = self.base_url + path
        return {"value": url, "rel": "self", "href": url, "type": RDAP_JSON}

    def answer(self, path: str) -> tuple[int, str, dict[str, Any]]:
        """(status, content type, document) for a GET of ``path``."""
        path = unquote(urlsplit(path).path)
        kind, _, rest = path.lstrip("/").partition("/")
        if kind == "bootstrap" and rest.endswith(".json"):
            document = self.bootstrap(rest.removesuffix(".json"))
            if document is not None:
                return 200, "application/json", document
        elif kind == "help" and not rest:
            return (
                200,
                RDAP_JSON,
                {
                    "rdapConformance": ["rdap_level_0"],
                    "notices": [
                        {
                            "title": "Simulated RDAP",
                            "description": ["Answers for the simulated .test internet only."],
                        }
                    ],
                },
            )
        elif kind in ("ip", "domain", "autnum") and rest:
            status, document = getattr(self, kind)(rest)
            return status, RDAP_JSON, document
        status, document = error(404, "Not found", f"no such RDAP path {path!r}")
        return status, RDAP_JSON, document


def error(code: int, title: str, description: str) -> tuple[int, dict[str, Any]]:
    return code, {
        "rdapConformance": ["rdap_level_0"],
        "errorCode": code,
        "title": title,
        "description": [description],
    }


class SimRDAPServer:
    """``SimRDAPServer(world, address, port).start()``; ``base_url`` ends with a slash."""

    def __init__(self, world: World, address: str, port: int = 0) -> None:
        self.world = world
        self.address = address
        self.requested_port = port
        self.port = port
        self._server: _RDAPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{self.port}/"

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("RDAP server already started")
        self._server = _RDAPServer(self.address, self.requested_port)
        self.port = self._server.server_address[1]
        self._server.answers = RdapAnswers(self.world, self.base_url)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"simnet-rdap-{self.address}:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None


class _RDAPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    answers: RdapAnswers

    def __init__(self, address: str, port: int) -> None:
        super().__init__((address, port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _RDAPServer
    protocol_version = "HTTP/1.0"
    server_version = "SimNet-RDAP/1"
    sys_version = ""
    timeout = 10

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        status, ctype, document = self.server.answers.answer(self.path)
        body = json.dumps(document, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")  # RFC 7480 section 5.6
        self.send_header("Connection", "close")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)
