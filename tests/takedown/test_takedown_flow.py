"""End to end on the simulated internet, through its real DNS, RDAP and SMTP servers:
report → capture → an analyst decides "criminal" → trace → notice or referral in the
mail server's inbox → the host acts (or not) → rechecks → removal, chase-ups, escalation."""

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client, override_settings

from openhotline.assessment import queue
from openhotline.cases.models import Case, CaseState
from openhotline.evidence.capture import run_capture
from openhotline.simnet.runner import Simnet
from openhotline.takedown import xarf
from openhotline.takedown.models import Action, Recheck, Removal
from openhotline.tracing.models import PartnerHotline, RoutingRule, Trace
from tests.assessment.test_case_screen import GRADE_A, HTMX, lead_ids
from tests.conftest import verified_client
from tests.tasks import run_due_tasks

pytestmark = [pytest.mark.django_db(transaction=True)]

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "xarf" / "schemas" / "v4"
FAST = {
    "QA_SHARE_PERCENT": 0,
    "POLICE_CONTACT": "cyber@police.test",
    "RECHECK_DELAYS": [0, 0, 0],
    "RECHECK_CONFIRM_SECONDS": 0,
}


def decided_criminal(net: Simnet, analyst, host: str, path: str) -> Case:
    """A report of a simnet page, captured, then graded and decided criminal by an
    analyst through the case screen (the labels are put on benign pictures)."""
    url = net.url(host, path)
    Client().post("/report/", {"urls": url})
    case = Case.objects.get(url=url)
    run_capture(case.captures.get().pk)
    case.refresh_from_db()
    assert case.state == CaseState.CAPTURED, case.captures.get().problem
    client = verified_client(analyst)
    queue.claim_case(case, analyst)
    for lead in lead_ids(client, case.pk):
        base = f"/staff/assess/cases/{case.pk}/media/{lead}"
        assert client.post(f"{base}/reveal/", headers=HTMX).status_code == 200
        assert client.post(f"{base}/grade/", GRADE_A, headers=HTMX).status_code == 200
    decided = client.post(
        f"/staff/assess/cases/{case.pk}/decide/",
        {"criminal": "yes", "mapping": "uk", "site_type": "image_host"},
    )
    assert decided.status_code == 302, decided.content
    return case


