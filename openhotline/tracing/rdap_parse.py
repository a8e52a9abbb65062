"""What RDAP answers say (RFC 9083): entities, their roles and jCards, networks, registrars.

An answer's `entities` nest (a network's registrant holds its abuse contact), each with a
list of `roles` and a jCard `vcardArray` (RFC 7095). Reading is defensive: anything not
shaped as the RFC says is skipped, not trusted, and the walk over nested entities stops at
MAX_ENTITIES however deep a hostile answer goes. Used by the lookups in `rdap.py`, which
fill an `RdapResult` from the answer with `network_result` or `domain_result`.
"""

import ipaddress
import itertools
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from openhotline.tracing.rdap_types import Contact, NetworkFacts, RdapResult, unique

MAX_ENTITIES = 500  # entities looked at in one answer, however deeply nested


def json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the answer is JSON but not an object")
    return data


def error_detail(body: bytes) -> str:
    """ "; title: description" from an RDAP error object (RFC 9083 section 6), if any."""
    try:
        data = json_object(body)
    except ValueError:
        return ""
    parts = [data.get("title")]
    description = data.get("description")
    if isinstance(description, list):
        parts.extend(description)
    text = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    return f": {text[:200]}" if text else ""


def _entities(obj: dict[str, Any]) -> Iterator[tuple[dict[str, Any], int]]:
    """Every entity under `obj`, nearest first (breadth first), with its depth."""
    queue: deque[tuple[dict[str, Any], int]] = deque([(obj, 0)])
    count = 0
    while queue:
        parent, depth = queue.popleft()
        children = parent.get("entities")
        if not isinstance(children, list):
            continue
        for child in children:
            if not isinstance(child, dict):
                continue
            count += 1
            if count > MAX_ENTITIES:
                return
            yield child, depth + 1
            queue.append((child, depth + 1))


def _roles(entity: dict[str, Any]) -> tuple[str, ...]:
    roles = entity.get("roles")
    if not isinstance(roles, list):
        return ()
    return tuple(role.strip().lower() for role in roles if isinstance(role, str))


def _contact(entity: dict[str, Any]) -> Contact:
    properties: dict[str, list[str]] = {}
    vcard = entity.get("vcardArray")
    if isinstance(vcard, list) and len(vcard) >= 2 and isinstance(vcard[1], list):
        for item in vcard[1]:
            # ["email", {"type": "work"}, "text", "abuse@example.net"]
            if not (isinstance(item, list) and len(item) >= 4 and isinstance(item[0], str)):
                continue
            value = _jcard_text(item[3:])
            if value:
                properties.setdefault(item[0].lower(), []).append(value)
    public_ids = tuple(
        (str(entry["type"]), str(entry["identifier"]))
        for entry in entity.get("publicIds") or []
        if isinstance(entry, dict) and "type" in entry and "identifier" in entry
    )
    return Contact(
        handle=_str(entity.get("handle")),
        roles=_roles(entity),
        name=(properties.get("fn") or [""])[0],
        organisation=(properties.get("org") or [""])[0],
        emails=unique(_strip_scheme(v, "mailto:") for v in properties.get("email", [])),
        phones=unique(_strip_scheme(v, "tel:") for v in properties.get("tel", [])),
        urls=unique(properties.get("url", [])),
        public_ids=public_ids,
    )


def _jcard_text(values: list[Any]) -> str:
    # A value is text, or a list for structured ones (org units, addresses).
    parts: list[str] = []
    for value in values:
        if isinstance(value, list):
            parts.extend(str(v).strip() for v in value if isinstance(v, str | int))
        elif isinstance(value, str | int) and not isinstance(value, bool):
            parts.append(str(value).strip())
    return "; ".join(part for part in parts if part)[:500]


def _strip_scheme(value: str, scheme: str) -> str:
    return value[len(scheme) :] if value.lower().startswith(scheme) else value


def _distinct(contacts: tuple[Contact, ...]) -> tuple[Contact, ...]:
    """The same contact may hang under several entities; keep its first (nearest) place."""
    kept: dict[tuple[str, tuple[str, ...]], Contact] = {}
    for contact in contacts:
        kept.setdefault((contact.handle, contact.emails), contact)
    return tuple(kept.values())


def _network(data: dict[str, Any]) -> NetworkFacts:
    start, end = _str(data.get("startAddress")), _str(data.get("endAddress"))
    cidrs: list[str] = []
    for entry in data.get("cidr0_cidrs") or []:
        if not isinstance(entry, dict):
            continue
        prefix = entry.get("v4prefix") or entry.get("v6prefix")
        try:
            cidrs.append(str(ipaddress.ip_network(f"{prefix}/{int(entry['length'])}")))
        except (KeyError, TypeError, ValueError):
            continue
    if not cidrs and start and end:
        try:
            first, last = ipaddress.ip_address(start), ipaddress.ip_address(end)
            ranges = ipaddress.summarize_address_range(first, last)
            cidrs = [str(network) for network in itertools.islice(ranges, 16)]
        except (TypeError, ValueError):
            cidrs = []
    return NetworkFacts(
        handle=_str(data.get("handle")),
        name=_str(data.get("name")),
        country=_str(data.get("country")).upper(),
        start_address=start,
        end_address=end,
        cidrs=tuple(cidrs),
        ip_version=_str(data.get("ipVersion")),
        type=_str(data.get("type")),
        parent_handle=_str(data.get("parentHandle")),
    )


def network_result(base: RdapResult, data: dict[str, Any]) -> RdapResult:
    """`base` with what an "ip network" answer says: the network and its abuse contacts."""
    abuse = tuple(_contact(e) for e, _ in _entities(data) if "abuse" in _roles(e))
    return replace(base, abuse=_distinct(abuse), abuse_scope="network", network=_network(data))


def domain_result(base: RdapResult, data: dict[str, Any]) -> RdapResult:
    """`base` with what a "domain" answer says: the registrar and the abuse contacts,
    the registrar's own when it has some, else any elsewhere in the answer."""
    registrar_entity = next((e for e, _ in _entities(data) if "registrar" in _roles(e)), None)
    registrar = _contact(registrar_entity) if registrar_entity is not None else None
    abuse: tuple[Contact, ...] = ()
    scope = ""
    if registrar_entity is not None:
        abuse = tuple(_contact(e) for e, _ in _entities(registrar_entity) if "abuse" in _roles(e))
        scope = "registrar" if abuse else ""
    if not abuse:
        abuse = tuple(_contact(e) for e, _ in _entities(data) if "abuse" in _roles(e))
        scope = "domain" if abuse else ""
    return replace(
        base,
        abuse=_distinct(abuse),
        abuse_scope=scope,
        registrar=registrar,
        domain=_str(data.get("ldhName")).lower().rstrip("."),
    )


def _str(value: object) -> str:
    return value.strip()[:500] if isinstance(value, str) else ""
