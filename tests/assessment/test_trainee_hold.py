"""Decisions that wait for QA, end to end on the simulated internet: an analyst in
training decides "criminal" and nothing leaves (no notice, no referral, no URL List entry,
no word to the reporter) until a QA reviewer agrees; if QA disagrees and a manager finds
the case not criminal, nothing is ever sent. A routing rule can make every sampled
decision for its country wait the same way."""

import re

import pytest
from django.test import Client, override_settings

from openhotline.assessment.models import AssessorProfile, Decision, Review
from openhotline.audit.models import AuditEvent
from openhotline.cases.models import CaseState
from openhotline.feeds import services as feeds
from openhotline.simnet.runner import Simnet
from openhotline.takedown import services as takedown
from openhotline.takedown.models import Action
from openhotline.tracing.models import RoutingRule
from tests.assessment.test_case_screen import GRADE_A, HTMX
from tests.conftest import verified_client
from tests.takedown.test_takedown_flow import FAST, decided_criminal
from tests.tasks import run_due_tasks

pytestmark = [pytest.mark.django_db(transaction=True)]

SIMNET_HOST = "photos-gb.test"  # a home-country host: notice to the host, police told
REPORTER = "reporter@example.org"


def listed_urls() -> list[str]:
    _at, items = feeds.snapshot("url-list")
    return [item.key for item in items]


def url_list_changes() -> list[tuple[str, str]]:
    changes, _cursor, _more = feeds.delta("url-list", "0")
    return [(c.op, c.key) for c in changes]


def reported_with_contact(net: Simnet, host: str, path: str) -> None:
    """A report by someone who wants to hear the outcome (before the one decided_criminal
    makes; both join one case)."""
    response = Client().post("/report/", {"urls": net.url(host, path), "contact": REPORTER})
    assert response.status_code == 302


def qa_grades(client: Client, review: Review, data: dict) -> None:
    case_id = review.decision.case_id
    page = client.get(f"/staff/qa/{review.pk}/").content.decode()
    for lead in re.findall(r'data-lead="(\d+)"', page):
        base = f"/staff/qa/{review.pk}/cases/{case_id}/media/{lead}"
        assert client.post(f"{base}/reveal/", headers=HTMX).status_code == 200
        assert client.post(f"{base}/grade/", data, headers=HTMX).status_code == 200


def trainee(user) -> None:
    AssessorProfile.objects.update_or_create(user=user, defaults={"in_training": True})


@override_settings(**FAST)
def test_a_trainees_criminal_decision_sends_nothing_until_qa_agrees(
    on_simnet: Simnet, analyst, qa_reviewer, manager
) -> None:
    # GIVEN an analyst in training
    trainee(analyst)
    # WHEN they decide a reported page criminal
    reported_with_contact(on_simnet, SIMNET_HOST, "/gallery/beach")
    case = decided_criminal(on_simnet, analyst, SIMNET_HOST, "/gallery/beach")
    # THEN nothing follows: no action, no listing, no word to the reporter
    assert run_due_tasks("act_on_task") == []
    assert run_due_tasks("tell_reporters") == []
    assert not Action.objects.filter(case=case).exists()
    assert listed_urls() == [] and url_list_changes() == []
    assert on_simnet.mail.to(REPORTER) == []
    decision = Decision.objects.get(case=case)
    assert decision.held_for_qa and decision.qa == "training"
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_ACTION
    last = case.transitions.last()
    assert last is not None and "held until QA agrees" in last.reason
    # A stray act_on (a retried task, a person) changes nothing either.
    assert "held until QA agrees" in takedown.act_on(case.pk)
    assert not Action.objects.filter(case=case).exists()
    # A manager who opens the record (giving up reviewing it: they could have) sees why.
    boss = verified_client(manager)
    review = decision.review
    opened = boss.post(f"/staff/qa/{review.pk}/recuse/")
    assert opened.status_code == 302 and opened["Location"] == f"/staff/cases/{case.pk}/"
    assert "Actions held until QA agrees" in boss.get(opened["Location"]).content.decode()

    # WHEN a QA reviewer grades blind and agrees
    client = verified_client(qa_reviewer)
    assert client.post(f"/staff/qa/{review.pk}/start/").status_code == 302
    qa_grades(client, review, GRADE_A)
    assert client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "yes"}).status_code == 302
    review.refresh_from_db()
    assert review.state == "agreed"
    # THEN the work goes out: traced, routed, noticed, listed, the reporter told
    assert run_due_tasks("act_on_task") == [f"case {case.pk}: home, 2 action(s)"]
    assert listed_urls() == [case.url]
    run_due_tasks("send_task", rounds=1)
    facts = on_simnet.facts(SIMNET_HOST)
    notice = on_simnet.mail.wait_for(lambda m: facts.abuse_email in m.rcpt_tos)
    sent = Action.objects.get(case=case, kind="notice")
    assert sent.state == "sent" and sent.reference in notice.subject
    run_due_tasks("tell_reporters")
    assert len(on_simnet.mail.to(REPORTER)) == 1
    decision.refresh_from_db()
    assert not decision.held_for_qa and decision.released_at is not None
    assert AuditEvent.objects.filter(action="assessment.actions_released").count() == 1