def until(condition: Callable[[], bool], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the simulated host did not act in time")
        time.sleep(0.1)


def xarf_of(message) -> dict:
    for part in message.message.walk():
        if part.get_content_type() == "application/json":
            return json.loads(part.get_payload(decode=True))
    raise AssertionError("no X-ARF part")


@override_settings(**FAST)
def test_a_home_country_host_gets_a_notice_removes_and_removal_is_confirmed(
    on_simnet: Simnet, analyst
) -> None:
    from openhotline.feeds import services as feeds

    case = decided_criminal(on_simnet, analyst, "photos-gb.test", "/gallery/beach")
    # The URL List carries the URL from the decision until removal is confirmed.
    _at, listed = feeds.snapshot("url-list")
    assert [(i.key, i.data["category"]) for i in listed] == [(case.url, "A")]
    facts = on_simnet.facts("photos-gb.test")
    assert run_due_tasks("act_on_task") == [f"case {case.pk}: home, 2 action(s)"]
    trace = Trace.objects.get(case=case)
    assert (trace.country, trace.network_abuse) == ("GB", [facts.abuse_email])
    assert trace.asn == facts.asn and trace.network == facts.network
    run_due_tasks("send_task", rounds=1)
    notice = on_simnet.mail.wait_for(lambda m: facts.abuse_email in m.rcpt_tos)
    sent = Action.objects.get(case=case, kind="notice")
    assert sent.state == "sent" and sent.reference in notice.subject
    report = xarf_of(notice)
    assert xarf.validate(report, schema_dir=SCHEMAS) == []
    assert report["category"] == "content" and report["type"] == "csam"
    assert report["url"] == case.url and "evidence" not in report
    assert on_simnet.mail.to("cyber@police.test")
    # The host takes the page down about a second after the notice.
    until(lambda: Client().get("/") is not None and _gone(on_simnet, case.url or ""))
    run_due_tasks("recheck_task", rounds=1)
    assert Recheck.objects.filter(case=case).count() == 1
    run_due_tasks("recheck_task", rounds=1)
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED
    removal = Removal.objects.get(case=case)
    assert removal.seconds_to_removal is not None and removal.seconds_to_removal > 0
    _at, listed = feeds.snapshot("url-list")
    assert list(listed) == []
    changes, _cursor, _more = feeds.delta("url-list", "0")
    assert [(c.op, c.key) for c in changes] == [("add", case.url), ("remove", case.url)]


def _gone(net: Simnet, url: str) -> bool:
    import httpx

    host = url.split("/")[2]
    address = net.address_of(host.split(":")[0])
    path = "/" + url.split("/", 3)[3]
    port = url.split("/")[2].split(":")[1] if ":" in url.split("/")[2] else "80"
    response = httpx.get(f"http://{address}:{port}{path}", headers={"Host": host}, timeout=2)
    return response.status_code == 404


@override_settings(**FAST)
def test_a_host_that_ignores_notices_is_chased_then_escalated(on_simnet: Simnet, analyst) -> None:
    RoutingRule.objects.create(
        country="US", route="police", also_notice_host=True, chase_after_hours=0,
        chases_before_escalation=2, escalate_to="upstream@transit.test",
        police_contact="fbi@police.test",
    )  # fmt: skip
    case = decided_criminal(on_simnet, analyst, "stubborn-us.test", "/pics/1")
    run_due_tasks("act_on_task")
    run_due_tasks("send_task", rounds=1)
    abuse = on_simnet.facts("stubborn-us.test").abuse_email
    on_simnet.mail.wait_for(lambda m: abuse in m.rcpt_tos)
    assert on_simnet.mail.to("fbi@police.test")
    for _ in range(3):
        run_due_tasks("chase_task", rounds=1)
        run_due_tasks("send_task", rounds=1)
    kinds = list(Action.objects.filter(case=case).values_list("kind", "state"))
    assert kinds.count(("chase", "sent")) == 2 and ("escalation", "sent") in kinds
    assert len(on_simnet.mail.to(abuse)) == 3  # the notice and two chase-ups
    escalation = on_simnet.mail.to("upstream@transit.test")
    assert len(escalation) == 1 and "still available" in escalation[0].text()
    run_due_tasks("recheck_task", rounds=1)
    case.refresh_from_db()
    assert case.state == CaseState.ACTIONED  # still there: never marked removed
    # The recheck traced again; same network, so the contacts were carried over, not
    # asked of RDAP again.
    traces = list(Trace.objects.filter(case=case, host="stubborn-us.test"))
    assert len(traces) == 2 and traces[0].network_abuse == traces[1].network_abuse == [abuse]
    assert not traces[0].moved


@override_settings(**FAST)
def test_a_partner_country_case_becomes_a_referral(on_simnet: Simnet, analyst) -> None:
    PartnerHotline.objects.update_or_create(
        country="NL", defaults={"name": "Offlimits", "email": "referrals@offlimits.test"}
    )
    case = decided_criminal(on_simnet, analyst, "forum-nl.test", "/thread/101")
    assert "partner" in run_due_tasks("act_on_task")[0]
    run_due_tasks("send_task", rounds=1)
    referral = on_simnet.mail.wait_for(lambda m: "referrals@offlimits.test" in m.rcpt_tos)
    assert "Referral to a partner hotline" in referral.subject
    assert xarf.validate(xarf_of(referral), schema_dir=SCHEMAS) == []
    # The thread hotlinks its pictures from an image host in GB: that host is traced and
    # noticed too.
    kinds = dict(Action.objects.filter(case=case).values_list("kind", "recipient"))
    image_host = on_simnet.facts("imagehost.test").abuse_email
    assert kinds == {"partner_referral": "referrals@offlimits.test", "notice": image_host}
    assert Trace.objects.filter(case=case, host="imagehost.test", country="GB").exists()
    on_simnet.mail.wait_for(lambda m: image_host in m.rcpt_tos)


@override_settings(**FAST)
def test_a_moving_host_is_traced_again_and_the_new_host_noticed(on_simnet: Simnet, analyst) -> None:
    RoutingRule.objects.create(country="NL", route="home", police_contact="nl@police.test")
    case = decided_criminal(on_simnet, analyst, "hopper-nl.test", "/photos/a")
    run_due_tasks("act_on_task")
    run_due_tasks("send_task", rounds=1)
    first = on_simnet.facts("hopper-nl.test")
    on_simnet.mail.wait_for(lambda m: first.abuse_email in m.rcpt_tos)
    until(lambda: on_simnet.address_of("hopper-nl.test") != first.address)
    run_due_tasks("recheck_task", rounds=1)
    moved = Trace.objects.filter(case=case).order_by("-at", "-id").first()
    assert moved is not None and moved.moved and moved.country == "SC"
    run_due_tasks("send_task", rounds=1)
    new_abuse = moved.network_abuse[0]
    assert new_abuse != first.abuse_email
    on_simnet.mail.wait_for(lambda m: new_abuse in m.rcpt_tos)
    # SC has no hotline: the move also brings the police referral its rules ask for.
    assert Action.objects.filter(case=case, kind="police_referral").exists()


@override_settings(**FAST)
def test_a_host_behind_a_cdn_gets_the_notice_through_the_cdn(on_simnet: Simnet, analyst) -> None:
    RoutingRule.objects.create(country="US", route="home", police_contact="us@police.test")
    case = decided_criminal(on_simnet, analyst, "shielded-ru.test", "/media/1")
    run_due_tasks("act_on_task")
    trace = Trace.objects.get(case=case)
    assert trace.cdn == "SimCDN" and trace.network_abuse == ["abuse@simcdn.test"]
    run_due_tasks("send_task", rounds=1)
    notice = on_simnet.mail.wait_for(lambda m: "abuse@simcdn.test" in m.rcpt_tos)
    assert "reveal" in notice.text() or "origin" in notice.text()


# The first recheck is an hour away, so the link's recheck is one it brought forward.
@override_settings(**{**FAST, "RECHECK_DELAYS": [3600]})
def test_the_hosts_removed_link_asks_for_a_recheck_and_never_marks_removal(
    on_simnet: Simnet, analyst
) -> None:
    RoutingRule.objects.create(country="US", route="home", police_contact="us@police.test")
    case = decided_criminal(on_simnet, analyst, "stubborn-us.test", "/pics/1")
    run_due_tasks("act_on_task")
    run_due_tasks("send_task", rounds=1)
    abuse = on_simnet.facts("stubborn-us.test").abuse_email
    text = on_simnet.mail.wait_for(lambda m: abuse in m.rcpt_tos).text()
    link = next(w for w in text.split() if "/removed/" in w)
    path = "/" + link.split("/", 3)[3]
    visitor = Client()
    assert visitor.get(path).status_code == 200  # a link scanner's GET changes nothing
    assert not Recheck.objects.exists()
    assert visitor.get(path[:-3] + "xyz/").status_code == 404  # wrong secret
    assert visitor.post(path).status_code == 200
    assert visitor.post(path).status_code == 200  # a second click adds no second recheck
    run_due_tasks("recheck_task", rounds=1)
    check = Recheck.objects.get(case=case, reason="host link")
    assert check.result == "live"
    case.refresh_from_db()
    assert case.state == CaseState.ACTIONED  # the host's word alone never closes it


@override_settings(**FAST)
def test_an_onion_case_becomes_a_signed_intelligence_package_without_media(analyst) -> None:
    import io
    import zipfile

    from django.core import mail

    from openhotline.takedown import package
    from tests.assessment.factory import make_case, picture

    case = make_case([picture(60)], url="http://exampleonionaddressxyz.onion/board")
    client = verified_client(analyst)
    queue.claim_case(case, analyst)
    for lead in lead_ids(client, case.pk):
        client.post(f"/staff/assess/cases/{case.pk}/media/{lead}/reveal/", headers=HTMX)
        client.post(f"/staff/assess/cases/{case.pk}/media/{lead}/grade/", GRADE_A, headers=HTMX)
    client.post(
        f"/staff/assess/cases/{case.pk}/decide/",
        {"criminal": "yes", "mapping": "uk", "site_type": "forum", "tor": "1"},
    )
    assert run_due_tasks("act_on_task") == [f"case {case.pk}: onion, 1 action(s)"]
    run_due_tasks("send_task", rounds=1)
    (message,) = mail.outbox
    assert message.to == ["cyber@police.test"] and "intelligence" in message.subject.lower()
    (_name, data, mime) = message.attachments[0]
    assert mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [
            "package.json", "package.json.sig", "public_key.pem",
        ]  # fmt: skip
    contents = package.verify(data, package.public_key_pem())
    assert contents["case"]["url"] == case.url
    assert contents["media"][0]["uk_category"] == "A" and contents["media"][0]["hashes"]["sha256"]
    assert package.fingerprint() in message.body
    # A changed package no longer verifies.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original, zipfile.ZipFile(out, "w") as copy:
        for entry in original.namelist():
            body = original.read(entry)
            if entry == "package.json":
                body = body.replace(b"exampleonion", b"exampleoniom")
            copy.writestr(entry, body)
    with pytest.raises(ValueError, match="does not verify"):
        package.verify(out.getvalue(), package.public_key_pem())
    assert not Action.objects.filter(case=case, kind="notice").exists()
    assert not any(a[2].startswith("image/") for a in message.attachments)


@override_settings(**FAST)
def test_a_worker_that_dies_mid_send_sends_exactly_one_notice_after_restart(
    on_simnet: Simnet, analyst
) -> None:
    """GIVEN a notice being sent WHEN the worker dies inside the SMTP conversation
    (before the server accepted the message) THEN the watchdog sends it again, once."""
    from unittest import mock

    from openhotline.takedown import notices
    from openhotline.takedown.tasks import send_watchdog_task

    class WorkerKilled(BaseException):
        pass

    case = decided_criminal(on_simnet, analyst, "photos-gb.test", "/gallery/park")
    run_due_tasks("act_on_task")
    notice = Action.objects.get(case=case, kind="notice")
    abuse = on_simnet.facts("photos-gb.test").abuse_email
    dies = mock.patch.object(notices.xarf.XarfEmailMessage, "send", side_effect=WorkerKilled)
    with dies, pytest.raises(WorkerKilled):
        notices.send(notice.pk)
    notice.refresh_from_db()
    assert notice.state == "sending" and on_simnet.mail.to(abuse) == []
    # The restarted worker runs the watchdog, which queues the send again.
    assert "sending again" in send_watchdog_task.call(notice.pk)
    run_due_tasks("send_task", rounds=1)
    on_simnet.mail.wait_for(lambda m: abuse in m.rcpt_tos)
    assert send_watchdog_task.call(notice.pk) == "nothing to do"
    run_due_tasks("send_task", rounds=2)
    time.sleep(0.5)
    assert len(on_simnet.mail.to(abuse)) == 1
    notice.refresh_from_db()
    assert notice.state == "sent" and notice.attempts == 2


@override_settings(**FAST)
def test_a_notice_waiting_for_police_clearance_goes_at_the_timeout(
    on_simnet: Simnet, analyst
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    RoutingRule.objects.create(
        country="GB", route="home", await_police_clearance=True, clearance_timeout_hours=2,
        police_contact="ceop@police.test",
    )  # fmt: skip
    case = decided_criminal(on_simnet, analyst, "gallery-one.test", "/albums/sunrise")
    run_due_tasks("act_on_task")
    notice = Action.objects.get(case=case, kind="notice")
    assert notice.state == "waiting" and notice.not_before is not None
    run_due_tasks("send_task", rounds=1)  # only the police notification is due
    assert on_simnet.mail.wait_for(lambda m: "ceop@police.test" in m.rcpt_tos)
    notice.refresh_from_db()
    assert notice.state == "waiting"
    # Two hours on, nobody cleared it: the timeout sends it.
    Action.objects.filter(pk=notice.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(task_path__endswith="send_task").update(
        run_after=timezone.now() - timedelta(seconds=1)
    )
    run_due_tasks("send_task", rounds=1)
    notice.refresh_from_db()
    assert notice.state == "sent"
