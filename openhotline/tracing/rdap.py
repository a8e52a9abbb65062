"""Abuse contacts over RDAP: the IP network's, and the domain registrar's.

This module is the lookups: which bootstrap registry to read, which server and path to
ask, the domain's registered name tried label by label, and what each HTTP status means.
Its parts live beside it: `rdap_bootstrap` (IANA's bootstrap registries, RFC 9224, kept
for RDAP_BOOTSTRAP_TTL seconds), `rdap_read` (one answer off the wire: redirects, the
deadline, size and decompression limits), `rdap_parse` (RFC 9083 entities, jCards,
networks, registrars), `rdap_types` (the result types, re-exported here) and `rdap_http`
(the checked transport).

Lookups never raise for what servers do: every failure (no record, rate limit, server
error, redirect loop, bad JSON, too large, timeout) comes back as an RdapResult whose
`outcome` is a stable code and whose `reason` says what happened in plain words.

Connections go where captures may go and nowhere else: every request and every redirect
hop is checked with the capture fetcher's address policy against the platform's resolver
(`rdap_http`), so a registry's redirect cannot reach the hotline's own network or the
cloud's metadata service (the answer is kept for the record and would be read back).
The simulated internet serves RDAP on loopback addresses that tests and the demo allow
(FETCH_ALLOW_NETS).
"""

import functools
import ipaddress
import ssl
import time
from dataclasses import replace
from urllib.parse import quote, urljoin

import httpx
from django.conf import settings

from openhotline.tracing.rdap_bootstrap import (
    Bootstrap,
    BootstrapError,
    IPAddress,
    shared_bootstrap,
)
from openhotline.tracing.rdap_http import CheckedTransport
from openhotline.tracing.rdap_parse import domain_result, error_detail, json_object, network_result
from openhotline.tracing.rdap_read import Answer, AnswerReader, Failure, host
from openhotline.tracing.rdap_types import Contact, Kind, NetworkFacts, Outcome, RdapResult

# What other modules name as `rdap.<name>`; the parts above hold them.
__all__ = [
    "Bootstrap",
    "BootstrapError",
    "Contact",
    "NetworkFacts",
    "Outcome",
    "RdapClient",
    "RdapResult",
    "abuse_contacts_for_domain",
    "abuse_contacts_for_ip",
    "shared_bootstrap",
]