@override_settings(**FAST)
def test_when_qa_disagrees_and_a_manager_finds_nothing_criminal_nothing_is_ever_sent(
    on_simnet: Simnet, analyst, qa_reviewer, manager
) -> None:
    trainee(analyst)
    case = decided_criminal(on_simnet, analyst, SIMNET_HOST, "/gallery/beach")
    review = Decision.objects.get(case=case).review
    client = verified_client(qa_reviewer)
    client.post(f"/staff/qa/{review.pk}/start/")
    qa_grades(client, review, {"grade": "innocent"})
    client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "no"})
    review.refresh_from_db()
    assert review.state == "disputed"
    # Disputed: still held.
    assert run_due_tasks("act_on_task") == []
    assert not Action.objects.exists()
    media = [d["media"] for d in review.differences if "media" in d]
    resolved = verified_client(manager).post(
        f"/staff/qa/{review.pk}/resolve/",
        {
            **{f"media-{m}": "qa" for m in media},
            "final_criminal": "no",
            "closure_reason": "not_csam",
        },
    )
    assert resolved.status_code == 302, resolved.content
    run_due_tasks()
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert not Action.objects.exists()
    assert url_list_changes() == []  # never listed, so never withdrawn either
    assert not [m for m in on_simnet.mail.messages() if "photos-gb" in str(m.rcpt_tos)]


@override_settings(**{**FAST, "QA_SHARE_PERCENT": 100})
def test_a_routing_rule_holds_every_sampled_decision_for_its_country(
    on_simnet: Simnet, analyst, qa_reviewer
) -> None:
    # GIVEN a rule for GB that holds sampled decisions, and an analyst NOT in training
    RoutingRule.objects.create(country="GB", route="home", hold_for_qa=True)
    case = decided_criminal(on_simnet, analyst, SIMNET_HOST, "/gallery/beach")
    decision = Decision.objects.get(case=case)
    assert decision.qa == "sampled" and not decision.held_for_qa
    # WHEN act_on runs, it traces, finds the rule, and holds
    (result,) = run_due_tasks("act_on_task")
    assert "held until QA agrees (routing rule for GB)" in result
    decision.refresh_from_db()
    assert decision.held_for_qa and decision.hold_reason == "routing rule for GB"
    assert not Action.objects.exists() and listed_urls() == []
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_ACTION
    # THEN QA agreeing releases it
    client = verified_client(qa_reviewer)
    client.post(f"/staff/qa/{decision.review.pk}/start/")
    qa_grades(client, decision.review, GRADE_A)
    client.post(f"/staff/qa/{decision.review.pk}/submit/", {"criminal": "yes"})
    assert run_due_tasks("act_on_task") == [f"case {case.pk}: home, 2 action(s)"]
    assert listed_urls() == [case.url]


@override_settings(**{**FAST, "QA_SHARE_PERCENT": 100})
def test_without_a_holding_rule_a_sampled_decision_still_acts_at_once(
    on_simnet: Simnet, analyst
) -> None:
    # Speed matters for removal: QA follows an ordinary sampled decision.
    case = decided_criminal(on_simnet, analyst, SIMNET_HOST, "/gallery/beach")
    assert Decision.objects.get(case=case).review.state == "pending"
    assert run_due_tasks("act_on_task") == [f"case {case.pk}: home, 2 action(s)"]
    assert listed_urls() == [case.url]


def test_a_manager_sets_the_hold_on_the_routing_page(manager) -> None:
    rule = RoutingRule.objects.create(country="NL", route="partner")
    boss = verified_client(manager)
    page = boss.get("/staff/routing/").content.decode()
    assert "Hold actions until QA agrees" in page
    response = boss.post(
        f"/staff/routing/rules/{rule.pk}/",
        {
            f"rule-{rule.pk}-{name}": value
            for name, value in {
                "country": "NL",
                "route": "partner",
                "clearance_timeout_hours": "24",
                "chase_after_hours": "24",
                "chases_before_escalation": "2",
                "hold_for_qa": "on",
            }.items()
        },
    )
    assert response.status_code == 302, response.content
    rule.refresh_from_db()
    assert rule.hold_for_qa
    saved = AuditEvent.objects.filter(action="tracing.rule_saved").last()
    assert saved is not None and saved.data["hold_for_qa"] is True
