"""Staff search: one box that understands what was typed, and a date range.

A reporter phones in with `R-…`, a host answers a notice `N…`, police ask about an
address, a network or a hash: each finds its cases the way it is stored, exactly, through
an index where one exists; anything else is "URL contains", as before. What the box
understood is shown, so a person knows what was searched for.

Indexes: report and notice references (unique), media hashes (`media_hash_lookup`), the
case's host (exact) and the inbox's `(last_reported_at, id)` for dates. A domain's
subdomains (`host LIKE '%.domain'`), "URL contains" and addresses inside a network (traces
keep their addresses as JSON) are scans: of the cases' hosts and URLs, and of the traces
(narrowed by a text match on the address's spelling first).
"""

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from openhotline.cases.models import Case
from openhotline.evidence.models import CaptureItem
from openhotline.intake.models import ReportItem
from openhotline.signals.models import MediaHash
from openhotline.signals.types import HASH_TYPES, BadHash
from openhotline.takedown.models import Action
from openhotline.tracing.models import Trace
from openhotline.urlnorm import UrlRejected, normalise_host, normalise_url

MAX_QUERY_CHARS = 200
# How many cases an address or network search may name (more: narrow the network).
MAX_NETWORK_CASES = 5000

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# intake.services.new_reference: R- and 12 of these, in groups of four.
_REFERENCE = re.compile(r"^R[-\s]*([2-9A-HJKMNP-Z]{4})[-\s]*([2-9A-HJKMNP-Z]{4})[-\s]*"
                        r"([2-9A-HJKMNP-Z]{4})$")  # fmt: skip
# takedown.notices.new_reference: N and 16 hex digits.
_ACTION_REFERENCE = re.compile(r"^N[0-9A-F]{16}$")
_HASH_PREFIX = re.compile(r"^(md5|sha-?1|sha-?256|pdq)\s*[:=]\s*", re.I)
_HASH_SEPARATORS = re.compile(r"[\s:\-]")
_HEX = re.compile(r"^[0-9a-f]+$")
_TYPES_BY_LENGTH = {32: ("md5",), 40: ("sha1",), 64: ("sha256", "pdq")}
_HOST_LIKE = re.compile(r"^[^\s/?#@:]+\.[^\s/?#@:]+$")


class SearchError(ValueError):
    """What was typed cannot be searched for; the message says why, for a person."""


@dataclass(frozen=True)
class Understood:
    """What the search box understood: a kind, the value as it is stored, and words."""

    kind: str
    value: str
    label: str
    hashes: tuple[tuple[str, str], ...] = ()
    network: IPNetwork | None = field(default=None)

    @property
    def description(self) -> str:
        if self.kind == "url":
            return f"Searching for addresses containing {self.value}"
        return f"Searching by {self.label} {self.value}"


@dataclass(frozen=True)
class Search:
    cases: QuerySet[Case]
    understood: Understood | None
    date_from: date | None
    date_to: date | None


def search_cases(queryset: QuerySet[Case], params: Any) -> Search:
    """Narrow `queryset` by `q` (whatever it is) and `from`/`to` (report dates)."""
    understood = interpret(str(params.get("q") or ""))
    if understood is not None:
        queryset = apply(queryset, understood)
    date_from = _date(params, "from")
    date_to = _date(params, "to")
    if date_from and date_to and date_from > date_to:
        raise SearchError("The first date is after the last one.")
    if date_from or date_to:
        queryset = reported_between(queryset, date_from, date_to)
    return Search(queryset, understood, date_from, date_to)


def interpret(raw: str) -> Understood | None:
    if len(raw) > MAX_QUERY_CHARS:
        raise SearchError(
            f"The search is too long ({len(raw):,} characters; at most {MAX_QUERY_CHARS})."
        )
    # Control characters out (NUL breaks PostgreSQL), surrounding space trimmed.
    text = "".join(c for c in raw if c.isprintable()).strip()
    if not text:
        return None
    upper = text.upper()
    if match := _REFERENCE.match(upper):
        return Understood("report", "R-" + "-".join(match.groups()), "report reference")
    if _ACTION_REFERENCE.match(upper):
        return Understood("action", upper, "notice or referral reference")
    if (address := _network(text)) is not None:
        return address
    if hashes := _hashes(text):
        label = " or ".join(HASH_TYPES[name].label for name, _ in hashes) + " hash"
        return Understood("hash", hashes[0][1], label, hashes=hashes)
    if _HOST_LIKE.match(text):
        try:
            return Understood("domain", normalise_host(text), "host or domain")
        except UrlRejected:
            pass
    return Understood("url", text, "part of the address")


