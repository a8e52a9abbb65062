"""What a recheck may count as removal (issue 14, item 1), on the simulated internet:
only a definite answer counts as gone; a host that is briefly unreachable, rate-limits, or
protects its pictures from hotlinking is inconclusive and never confirms a removal;
confirming rechecks are spaced whatever asked for them; a confirmed removal is checked
again later and reopened if the content is back."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from openhotline.cases.models import CaseState
from openhotline.simnet import behaviours
from openhotline.simnet.runner import Simnet
from openhotline.takedown import services
from openhotline.takedown.models import Action, Recheck, RecheckPlan, Removal
from tests.takedown.test_takedown_flow import FAST, decided_criminal
from tests.tasks import run_due_tasks

pytestmark = [pytest.mark.django_db(transaction=True)]


def noticed(net: Simnet, analyst, host: str, path: str = "/album/1"):
    """A criminal case of a simnet page whose notice went out."""
    case = decided_criminal(net, analyst, host, path)
    run_due_tasks("act_on_task")
    run_due_tasks("send_task", rounds=1)
    net.mail.wait_for(lambda m: net.facts(host).abuse_email in m.rcpt_tos)
    return case


def url_listed(url: str) -> bool:
    from openhotline.feeds import services as feeds

    _at, listed = feeds.snapshot("url-list")
    return url in [item.key for item in listed]


def make_due(task: str = "recheck_task") -> None:
    """Time passes: every queued task of this kind is due now."""
    DBTaskResult.objects.filter(task_path__endswith=task, status="READY").update(
        run_after=timezone.now() - timedelta(seconds=1)
    )


@override_settings(**FAST)
def test_hotlink_protected_pictures_are_fetched_the_way_the_capture_did_and_stay_live(
    on_trouble_net: Simnet, analyst
) -> None:
    """GIVEN a host whose pictures answer 403 to anyone not coming from its pages WHEN
    rechecks fetch them THEN they send the capture's Referer, see the same bytes, and the
    case stays open with its URL listed (before: 403 counted as gone, two such rechecks
    confirmed a removal of content still online)."""
    case = noticed(on_trouble_net, analyst, "hotlink-gb.test")
    for _ in range(3):
        make_due()
        run_due_tasks("recheck_task", rounds=1)
    checks = list(Recheck.objects.filter(case=case))
    assert len(checks) == 3
    assert {(c.result, c.criminal_media_seen) for c in checks} == {("live", 2)}
    case.refresh_from_db()
    assert case.state == CaseState.ACTIONED and not Removal.objects.filter(case=case).exists()
    assert url_listed(case.url or "")


@pytest.mark.parametrize("fault", [403, 429, 503, "slow"])
@override_settings(**FAST)
def test_a_host_that_cannot_be_read_is_inconclusive_never_removed(
    on_trouble_net: Simnet, analyst, settings, fault
) -> None:
    """GIVEN the page answers but its pictures answer 403, 429, 503 or never finish WHEN
    rechecks run, however many THEN each is inconclusive, is retried, and the case is
    never marked removed nor dropped from the URL List."""
    settings.FETCH_TOTAL_TIMEOUT = 1
    case = noticed(on_trouble_net, analyst, "fickle-gb.test")
    behaviours.set_fault("fickle-gb.test", fault)
    for _ in range(3):
        make_due()
        run_due_tasks("recheck_task", rounds=1)
    checks = list(Recheck.objects.filter(case=case))
    assert len(checks) == 3 and {c.result for c in checks} == {"error"}
    assert all(c.criminal_media_seen == 0 for c in checks)
    case.refresh_from_db()
    assert case.state == CaseState.ACTIONED and not Removal.objects.filter(case=case).exists()
    assert url_listed(case.url or "")
    assert RecheckPlan.objects.filter(case=case).exists()  # it is looked at again
    # The host answers again: live, as it always was.
    behaviours.set_fault("fickle-gb.test", None)
    make_due()
    run_due_tasks("recheck_task", rounds=1)
    assert Recheck.objects.filter(case=case).first().result == "live"  # type: ignore[union-attr]


@override_settings(**{**FAST, "RECHECK_DELAYS": [3600], "RECHECK_CONFIRM_SECONDS": 600})
def test_the_hosts_link_cannot_confirm_a_removal_by_posting_twice(
    on_simnet: Simnet, analyst
) -> None:
    """GIVEN the page is gone and the host posts its "removed" link twice, 36 ms apart WHEN
    the rechecks run THEN one recheck runs, the confirmation waits RECHECK_CONFIRM_SECONDS
    (before: each post queued a recheck and the second confirmed the removal)."""
    case = noticed(on_simnet, analyst, "photos-gb.test", "/gallery/beach")
    on_simnet.wait_for_event(lambda e: e.action == "removed" and e.host == "photos-gb.test")
    notice = Action.objects.get(case=case, kind="notice")
    text = on_simnet.mail.to(notice.recipient)[0].text()
    link = next(w for w in text.split() if "/removed/" in w)
    path = "/" + link.split("/", 3)[3]
    host = Client()
    assert host.post(path).status_code == 200
    assert host.post(path).status_code == 200
    run_due_tasks("recheck_task", rounds=3)
    assert list(Recheck.objects.filter(case=case).values_list("result", "reason")) == [
        ("gone", "host link")
    ]
    plan = RecheckPlan.objects.get(case=case)
    first = Recheck.objects.get(case=case)
    assert plan.reason == "confirm" and plan.due_at >= first.at + timedelta(seconds=600)
    # More clicks while the confirmation waits change nothing.
    assert host.post(path).status_code == 200
    run_due_tasks("recheck_task", rounds=3)
    assert Recheck.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.state == CaseState.ACTIONED and url_listed(case.url or "")
    # Ten minutes on, the confirming recheck runs and confirms.
    Recheck.objects.filter(pk=first.pk).update(at=first.at - timedelta(seconds=601))
    make_due()
    run_due_tasks("recheck_task", rounds=1)
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED


@override_settings(**FAST)
def test_two_gone_answers_too_close_together_do_not_confirm(on_simnet: Simnet, analyst) -> None:
    """The spacing holds inside the service too: a recheck queued by anything else (an
    old task, a benchmark) cannot confirm within RECHECK_CONFIRM_SECONDS of the first."""
    case = noticed(on_simnet, analyst, "photos-gb.test", "/gallery/park")
    on_simnet.remove("photos-gb.test")
    with override_settings(RECHECK_CONFIRM_SECONDS=600):
        services.recheck(case.pk, "by hand")
        services.recheck(case.pk, "by hand")
    case.refresh_from_db()
    assert case.state == CaseState.ACTIONED
    assert [c.result for c in Recheck.objects.filter(case=case)] == ["gone", "gone"]


@override_settings(**FAST)
def test_a_removal_is_verified_later_and_reopened_when_the_content_is_back(
    on_simnet: Simnet, analyst, settings
) -> None:
    """GIVEN a confirmed removal WHEN the verification a week later finds the content back
    THEN the removal is marked re-uploaded (counted), the case is actioned again, the URL
    is back on the URL List, the host gets a new notice and rechecks resume."""
    settings.REMOVAL_VERIFY_SECONDS = 7 * 86400
    case = noticed(on_simnet, analyst, "photos-gb.test", "/gallery/beach")
    on_simnet.remove("photos-gb.test")
    run_due_tasks("recheck_task", rounds=3)
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED and not url_listed(case.url or "")
    removal = Removal.objects.get(case=case)
    plan = RecheckPlan.objects.get(case=case)
    assert plan.reason == "verify"
    assert plan.due_at - removal.confirmed_at == timedelta(days=7)
    # A week on, the site has put the pictures back.
    on_simnet.reset()
    make_due()
    assert any("re-uploaded" in r for r in run_due_tasks("recheck_task", rounds=1))
    case.refresh_from_db()
    removal.refresh_from_db()
    assert case.state == CaseState.ACTIONED and removal.reuploaded_at is not None
    assert case.transitions.last().reason.startswith("re-uploaded")
    assert url_listed(case.url or "")
    assert services.removal_statistics() == {"confirmed": 1, "verified": 0, "reuploaded": 1}
    notices = Action.objects.filter(case=case, kind="notice").order_by("created_at")
    assert notices.count() == 2 and notices.last().state == "pending"  # type: ignore[union-attr]
    run_due_tasks("send_task", rounds=1)
    abuse = on_simnet.facts("photos-gb.test").abuse_email
    on_simnet.mail.wait_for(lambda m: abuse in m.rcpt_tos)
    assert RecheckPlan.objects.get(case=case).reason == "schedule"
    # The host removes it again; two rechecks confirm a second removal.
    on_simnet.remove("photos-gb.test")
    run_due_tasks("recheck_task", rounds=3)
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED and Removal.objects.filter(case=case).count() == 2


@override_settings(**FAST)
def test_a_verification_that_finds_it_still_gone_ends_the_rechecks(
    on_simnet: Simnet, analyst
) -> None:
    case = noticed(on_simnet, analyst, "photos-gb.test", "/gallery/park")
    on_simnet.remove("photos-gb.test")
    run_due_tasks("recheck_task", rounds=3)
    make_due()
    assert any("verified" in r for r in run_due_tasks("recheck_task", rounds=1))
    assert Removal.objects.get(case=case).verified_at is not None
    assert not RecheckPlan.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED
