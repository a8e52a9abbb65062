"""Routing rules as data: home country, partner hotline, police, onion."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from openhotline.tracing.models import PartnerHotline, RoutingRule, Trace
from openhotline.tracing.routing import plan_for

pytestmark = pytest.mark.django_db


def trace(country: str, abuse: str = "abuse@host.test") -> Trace:
    return Trace(host="x.test", country=country, network_abuse=[abuse] if abuse else [])


@override_settings(HOME_COUNTRY="GB", POLICE_CONTACT="cyber@police.test")
def test_home_country_content_gets_a_notice_and_the_police_are_told() -> None:
    plan = plan_for("x.test", trace("GB"))
    assert plan.route == "home"
    assert [(s.kind, s.recipient) for s in plan.steps] == [
        ("notice", "abuse@host.test"),
        ("police_notice", "cyber@police.test"),
    ]
    assert plan.steps[0].not_before is None


@override_settings(HOME_COUNTRY="GB")
def test_a_home_rule_can_wait_for_police_clearance() -> None:
    RoutingRule.objects.create(
        country="GB", route="home", await_police_clearance=True, clearance_timeout_hours=6,
        police_contact="ceop@police.test",
    )  # fmt: skip
    now = timezone.now()
    plan = plan_for("x.test", trace("GB"), now)
    notice = plan.steps[0]
    assert notice.kind == "notice" and notice.not_before == now + timedelta(hours=6)
    assert plan.steps[1].recipient == "ceop@police.test"


def test_a_partner_country_becomes_a_referral_and_only_with_an_agreed_address() -> None:
    # The shipped directory has Offlimits for NL, with no referral address yet.
    assert PartnerHotline.objects.get(country="NL").name == "Offlimits"
    assert plan_for("x.test", trace("NL")).route == "police"
    PartnerHotline.objects.filter(country="NL").update(email="referrals@offlimits.test")
    plan = plan_for("x.test", trace("NL"))
    assert plan.route == "partner"
    assert [(s.kind, s.recipient) for s in plan.steps] == [
        ("partner_referral", "referrals@offlimits.test")
    ]
    RoutingRule.objects.create(country="NL", route="partner", also_notice_host=True)
    assert [s.kind for s in plan_for("x.test", trace("NL")).steps] == [
        "partner_referral",
        "notice",
    ]


@override_settings(POLICE_CONTACT="")
def test_no_hotline_goes_to_the_police_contact_of_the_rule_for_other_countries() -> None:
    RoutingRule.objects.create(country="", route="police", police_contact="nccu@interpol.test")
    plan = plan_for("x.test", trace("SC"))
    assert plan.route == "police"
    assert [(s.kind, s.recipient) for s in plan.steps] == [
        ("police_referral", "nccu@interpol.test")
    ]


@override_settings(POLICE_CONTACT="")
def test_missing_contacts_are_named_not_guessed() -> None:
    plan = plan_for("x.test", trace("GB", abuse=""))
    assert plan.steps[0].recipient == "" and "no abuse contact" in plan.steps[0].problem
    assert plan.steps[1].problem == "no police contact configured"


@override_settings(POLICE_CONTACT="cyber@police.test")
def test_an_onion_host_becomes_an_intelligence_package_never_a_notice() -> None:
    plan = plan_for("abc.onion", trace("", abuse="abuse@nowhere.test"))
    assert plan.route == "onion"
    assert [(s.kind, s.recipient) for s in plan.steps] == [("intelligence", "cyber@police.test")]
