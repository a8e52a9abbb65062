"""The routing page: all staff read it; only managers change rules and partners."""

import pytest

from openhotline.audit.models import AuditEvent
from openhotline.tracing.models import PartnerHotline, RoutingRule
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_rule_and_sets_a_partners_referral_address(manager) -> None:
    client = verified_client(manager)
    assert client.get("/staff/routing/").status_code == 200
    bad = client.post(
        "/staff/routing/rules/", {"new-rule-country": "Netherlands", "new-rule-route": "x"}
    )
    assert bad.status_code == 422 and b"alpha-2" in bad.content
    assert not RoutingRule.objects.exists()
    ok = client.post(
        "/staff/routing/rules/",
        {"new-rule-country": "gb", "new-rule-route": "home",
         "new-rule-await_police_clearance": "on", "new-rule-clearance_timeout_hours": "12",
         "new-rule-police_contact": "ceop@police.test", "new-rule-chase_after_hours": "24",
         "new-rule-chases_before_escalation": "2"},
    )  # fmt: skip
    assert ok.status_code == 302
    rule = RoutingRule.objects.get()
    assert (rule.country, rule.await_police_clearance, rule.clearance_timeout_hours) == (
        "GB", True, 12,
    )  # fmt: skip
    partner = PartnerHotline.objects.get(country="NL")
    response = client.post(
        f"/staff/routing/partners/{partner.pk}/",
        {f"partner-{partner.pk}-country": "NL", f"partner-{partner.pk}-name": partner.name,
         f"partner-{partner.pk}-email": "referrals@offlimits.test",
         f"partner-{partner.pk}-language": "nl", f"partner-{partner.pk}-active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert PartnerHotline.objects.get(country="NL").email == "referrals@offlimits.test"
    assert AuditEvent.objects.filter(action="tracing.rule_saved").count() == 1
    assert AuditEvent.objects.filter(action="tracing.partner_saved").count() == 1


def test_other_staff_read_but_cannot_change(analyst) -> None:
    client = verified_client(analyst)
    page = client.get("/staff/routing/").content.decode()
    assert "Offlimits" in page and "Add rule" not in page
    refused = client.post("/staff/routing/rules/", {"new-rule-country": "GB"})
    assert refused.status_code == 403
    assert not RoutingRule.objects.exists()
    assert AuditEvent.objects.filter(action="tracing.refused").count() == 1
