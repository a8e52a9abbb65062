"""Abuse contacts a mail server cannot take (issue 14, item 7), through the simulated
internet's real RDAP and SMTP servers: split and normalised, the next contact tried when
one is refused for good, and a case that needs a person when nothing can be sent."""

import pytest
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from openhotline.audit.models import AuditEvent
from openhotline.simnet.runner import Simnet
from openhotline.takedown.models import Action
from openhotline.tracing.models import RoutingRule, Trace
from tests.conftest import verified_client
from tests.takedown.test_recheck_outcomes import make_due
from tests.takedown.test_takedown_flow import FAST, decided_criminal
from tests.tasks import run_due_tasks

pytestmark = [pytest.mark.django_db(transaction=True)]


def routed(net: Simnet, analyst, host: str):
    case = decided_criminal(net, analyst, host, "/album/1")
    run_due_tasks("act_on_task")
    return case, Action.objects.get(case=case, kind="notice")


@override_settings(**FAST)
def test_two_addresses_in_one_rdap_contact_are_split_and_the_notice_goes(
    on_trouble_net: Simnet, analyst
) -> None:
    """GIVEN RDAP gives "abuse@…, noc@…" as one contact WHEN the case is routed THEN the
    notice goes to the first address, the second kept as a fallback (before: the whole
    string was the recipient, the mailer refused it four times and the notice failed)."""
    case, notice = routed(on_trouble_net, analyst, "messy-gb.test")
    trace = Trace.objects.get(case=case)
    assert trace.network_abuse == ["abuse@messy-hosting.test, noc@messy-hosting.test"]
    assert notice.recipient == "abuse@messy-hosting.test"
    assert notice.fallbacks[0] == ["network", "noc@messy-hosting.test"]
    assert notice.fallbacks[1] == ["registrar", "abuse@names-uk.test"]
    run_due_tasks("send_task", rounds=1)
    on_trouble_net.mail.wait_for(lambda m: "abuse@messy-hosting.test" in m.rcpt_tos)
    notice.refresh_from_db()
    assert notice.state == "sent" and notice.attempts == 1


@override_settings(**FAST)
def test_a_non_ascii_abuse_address_falls_back_to_the_registrar(
    on_trouble_net: Simnet, analyst
) -> None:
    """GIVEN the network's abuse contact has a non-ASCII local part (unsendable without
    SMTPUTF8) WHEN routed THEN the notice goes to the registrar's abuse desk and says why."""
    case, notice = routed(on_trouble_net, analyst, "umlaut-gb.test")
    assert notice.recipient == "abuse@names-uk.test" and notice.state == "pending"
    assert "müll@umlaut-hosting.test" in notice.problem and "not ASCII" in notice.problem
    run_due_tasks("send_task", rounds=1)
    on_trouble_net.mail.wait_for(lambda m: "abuse@names-uk.test" in m.rcpt_tos)
    notice.refresh_from_db()
    assert notice.state == "sent"
    case.refresh_from_db()
    assert case.needs_person == ""


@override_settings(**FAST)
def test_a_mailbox_the_server_refuses_moves_to_the_next_contact_at_once(
    on_trouble_net: Simnet, analyst
) -> None:
    """GIVEN the network's abuse mailbox answers 550 to RCPT TO WHEN the notice is sent
    THEN it goes to the registrar straight away, not after four retries over an hour."""
    _case, notice = routed(on_trouble_net, analyst, "bounce-gb.test")
    assert notice.recipient == "bounce@bouncing-hosting.test"
    results = run_due_tasks("send_task", rounds=2)
    assert any("refused the recipient (550" in r for r in results), results
    on_trouble_net.mail.wait_for(lambda m: "abuse@names-uk.test" in m.rcpt_tos)
    notice.refresh_from_db()
    assert notice.state == "sent" and notice.recipient == "abuse@names-uk.test"
    assert "bounce@bouncing-hosting.test" in notice.problem
    assert AuditEvent.objects.filter(action="takedown.recipient_refused").count() == 1
    # No retry is left waiting for the refused address.
    waiting = DBTaskResult.objects.filter(task_path__endswith="send_task", status="READY")
    assert not [t for t in waiting if t.args_kwargs["args"][0] == notice.pk]


@override_settings(**{**FAST, "POLICE_CONTACT": ""})
def test_nothing_sendable_fails_the_notice_and_the_case_needs_a_person(
    on_trouble_net: Simnet, analyst, manager
) -> None:
    """GIVEN every contact bounces (network, registrar, police) WHEN the notice is sent
    THEN it fails with the reasons, the case shows it needs a person (case page, inbox,
    audit log), and the chase-up still escalates once a contact is there."""
    RoutingRule.objects.create(country="GB", route="home", police_contact="bounce@police.test")
    case, notice = routed(on_trouble_net, analyst, "nowhere-gb.test")
    assert [f[0] for f in notice.fallbacks] == ["registrar", "police"]
    run_due_tasks("send_task", rounds=6)
    notice.refresh_from_db()
    assert notice.state == "failed" and notice.problem.startswith("no contact could be sent")
    for refused in ("bounce@bouncing-hosting.test", "bounce@bounce-names.test",
                    "bounce@police.test"):  # fmt: skip
        assert refused in notice.problem
    case.refresh_from_db()
    assert case.needs_person  # the police notification failed too; the first reason shows
    flagged = AuditEvent.objects.filter(action="case.needs_person", object_id=str(case.pk))
    assert any(notice.reference in event.data["why"] for event in flagged)
    staff = verified_client(manager)
    assert "Needs a person" in staff.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "needs a person" in staff.get("/staff/").content.decode()
    # A manager names an upstream contact; the chase-up escalates to it.
    RoutingRule.objects.filter(country="GB").update(escalate_to="upstream@transit.test")
    make_due("chase_task")
    assert "escalated to upstream@transit.test" in run_due_tasks("chase_task")[0]
    run_due_tasks("send_task", rounds=1)
    on_trouble_net.mail.wait_for(lambda m: "upstream@transit.test" in m.rcpt_tos)
    # The manager marks it seen to.
    assert staff.post(f"/staff/actions/cases/{case.pk}/needs-person-cleared/").status_code == 302
    case.refresh_from_db()
    assert case.needs_person == ""
