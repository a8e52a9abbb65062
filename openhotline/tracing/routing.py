"""Where the work goes, from the trace and the rules (data a manager edits): the home
country's host gets a notice and the police are told; a country with a partner hotline
gets a referral; any other country goes to police; a `.onion` host becomes an
intelligence package for police, never a notice."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from openhotline.tracing import contacts
from openhotline.tracing.models import PartnerHotline, Route, RoutingRule, Trace

ONION = "onion"


@dataclass(frozen=True)
class Step:
    kind: str  # an openhotline.takedown.models.ActionKind value
    recipient: str
    # Not to be sent before this time (police clearance), or None for now.
    not_before: datetime | None = None
    problem: str = ""
    # Who to try next if the mail server refuses the recipient for good: (role, address).
    fallbacks: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Plan:
    route: str
    reason: str
    rule: RoutingRule
    steps: list[Step] = field(default_factory=list)


def rule_for(country: str) -> RoutingRule:
    """The country's own rule, else the home default for the home country, else the rule
    for any other country, else a built-in police referral."""
    found = RoutingRule.objects.filter(country=country).first()
    if found is not None:
        return found
    if country == settings.HOME_COUNTRY:
        return RoutingRule(country=country, route=Route.HOME)
    fallback = RoutingRule.objects.filter(country="").first()
    return fallback or RoutingRule(country="", route=Route.POLICE)


def _police(rule: RoutingRule) -> str:
    return rule.police_contact or settings.POLICE_CONTACT


def plan_for(host: str, trace: Trace, now: datetime | None = None) -> Plan:
    now = now or timezone.now()
    if host.endswith(".onion"):
        rule = rule_for(settings.HOME_COUNTRY)
        return Plan(
            ONION,
            "a Tor onion service: no host to notify; police get an intelligence package",
            rule,
            [_step("intelligence", _police(rule), "no police contact configured")],
        )
    country = trace.country
    rule = rule_for(country)
    host_notice = notice_step(trace, rule)
    if rule.route == Route.HOME:
        steps = [_step("police_notice", _police(rule), "no police contact configured")]
        if rule.await_police_clearance:
            until = now + timedelta(hours=rule.clearance_timeout_hours)
            host_notice = Step(
                "notice", host_notice.recipient, not_before=until, problem=host_notice.problem,
                fallbacks=host_notice.fallbacks,
            )  # fmt: skip
        return Plan(Route.HOME, f"hosted in {country} (home country)", rule, [host_notice, *steps])
    partner = PartnerHotline.objects.filter(country=country, active=True).exclude(email="").first()
    # A partner takes the referral unless the country's own rule says police.
    if partner is not None and not (rule.country == country and rule.route == Route.POLICE):
        steps = [_step("partner_referral", partner.email, "no referral address")]
        if rule.also_notice_host:
            steps.append(host_notice)
        return Plan(Route.PARTNER, f"hosted in {country}: {partner.name}", rule, steps)
    where = f"hosted in {country}" if country else "hosting country unknown"
    steps = [_step("police_referral", _police(rule), "no police contact configured")]
    if rule.also_notice_host:
        steps.append(host_notice)
    return Plan(Route.POLICE, f"{where}, no partner hotline", rule, steps)


def notice_step(trace: Trace, rule: RoutingRule | None = None) -> Step:
    """A notice to the first sendable contact: the network's abuse desk (or the CDN's),
    else the registrar's, else the rule's upstream (its escalation contact), else the
    police; the rest are its fallbacks. Unsendable contacts are named in the problem."""
    rule = rule if rule is not None else rule_for(trace.country)
    found, refused = contacts.candidates([
        ("network", list(trace.network_abuse)),
        ("registrar", list(trace.registrar_abuse)),
        ("upstream", [rule.escalate_to]),
        ("police", [_police(rule)]),
    ])  # fmt: skip
    problems = [contacts.describe_refused(refused)] if refused else []
    if not any(c.role in ("network", "registrar") for c in found) and not refused:
        problems.insert(0, "no abuse contact found by RDAP")
    if found and found[0].role not in ("network", "registrar"):
        problems.append(f"sent to the {found[0].role} contact instead")
    if not found:
        return Step("notice", "", problem="; ".join(problems)[:500])
    first, *rest = found
    return Step(
        "notice", first.address, problem="; ".join(problems)[:500],
        fallbacks=tuple((c.role, c.address) for c in rest),
    )  # fmt: skip


def escalation_step(rule: RoutingRule) -> Step:
    """An escalation to the rule's upstream contact, else the police."""
    found, refused = contacts.candidates(
        [("upstream", [rule.escalate_to]), ("police", [_police(rule)])]
    )
    problem = contacts.describe_refused(refused) if refused else ""
    if not found:
        return Step("escalation", "", problem=(problem or "no escalation contact")[:500])
    first, *rest = found
    return Step(
        "escalation", first.address, problem=problem[:500],
        fallbacks=tuple((c.role, c.address) for c in rest),
    )  # fmt: skip


def _step(kind: str, recipient: str, missing: str) -> Step:
    """A step to one configured contact (police, a partner), normalised; its problem says
    why it cannot go when the contact is missing or not sendable."""
    if not recipient:
        return Step(kind, "", problem=missing)
    good, bad = contacts.normalise(recipient)
    if not good:
        why = "; ".join(f"{text!r}: {reason}" for text, reason in bad)
        return Step(kind, "", problem=f"contact not sendable: {why}"[:500])
    role = "partner" if kind == "partner_referral" else "police"
    return Step(kind, good[0], fallbacks=tuple((role, a) for a in good[1:]))