DEFAULT_TIMEOUT = 10.0
MIB = 1024 * 1024
MAX_BYTES = MIB  # no RDAP answer we need is anywhere near this
MAX_REDIRECTS = 3
RAW_LIMIT = 128 * 1024  # of the answer kept for the record
_MAX_DOMAIN_TRIES = 3  # example.co.uk under "uk": co.uk, example.co.uk, a.example.co.uk
_HEADERS = {
    "Accept": "application/rdap+json, application/json;q=0.9",
    # Compressed answers are decoded in bounded steps (rdap_read), but none is asked for.
    "Accept-Encoding": "identity",
    "User-Agent": "OpenHotline-RDAP/1",
}


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process: building one reloads the CA bundle (tens of milliseconds)."""
    return httpx.create_ssl_context()


class RdapClient:
    """``with RdapClient() as rdap: rdap.abuse_contacts_for_ip("192.0.2.1")``.

    `transport` is for tests (httpx.MockTransport); production uses httpx's own. Each
    lookup has one deadline of `timeout` seconds (RDAP_TIMEOUT), bootstrap and redirects
    included.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        bootstrap: Bootstrap | None = None,
        timeout: float | None = None,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        raw_limit: int = RAW_LIMIT,
    ) -> None:
        if timeout is None:
            timeout = float(getattr(settings, "RDAP_TIMEOUT", DEFAULT_TIMEOUT))
        self.timeout = timeout
        self.bootstrap = bootstrap or shared_bootstrap()
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.raw_limit = raw_limit
        if transport is None:
            transport = CheckedTransport(
                ssl_context=_ssl_context(),
                allow_nets=getattr(settings, "FETCH_ALLOW_NETS", []),
                dns_servers=getattr(settings, "DNS_SERVERS", None) or None,
            )
        # trust_env=False: no proxy or .netrc from the environment, as with the fetcher.
        self._http = httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,
            headers=_HEADERS,
            verify=_ssl_context(),
        )
        self._reader = AnswerReader(self._http, timeout, max_bytes, max_redirects)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RdapClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Lookups ---

    def abuse_contacts_for_ip(self, address: str) -> RdapResult:
        """The network holding `address` and its abuse contacts, nearest first."""
        parsed = _parse_address(address)
        if parsed is None:
            reason = f"{address[:100]!r} is not an IP address"
            return RdapResult(address, "ip", Outcome.INVALID_QUERY, reason)
        deadline = time.monotonic() + self.timeout
        kind = f"ipv{parsed.version}"
        try:
            registry = self.bootstrap.registry(
                kind, lambda url: self._bootstrap_json(url, deadline)
            )
        except BootstrapError as exc:
            url = self.bootstrap.url(kind)
            return RdapResult(address, "ip", Outcome.BOOTSTRAP_ERROR, str(exc), url)
        urls = registry.for_address(parsed)
        if not urls:
            reason = f"the {kind} bootstrap registry lists no RDAP service for {parsed}"
            return RdapResult(address, "ip", Outcome.NO_SERVER, reason)
        return self._lookup(address, "ip", urls, f"ip/{quote(str(parsed), safe=':.')}", deadline)

    def abuse_contacts_for_domain(self, name: str) -> RdapResult:
        """The registration holding host or domain `name`: registrar and its abuse contact.

        Registries know registered names, not host names: "www.shop.example" is asked as
        "shop.example" first, one label more at a time after a 404 (a few times), so
        "shop.example.co.uk" also works without the public suffix list.
        """
        ascii_name = _domain_name(name)
        if ascii_name is None:
            reason = f"{name[:100]!r} is not a domain name"
            return RdapResult(name, "domain", Outcome.INVALID_QUERY, reason)
        deadline = time.monotonic() + self.timeout
        try:
            registry = self.bootstrap.registry(
                "dns", lambda url: self._bootstrap_json(url, deadline)
            )
        except BootstrapError as exc:
            url = self.bootstrap.url("dns")
            return RdapResult(name, "domain", Outcome.BOOTSTRAP_ERROR, str(exc), url)
        urls, suffix = registry.for_domain(ascii_name)
        if not urls:
            tld = ascii_name.rsplit(".", 1)[-1]
            reason = f"the dns bootstrap registry lists no RDAP service for .{tld}"
            return RdapResult(name, "domain", Outcome.NO_SERVER, reason)
        labels = ascii_name.split(".")
        first = len(suffix.split(".")) + 1
        candidates = [".".join(labels[-n:]) for n in range(first, len(labels) + 1)]
        tried: list[str] = []
        result = RdapResult(name, "domain", Outcome.NOT_FOUND)
        for candidate in (candidates or [ascii_name])[:_MAX_DOMAIN_TRIES]:
            tried.append(candidate)
            result = self._lookup(name, "domain", urls, f"domain/{quote(candidate)}", deadline)
            if result.outcome is not Outcome.NOT_FOUND:
                return result
        if len(tried) > 1:
            reason = f"no registration found for {', '.join(tried)}"
            result = replace(result, reason=reason)
        return result

    # --- One query, its answer read ---

    def _lookup(
        self, query: str, kind: Kind, bases: tuple[str, ...], path: str, deadline: float
    ) -> RdapResult:
        """Ask each listed server in turn until one answers (any HTTP status)."""
        failure: Failure | None = None
        for base in bases:
            try:
                answer = self._reader.get(urljoin(base, path), deadline)
            except Failure as exc:
                failure = exc
                if exc.outcome in (Outcome.TIMEOUT, Outcome.CONNECTION_ERROR):
                    continue
                break
            return self._result(query, kind, answer)
        assert failure is not None  # bases is never empty here
        return RdapResult(query, kind, failure.outcome, failure.reason, failure.url, failure.status)

    def _result(self, query: str, kind: Kind, answer: Answer) -> RdapResult:
        raw, truncated = self._raw(answer.body)
        base = RdapResult(
            query,
            kind,
            Outcome.FOUND,
            url=answer.url,
            status=answer.status,
            raw=raw,
            raw_truncated=truncated,
        )
        status = answer.status
        if status == 404:
            detail = error_detail(answer.body)
            what = "address" if kind == "ip" else "name"
            reason = f"no RDAP record for this {what} at {host(answer.url)} (404{detail})"
            return replace(base, outcome=Outcome.NOT_FOUND, reason=reason)
        if status == 429:
            wait = answer.headers.get("retry-after", "").strip()
            after = f"; retry after {wait[:40]}" if wait else ""
            reason = f"{host(answer.url)} is rate limiting us (429{after})"
            return replace(base, outcome=Outcome.RATE_LIMITED, reason=reason)
        if status >= 500:
            reason = f"{host(answer.url)} failed (HTTP {status}{error_detail(answer.body)})"
            return replace(base, outcome=Outcome.SERVER_ERROR, reason=reason)
        if not 200 <= status < 300:
            reason = f"{host(answer.url)} answered HTTP {status}{error_detail(answer.body)}"
            return replace(base, outcome=Outcome.HTTP_ERROR, reason=reason)
        try:
            data = json_object(answer.body)
        except ValueError as exc:
            return replace(base, outcome=Outcome.MALFORMED, reason=f"{host(answer.url)}: {exc}")
        expected = "ip network" if kind == "ip" else "domain"
        found_class = data.get("objectClassName")
        if isinstance(found_class, str) and found_class.lower() != expected:
            reason = f"{host(answer.url)} answered with a {found_class[:40]!r} object"
            return replace(base, outcome=Outcome.MALFORMED, reason=f"{reason}, not {expected}")
        if kind == "ip":
            return network_result(base, data)
        return domain_result(base, data)

    def _raw(self, body: bytes) -> tuple[str, bool]:
        return body[: self.raw_limit].decode("utf-8", "replace"), len(body) > self.raw_limit

    def _bootstrap_json(self, url: str, deadline: float) -> object:
        try:
            answer = self._reader.get(url, deadline)
        except Failure as exc:
            raise BootstrapError(f"bootstrap registry {url}: {exc.reason}") from None
        if answer.status != 200:
            raise BootstrapError(f"bootstrap registry {url}: HTTP {answer.status}")
        try:
            return json_object(answer.body)
        except ValueError as exc:
            raise BootstrapError(f"bootstrap registry {url}: {exc}") from None


