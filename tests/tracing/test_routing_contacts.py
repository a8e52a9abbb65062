"""Abuse contacts made sendable before they reach a notice (issue 14, item 7): split,
normalised, refused with a reason, and tried in order network → registrar → upstream →
police."""

import pytest
from django.test import override_settings

from openhotline.tracing.contacts import normalise
from openhotline.tracing.models import RoutingRule, Trace
from openhotline.tracing.routing import escalation_step, notice_step, plan_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "sendable"),
    [
        ("abuse@a.test, noc@a.test", ["abuse@a.test", "noc@a.test"]),
        ("abuse@a.test; noc@a.test", ["abuse@a.test", "noc@a.test"]),
        ("abuse@a.test noc@a.test", ["abuse@a.test", "noc@a.test"]),
        ("Abuse Desk <abuse@a.test>", ["abuse@a.test"]),
        ("mailto:Abuse@A.TEST", ["Abuse@a.test"]),
        ("abuse@hôst.test", ["abuse@xn--hst-kna.test"]),
    ],
)
def test_contacts_are_split_and_normalised(given: str, sendable: list[str]) -> None:
    assert normalise(given) == (sendable, [])


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("müll@host.test", "not ASCII"),
        ("abuse@host.test\r\nBcc: x@y.test", "control characters"),
        ("not an address", "not an e-mail address"),
        ("abuse@localhost", "no dot"),
        ('"a b"@host.test', "plain address"),
    ],
)
def test_unsendable_contacts_are_refused_with_a_reason(given: str, why: str) -> None:
    good, bad = normalise(given)
    assert good == [] and why in bad[0][1]


@override_settings(HOME_COUNTRY="GB", POLICE_CONTACT="cyber@police.test")
def test_a_notice_falls_back_network_registrar_upstream_police() -> None:
    RoutingRule.objects.create(country="GB", route="home", escalate_to="noc@transit.test")
    trace = Trace(
        host="x.test", country="GB", network_abuse=["müll@net.test, abuse@net.test"],
        registrar_abuse=["abuse@registrar.test"],
    )  # fmt: skip
    step = notice_step(trace)
    assert step.recipient == "abuse@net.test"
    assert step.fallbacks == (
        ("registrar", "abuse@registrar.test"),
        ("upstream", "noc@transit.test"),
        ("police", "cyber@police.test"),
    )
    assert "müll@net.test" in step.problem and "not ASCII" in step.problem
    # Nothing from RDAP is sendable: the upstream contact gets it, and the problem says so.
    trace.network_abuse, trace.registrar_abuse = ["müll@net.test"], []
    step = notice_step(trace)
    assert step.recipient == "noc@transit.test" and "upstream contact instead" in step.problem
    assert plan_for("x.test", trace).steps[0].recipient == "noc@transit.test"


@override_settings(HOME_COUNTRY="GB", POLICE_CONTACT="")
def test_with_no_contact_at_all_the_notice_names_the_problem() -> None:
    step = notice_step(Trace(host="x.test", country="GB", network_abuse=["müll@net.test"]))
    assert step.recipient == "" and step.fallbacks == () and "not ASCII" in step.problem


@override_settings(POLICE_CONTACT="cyber@police.test")
def test_an_escalation_goes_upstream_then_police() -> None:
    rule = RoutingRule(country="US", route="police", escalate_to="up@transit.test")
    step = escalation_step(rule)
    assert (step.recipient, step.fallbacks) == (
        "up@transit.test",
        (("police", "cyber@police.test"),),
    )
    assert escalation_step(RoutingRule(country="US", route="police")).recipient == (
        "cyber@police.test"
    )
