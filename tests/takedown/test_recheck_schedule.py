"""RECHECK_DELAYS count from the first notice sent, as the README says (issue 14, item 10):
with 20,30 the rechecks come 20 s and 30 s after the notice (before: 21 s and 51 s, each
delay counted from the recheck before)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from openhotline.simnet.runner import Simnet
from openhotline.takedown import schedule
from openhotline.takedown.models import Action
from openhotline.tracing.models import RoutingRule
from tests.takedown.test_recheck_outcomes import make_due
from tests.takedown.test_takedown_flow import FAST, decided_criminal
from tests.tasks import run_due_tasks

T = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


@override_settings(RECHECK_DELAYS=[20, 30], RECHECK_DAILY_SECONDS=100)
def test_each_round_counts_from_the_first_notice_then_daily() -> None:
    assert schedule.next_round(T, 0, at(0)) == (0, at(20))
    assert schedule.next_round(T, 1, at(21)) == (1, at(30))
    assert schedule.next_round(T, 2, at(31)) == (2, at(130))
    assert schedule.next_round(T, 3, at(131)) == (3, at(230))
    # A worker down for a while: the missed rounds become one recheck now, not a burst.
    assert schedule.next_round(T, 1, at(500)) == (5, at(500))
    assert schedule.next_round(T, 6, at(501)) == (6, at(530))


@override_settings(RECHECK_DELAYS=[], RECHECK_DAILY_SECONDS=100)
def test_without_delays_rechecks_are_daily_from_the_notice() -> None:
    assert schedule.next_round(T, 0, at(0)) == (0, at(100))
    assert schedule.next_round(T, 1, at(101)) == (1, at(200))


def queued_rechecks() -> list[datetime]:
    rows = DBTaskResult.objects.filter(task_path__endswith="recheck_task", status="READY")
    return sorted(row.run_after for row in rows if row.run_after is not None)


@pytest.mark.django_db(transaction=True)
@override_settings(**{**FAST, "RECHECK_DELAYS": [20, 30], "RECHECK_CONFIRM_SECONDS": 600})
def test_rechecks_come_at_the_delays_after_the_first_notice(on_simnet: Simnet, analyst) -> None:
    RoutingRule.objects.create(country="US", route="home", police_contact="us@police.test")
    case = decided_criminal(on_simnet, analyst, "stubborn-us.test", "/pics/1")
    run_due_tasks("act_on_task")
    run_due_tasks("send_task", rounds=1)
    notice = Action.objects.get(case=case, kind="notice")
    assert notice.state == "sent" and notice.sent_at is not None
    # The first recheck: 20 s after the notice went out.
    assert queued_rechecks()[-1] == notice.sent_at + timedelta(seconds=20)
    # 21 s later (the notice's time moved back instead of waiting), it runs and finds the
    # content still there; the next comes 30 s after the notice, i.e. 9 s from now.
    sent = notice.sent_at - timedelta(seconds=21)
    Action.objects.filter(pk=notice.pk).update(sent_at=sent)
    case.transitions.filter(to_state="actioned").update(at=sent - timedelta(seconds=1))
    make_due()
    assert f"case {case.pk}: live" in " ".join(run_due_tasks("recheck_task", rounds=1))
    assert queued_rechecks()[-1] == sent + timedelta(seconds=30)