def apply(queryset: QuerySet[Case], understood: Understood) -> QuerySet[Case]:
    kind, value = understood.kind, understood.value
    if kind == "report":
        return queryset.filter(
            pk__in=ReportItem.objects.filter(report__reference=value).values("case_id")
        )
    if kind == "action":
        return queryset.filter(pk__in=Action.objects.filter(reference=value).values("case_id"))
    if kind == "hash":
        wanted = Q()
        for hash_type, canonical in understood.hashes:
            wanted |= Q(hash_type=hash_type, lookup_key=canonical)
        media = MediaHash.objects.filter(wanted).values("media_id")
        items = CaptureItem.objects.filter(media_id__in=media).values("capture__case_id")
        return queryset.filter(pk__in=items)
    if kind == "domain":
        return queryset.filter(Q(host=value) | Q(host__endswith="." + value))
    if kind in {"ip", "network"} and understood.network is not None:
        wanted = Q(pk__in=cases_traced_in(understood.network))
        if kind == "ip":
            wanted |= Q(host=value)  # reported by its address
        return queryset.filter(wanted)
    try:
        normalised = normalise_url(value)
    except UrlRejected:
        return queryset.filter(url__icontains=value)
    return queryset.filter(Q(url__icontains=value) | Q(url=normalised))


def cases_traced_in(network: IPNetwork) -> list[int]:
    """Cases with a trace whose address, or network, lies in `network`."""
    traces = Trace.objects.all()
    prefix = _common_text_prefix(network)
    if prefix:
        traces = traces.filter(addresses__icontains=f'"{prefix}')
    found: set[int] = set()
    for case_id, addresses, trace_network in traces.values_list(
        "case_id", "addresses", "network"
    ).iterator(chunk_size=2000):
        if case_id in found:
            continue
        if _within(network, addresses, trace_network):
            found.add(case_id)
            if len(found) > MAX_NETWORK_CASES:
                raise SearchError(
                    f"More than {MAX_NETWORK_CASES:,} cases were hosted in {network}: "
                    "search a smaller network."
                )
    return sorted(found)


def reported_between(
    queryset: QuerySet[Case], first: date | None, last: date | None
) -> QuerySet[Case]:
    """Cases with a report on a day from `first` to `last` (inclusive, local time)."""
    reports = ReportItem.objects.filter(case_id=OuterRef("pk"))
    # The calendar's first and last days bound nothing (and would overflow in a zone).
    if first is not None and first > date.min + timedelta(days=1):
        start = timezone.make_aware(datetime.combine(first, time.min))
        # Implied by a report since `start`, and it lets the inbox index narrow the scan.
        queryset = queryset.filter(last_reported_at__gte=start)
        reports = reports.filter(report__created_at__gte=start)
    if last is not None and last < date.max - timedelta(days=1):
        end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
        reports = reports.filter(report__created_at__lt=end)
    return queryset.filter(Exists(reports))


def _date(params: Any, name: str) -> date | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    try:
        if len(raw) != len("2025-01-31"):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise SearchError(f"{shown!r} is not a date: write it as YYYY-MM-DD.") from None


def _network(text: str) -> Understood | None:
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            return Understood("network", str(network), "hosting network", network=network)
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    network = ipaddress.ip_network(address)
    return Understood("ip", str(address), "hosting address", network=network)


def _hashes(text: str) -> tuple[tuple[str, str], ...]:
    """(type, canonical value) pairs `text` could be: any case, `md5:`-style prefixes,
    `0x`, and separators (spaces, colons, dashes) forgiven. 64 digits: SHA-256 or PDQ."""
    named = _HASH_PREFIX.match(text)
    rest = text[named.end() :] if named else text
    digits = _HASH_SEPARATORS.sub("", rest).lower().removeprefix("0x")
    if not _HEX.match(digits):
        return ()
    if named:
        types: tuple[str, ...] = (named.group(1).lower().replace("-", ""),)
    else:
        types = _TYPES_BY_LENGTH.get(len(digits), ())
    found = []
    for name in types:
        try:
            found.append((name, HASH_TYPES[name].normalize(digits)))
        except BadHash:
            continue
    return tuple(found)


def _within(network: IPNetwork, addresses: object, trace_network: str) -> bool:
    spelled = [trace_network] if trace_network else []
    if isinstance(addresses, list):
        for entry in addresses:
            if isinstance(entry, dict):
                spelled += [str(entry.get("address") or ""), str(entry.get("network") or "")]
    for text in spelled:
        try:
            candidate = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue
        if candidate.version == network.version and candidate.subnet_of(network):  # type: ignore[arg-type]
            return True
    return False


def _common_text_prefix(network: IPNetwork) -> str:
    """The text every address of `network` starts with (IPv4, whole octets), for a cheap
    first narrowing of the traces; empty when there is none worth having."""
    if network.version != 4 or network.prefixlen < 8:
        return ""
    octets = str(network.network_address).split(".")[: network.prefixlen // 8]
    if network.prefixlen == 32:
        return ".".join(octets) + '"'
    return ".".join(octets) + "."
