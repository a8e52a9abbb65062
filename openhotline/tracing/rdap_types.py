"""What an RDAP lookup gives back: its outcome code, the contacts and network it found.

These are the client's public result types (`rdap.py` re-exports them), kept apart so the
parsing (`rdap_parse`), the reading of answers off the wire (`rdap_read`) and the lookups
(`rdap`) can all name them without importing each other in a circle.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Kind = Literal["ip", "domain"]


class Outcome(StrEnum):
    """How a lookup ended; stable codes for the record and for later decisions."""

    FOUND = "found"
    NOT_FOUND = "not_found"  # the server has no record (404)
    NO_SERVER = "no_server"  # the bootstrap registry lists no RDAP service for it
    BOOTSTRAP_ERROR = "bootstrap_error"  # the bootstrap registry could not be had
    INVALID_QUERY = "invalid_query"  # not an IP address, not a domain name
    RATE_LIMITED = "rate_limited"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    HTTP_ERROR = "http_error"  # any other status we cannot use
    REDIRECT_ERROR = "redirect_error"  # a loop, too many, or to something not http(s)
    MALFORMED = "malformed"  # not JSON, not an object, not what was asked for
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    REFUSED = "refused"  # the address policy refused a server or a redirect; nothing sent


@dataclass(frozen=True)
class Contact:
    """An RDAP entity, with what its jCard says."""

    handle: str
    roles: tuple[str, ...]
    name: str  # vCard fn
    organisation: str  # vCard org
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    urls: tuple[str, ...]
    # (type, identifier), e.g. ("IANA Registrar ID", "292") for a registrar.
    public_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NetworkFacts:
    """An RDAP "ip network" object's own facts."""

    handle: str
    name: str
    country: str
    start_address: str
    end_address: str
    cidrs: tuple[str, ...]  # cidr0 when the server gives it, else from start and end
    ip_version: str
    type: str
    parent_handle: str


@dataclass(frozen=True)
class RdapResult:
    query: str  # the address or name asked about, as given
    kind: Kind
    outcome: Outcome
    reason: str = ""  # empty when found
    url: str = ""  # the last URL asked (after redirects)
    status: int | None = None
    abuse: tuple[Contact, ...] = ()
    # "network" (ip), "registrar" (the registrar's own abuse contact) or "domain" (an
    # abuse entity elsewhere in the domain's answer, when the registrar has none).
    abuse_scope: str = ""
    network: NetworkFacts | None = None
    domain: str = ""  # the registered name the registry answered for
    registrar: Contact | None = None
    raw: str = ""  # the answer as received, cut at RAW_LIMIT bytes
    raw_truncated: bool = False

    @property
    def found(self) -> bool:
        return self.outcome is Outcome.FOUND

    @property
    def abuse_emails(self) -> tuple[str, ...]:
        return unique(email for contact in self.abuse for email in contact.emails)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """`values` stripped, without empties and case-insensitive repeats, in first order."""
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return tuple(seen.values())