# --- What may be asked ---------------------------------------------------------------


def _parse_address(text: str) -> IPAddress | None:
    text = text.strip().removeprefix("[").removesuffix("]").split("%", 1)[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped  # registered as the IPv4 address it carries
    return parsed


def _domain_name(name: str) -> str | None:
    """`name` in lower-case A-labels (IDNA), or None when it cannot be a domain name."""
    name = name.strip().rstrip(".").lower()
    if not name or len(name) > 253 or _parse_address(name) is not None:
        return None
    labels: list[str] = []
    for label in name.split("."):
        try:
            ascii_label = label if label.isascii() else label.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        if (
            not 0 < len(ascii_label) <= 63
            or ascii_label.startswith("-")
            or ascii_label.endswith("-")
        ):
            return None
        if not all(c.isalnum() or c in "-_" for c in ascii_label) or not ascii_label.isascii():
            return None
        labels.append(ascii_label)
    return ".".join(labels)


# --- Module-level entry points ---------------------------------------------------------


def abuse_contacts_for_ip(address: str, *, client: RdapClient | None = None) -> RdapResult:
    """RdapClient().abuse_contacts_for_ip(address), with settings' bootstrap and timeout."""
    if client is not None:
        return client.abuse_contacts_for_ip(address)
    with RdapClient() as own:
        return own.abuse_contacts_for_ip(address)


def abuse_contacts_for_domain(name: str, *, client: RdapClient | None = None) -> RdapResult:
    """RdapClient().abuse_contacts_for_domain(name), with settings' bootstrap and timeout."""
    if client is not None:
        return client.abuse_contacts_for_domain(name)
    with RdapClient() as own:
        return own.abuse_contacts_for_domain(name)
