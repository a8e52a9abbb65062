"""Tracing a case's host: the DNS chain through the platform's resolver, each address's
country and network from the offline IP database, CDNs from their data file, and the
abuse contacts RDAP gives for the network and the domain's registrar. One `Trace` row per
look; a look whose networks differ from the last one's is recorded as a move."""

from typing import Any

from openhotline.cases.models import Case
from openhotline.evidence.net.policy import parse_address
from openhotline.evidence.net.resolver import resolve
from openhotline.tracing import cdn, geoip, rdap
from openhotline.tracing.models import Trace


def _address_facts(address: str) -> dict[str, Any]:
    facts = geoip.lookup(address)
    front = cdn.cdn_for(address)
    return {
        "address": address,
        "country": facts.country if facts else "",
        "asn": facts.asn if facts else None,
        "as_name": facts.as_name if facts else "",
        "network": facts.network if facts else "",
        "cdn": front.provider if front else "",
        "cdn_abuse": front.abuse_email if front else "",
    }


def trace_host(host: str, previous: Trace | None = None) -> Trace:
    """An unsaved trace of `host` (a name or an address literal). With `previous` (this
    host's last trace) and the same networks as then, the abuse contacts are carried
    over instead of asked of RDAP again: rechecks of many cases would otherwise hit the
    registries' rate limits, and a contact only changes when the hosting does."""
    resolution = resolve(host)
    addresses = [_address_facts(a) for a in resolution.addresses]
    trace = Trace(host=host, cnames=list(resolution.cnames), addresses=addresses)
    trace.dns_error = (resolution.error or "")[:500]
    if previous is not None and addresses and trace.networks == previous.networks:
        for field in ("country", "asn", "as_name", "network", "cdn", "network_abuse",
                      "registrar", "registrar_abuse", "rdap_problems"):  # fmt: skip
            setattr(trace, field, getattr(previous, field))
        return trace
    problems: list[str] = []
    if addresses:
        first = addresses[0]
        trace.country, trace.asn = first["country"], first["asn"]
        trace.as_name, trace.network = first["as_name"][:255], first["network"]
        trace.cdn = first["cdn"]
        if first["cdn"]:
            # The notice goes to the CDN, asking it to act or to reveal the origin.
            trace.network_abuse = [first["cdn_abuse"]] if first["cdn_abuse"] else []
        else:
            network = rdap.abuse_contacts_for_ip(first["address"])
            trace.network_abuse = list(network.abuse_emails)
            if not network.found:
                problems.append(f"RDAP for {first['address']}: {network.reason}")
            elif network.network is not None and not trace.network:
                trace.network = (network.network.cidrs or ("",))[0]
            if network.network is not None and not trace.country:
                trace.country = network.network.country[:2].upper()
    if parse_address(host) is None and not host.endswith(".onion"):
        domain = rdap.abuse_contacts_for_domain(host)
        trace.registrar_abuse = list(domain.abuse_emails)
        trace.registrar = (
            (domain.registrar.name or domain.registrar.organisation)[:255]
            if (domain.registrar)
            else ""
        )
        if not domain.found:
            problems.append(f"RDAP for {host}: {domain.reason}")
    trace.rdap_problems = problems
    return trace


def trace_case(case: Case, host: str | None = None) -> Trace:
    """Trace the case's host (or another host serving its media) now and store it,
    noting a move from that host's last trace."""
    host = host or case.host
    previous = Trace.objects.filter(case=case, host=host).order_by("-at", "-id").first()
    trace = trace_host(host, previous)
    trace.case = case
    if previous is not None:
        trace.previous = previous
        trace.moved = bool(trace.addresses) and trace.networks != previous.networks
    trace.save()
    return trace
