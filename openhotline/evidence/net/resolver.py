"""Looking names up through the platform's resolver, keeping the CNAME chain.

With DNS_SERVERS set (OPENHOTLINE_DNS_SERVERS), names are asked of those servers only, with
no search list, so the demo and tests see the simulated internet; with none, the system
resolver answers (getaddrinfo: /etc/hosts, then DNS). Failures are kept apart because later
decisions ("the site is gone") depend on whether the name vanished or the server did.
"""

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
from django.conf import settings

from .policy import parse_address


class ErrorKind(StrEnum):
    """Why a fetch (or a lookup) did not complete; stable codes for later decisions."""

    DNS_NXDOMAIN = "dns_nxdomain"  # the name does not exist
    DNS_NO_ADDRESS = "dns_no_address"  # the name exists but has no A or AAAA record
    DNS_FAILURE = "dns_failure"  # the DNS servers failed or did not answer in time
    CONNECTION_REFUSED = "connection_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    READ_TIMEOUT = "read_timeout"
    TOTAL_TIMEOUT = "total_timeout"
    CONNECTION_ERROR = "connection_error"  # reset, unreachable, closed early
    TLS = "tls"
    PROTOCOL = "protocol"  # the server did not speak HTTP properly
    PROXY = "proxy"
    DECODING = "decoding"  # a compressed body could not be decompressed
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"


DNS_ERRORS = frozenset({ErrorKind.DNS_NXDOMAIN, ErrorKind.DNS_NO_ADDRESS, ErrorKind.DNS_FAILURE})


@dataclass(frozen=True)
class Resolution:
    name: str
    addresses: tuple[str, ...] = ()
    # Targets of the CNAME records followed, in order ("www.a.test" -> "cdn.b.test", ...).
    cnames: tuple[str, ...] = ()
    error: str | None = None
    error_kind: ErrorKind | None = None


def resolve(
    name: str, *, servers: Sequence[tuple[str, int]] | None = None, timeout: float = 5.0
) -> Resolution:
    """The A then AAAA addresses of `name`; `servers` defaults to settings.DNS_SERVERS."""
    literal = parse_address(name)
    if literal is not None:
        return Resolution(name, (str(literal),))
    name = name.rstrip(".").lower()
    if servers is None:
        servers = getattr(settings, "DNS_SERVERS", [])
    if servers:
        return _resolve_dns(name, servers, timeout)
    return _resolve_system(name)


def _resolve_dns(name: str, servers: Sequence[tuple[str, int]], timeout: float) -> Resolution:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(ip, port) for ip, port in servers]
    resolver.cache = None
    deadline = time.monotonic() + timeout
    qname = dns.name.from_text(name)
    addresses: list[str] = []
    cnames: list[str] = []
    for rdtype in ("A", "AAAA"):
        resolver.lifetime = max(deadline - time.monotonic(), 0.001)
        resolver.timeout = resolver.lifetime
        try:
            answer = resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as exc:
            if addresses:
                break  # inconsistent servers: keep the answer we have
            message = f"{name} does not exist (NXDOMAIN)"
            return Resolution(name, (), _nx_cnames(exc, qname), message, ErrorKind.DNS_NXDOMAIN)
        except dns.exception.DNSException as exc:
            if addresses:
                break  # A answered, AAAA failed: the checked A addresses are enough
            return Resolution(name, (), tuple(cnames), _failure(name, exc), ErrorKind.DNS_FAILURE)
        for rrset in answer.chaining_result.cnames:
            for rdata in rrset:
                target = rdata.target.to_text(omit_final_dot=True).lower()
                if target not in cnames:
                    cnames.append(target)
        if answer.rrset is not None:
            addresses.extend(str(parse_address(rdata.address)) for rdata in answer.rrset)
    return _finish(name, addresses, cnames)


def _nx_cnames(exc: dns.resolver.NXDOMAIN, qname: dns.name.Name) -> tuple[str, ...]:
    # An alias pointing at a name that does not exist: the chain still says who is behind it.
    try:
        response = exc.responses()[qname]
        chain = response.resolve_chaining()
    except (KeyError, AttributeError, dns.exception.DNSException):
        return ()
    return tuple(
        rdata.target.to_text(omit_final_dot=True).lower()
        for rrset in chain.cnames
        for rdata in rrset
    )


def _failure(name: str, exc: dns.exception.DNSException) -> str:
    if isinstance(exc, dns.exception.Timeout):
        return f"no answer from the DNS servers for {name} in time"
    if isinstance(exc, dns.resolver.NoNameservers):
        return f"the DNS servers failed to answer for {name} (SERVFAIL or REFUSED)"
    return f"DNS lookup of {name} failed: {exc}"


def _resolve_system(name: str) -> Resolution:
    try:
        infos = socket.getaddrinfo(
            name, None, type=socket.SOCK_STREAM, flags=socket.AI_CANONNAME
        )  # fmt: skip
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            message = f"{name} does not exist (NXDOMAIN)"
            return Resolution(name, error=message, error_kind=ErrorKind.DNS_NXDOMAIN)
        if exc.errno == getattr(socket, "EAI_NODATA", None):
            message = f"{name} has no address records"
            return Resolution(name, error=message, error_kind=ErrorKind.DNS_NO_ADDRESS)
        message = f"DNS lookup of {name} failed: {exc.strerror}"
        return Resolution(name, error=message, error_kind=ErrorKind.DNS_FAILURE)
    canonical = (infos[0][3] if infos else "").rstrip(".").lower()
    cnames = [canonical] if canonical and canonical != name else []
    # IPv4 first, as with the DNS path, so both give the same pinned address.
    ordered = sorted(infos, key=lambda info: info[0] != socket.AF_INET)
    addresses = [str(parse_address(str(info[4][0]))) for info in ordered]
    return _finish(name, addresses, cnames)


def _finish(name: str, addresses: list[str], cnames: list[str]) -> Resolution:
    unique = tuple(dict.fromkeys(addresses))
    if not unique:
        message = f"{name} has no address records"
        return Resolution(name, (), tuple(cnames), message, ErrorKind.DNS_NO_ADDRESS)
    return Resolution(name, unique, tuple(cnames))
