"""What reporters are told, and when (issue 15, item 1): one public stage per case in
plain words (never the URL, the host or the content), one mail per report per change,
sent once however often the step runs, retried when the mail server refuses, batched
when a report's cases move together, corrected when QA reverses a verdict."""

import smtplib
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from openhotline.assessment.models import Decision, OutcomeMessage, Review
from openhotline.casefile import reporter_updates
from openhotline.casefile import tasks as casefile_tasks
from openhotline.casefile.outcomes import Stage, public_outcome
from openhotline.casefile.reporter_updates import tell_reporters_of_case
from openhotline.casefile.tasks import tell_reporters_task
from openhotline.cases.models import Case, CaseState
from openhotline.intake.models import Report, ReportItem
from openhotline.takedown import services as takedown
from openhotline.takedown.models import Action, Removal
from openhotline.tracing.models import Trace
from tests.assessment.factory import make_case, picture
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

_refs = iter(range(1, 10**6))


def decided(analyst: Any, case: Case, criminal: bool, **fields: Any) -> Decision:
    state = CaseState.AWAITING_ACTION if criminal else CaseState.CLOSED
    Case.objects.filter(pk=case.pk).update(state=state)
    case.state = state
    return Decision.objects.create(
        case=case, analyst=analyst, criminal=criminal, mapping="uk", site_type="website",
        closure_reason="" if criminal else fields.pop("closure_reason", "not_csam"), **fields,
    )  # fmt: skip


def sent(case: Case, kind: str, country: str = "", host: str = "host.test") -> Action:
    Case.objects.filter(pk=case.pk).update(state=CaseState.ACTIONED)
    case.state = CaseState.ACTIONED
    trace = Trace.objects.create(case=case, host=host, country=country)
    return Action.objects.create(
        case=case, trace=trace, kind=kind, state="sent", sent_at=timezone.now(),
        reference=f"NTEST{next(_refs)}", recipient="abuse@host.test",
    )  # fmt: skip


def removed(case: Case, when: Any) -> Removal:
    Case.objects.filter(pk=case.pk).update(state=CaseState.REMOVED)
    case.state = CaseState.REMOVED
    return Removal.objects.create(case=case, confirmed_at=when, how="Gone")


def reported(urls: list[str], contact: str = "", language: str = "en") -> Report:
    data = {"urls": "\n".join(urls), "lang": language}
    if contact:
        data["contact"] = contact
    assert Client().post("/report/", data).status_code == 302
    return Report.objects.order_by("-pk").first()  # type: ignore[return-value]


def on_own_case(report: Report, position: int = 1) -> Case:
    """The reported address's case, made captured with a benign picture."""
    item = ReportItem.objects.get(report=report, position=position)
    case = make_case([picture(40 + position)], url=f"http://captured-{item.pk}.test/")
    ReportItem.objects.filter(pk=item.pk).update(case=case)
    return case


def decided_case_with_two_reporters(analyst: Any) -> Decision:
    for address in ("one@example.org", "two@example.org"):
        Client().post("/report/", {"urls": "http://told.test/x", "contact": address})
    Client().post("/report/", {"urls": "http://told.test/x"})  # no contact: told nothing
    reported_case = Case.objects.get(url="http://told.test/x")
    case = make_case([picture(9)], url="http://told-captured.test/")
    ReportItem.objects.filter(case=reported_case).update(case=case)
    return decided(analyst, case, False, closure_reason="unavailable")


def test_a_refusing_mail_server_is_retried_later_and_nobody_is_told_twice(analyst) -> None:
    decision = decided_case_with_two_reporters(analyst)
    real_send = mail.send_mail
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(*args, **kwargs)

    with mock.patch("openhotline.casefile.reporter_updates.send_mail", flaky):
        result = tell_reporters_task.call(decision.pk)
    assert "trying again" in result
    assert len(mail.outbox) == 1
    failed = OutcomeMessage.objects.get(sent_at__isnull=True)
    assert "connection lost" in failed.problem and failed.claimed_at is None
    retry = DBTaskResult.objects.get(task_path__endswith="tell_reporters_task")
    assert retry.args_kwargs["args"] == [decision.pk, 2] and retry.run_after is not None
    # The retry tells only the one who was not told.
    assert tell_reporters_of_case(decision.case_id) == "1 outcome message(s) sent"
    assert sorted(m.to[0] for m in mail.outbox) == ["one@example.org", "two@example.org"]
    assert "could no longer be found" in mail.outbox[1].body
    assert tell_reporters_of_case(decision.case_id) == "0 outcome message(s) sent"
    assert len(mail.outbox) == 2


def test_not_criminal_is_one_mail_whatever_runs_after(analyst) -> None:
    report = reported(["http://nothing.test/a"], contact="r@example.org")
    case = on_own_case(report)
    decision = decided(analyst, case, False, closure_reason="off_remit")
    for _ in range(3):
        tell_reporters_task.call(decision.pk)
        casefile_tasks.queue_updates(case.pk)
    run_due_tasks()
    assert len(mail.outbox) == 1 and "outside our remit" in mail.outbox[0].body


def test_a_held_or_unsettled_criminal_decision_reads_being_assessed(analyst) -> None:
    report = reported(["http://held.test/a"], contact="r@example.org")
    case = on_own_case(report)
    decision = decided(analyst, case, True, qa="training", held_for_qa=True)
    review = Review.objects.create(decision=decision)
    assert public_outcome(case).stage == Stage.RECEIVED
    assert tell_reporters_of_case(case.pk) == "0 outcome message(s) sent"
    # Released but the (sampled) review still pending: not yet acted on, still assessed.
    Decision.objects.filter(pk=decision.pk).update(held_for_qa=False, qa="sampled")
    assert public_outcome(case).stage == Stage.RECEIVED
    Review.objects.filter(pk=review.pk).update(state="agreed")
    assert public_outcome(case).stage == Stage.CRIMINAL
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("kind", "country", "english", "french"),
    [
        ("notice", "GB", "We sent a notice to the company hosting it",
         "Nous avons envoyé une notification à l'entreprise qui l'héberge"),
        ("partner_referral", "NL", "partner hotline in the country where it is hosted "
         "(Netherlands)", "hotline partenaire du pays où il est hébergé (Pays-Bas)"),
        ("police_referral", "RU", "the police in the country where it is hosted (Russia)",
         "la police du pays où il est hébergé (Russie)"),
        ("intelligence", "", "We passed it to the police.", "Nous l'avons transmis à la police."),
    ],
)  # fmt: skip
def test_the_action_taken_in_plain_words_and_the_reporters_language(
    analyst, kind: str, country: str, english: str, french: str
) -> None:
    report = reported(["http://acted.test/a"])
    case = on_own_case(report)
    decided(analyst, case, True)
    sent(case, kind, country, host="secret-host.test")
    sent(case, "police_notice", country)  # tells nobody to remove anything: no news
    outcome = public_outcome(case)
    assert outcome.stage == Stage.ACTION_TAKEN and english in outcome.text
    assert "secret-host" not in outcome.text and "police_notice" not in outcome.text
    with translation.override("fr"):
        assert french in public_outcome(case).text


def test_a_removal_shows_its_date_and_a_reupload_goes_back_to_action_taken(analyst) -> None:
    report = reported(["http://gone.test/a"], contact="r@example.org", language="fr")
    case = on_own_case(report)
    decided(analyst, case, True)
    sent(case, "notice", "GB")
    first = removed(case, timezone.make_aware(datetime(2026, 3, 4, 10, 0)))
    assert public_outcome(case).text.endswith(
        "We confirmed on March 4, 2026 that it has been removed."
    )
    assert tell_reporters_of_case(case.pk) == "1 outcome message(s) sent"
    assert "le 4 mars 2026 qu'il a été retiré" in mail.outbox[0].body
    # Content back: action taken again (already told: no mail); removed again: news.
    Removal.objects.filter(pk=first.pk).update(reuploaded_at=timezone.now())
    Case.objects.filter(pk=case.pk).update(state=CaseState.ACTIONED)
    case.refresh_from_db()
    assert public_outcome(case).stage == Stage.ACTION_TAKEN
    assert tell_reporters_of_case(case.pk) == "1 outcome message(s) sent"  # action taken
    assert tell_reporters_of_case(case.pk) == "0 outcome message(s) sent"
    removed(case, timezone.now())
    assert tell_reporters_of_case(case.pk) == "1 outcome message(s) sent"
    assert tell_reporters_of_case(case.pk) == "0 outcome message(s) sent"
    stages = OutcomeMessage.objects.order_by("pk").values_list("stage", "occasion")
    assert [s for s, _n in stages] == ["removed", "action_taken", "removed"]


@override_settings(REPORTER_UPDATE_DELAY_SECONDS=60)
def test_a_reports_cases_removed_in_the_same_minute_make_one_mail(analyst) -> None:
    urls = ["http://one.test/a", "http://two.test/b", "http://three.test/c"]
    report = reported(urls, contact="r@example.org", language="fr")
    cases = [on_own_case(report, position) for position in (1, 2, 3)]
    for case in cases:
        decided(analyst, case, True)
        sent(case, "notice", "GB")
    assert tell_reporters_of_case(cases[0].pk) == "1 outcome message(s) sent"
    mail.outbox.clear()
    for case in cases:  # what takedown's removal hook does, three times in a minute
        removed(case, timezone.now())
        casefile_tasks.queue_updates(case.pk)
    assert run_due_tasks("tell_case_reporters") == []  # not yet: they wait a minute
    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(seconds=1))
    results = run_due_tasks("tell_case_reporters")
    assert sorted(results) == ["0 outcome message(s) sent"] * 2 + ["1 outcome message(s) sent"]
    (update,) = mail.outbox
    for position in (1, 2, 3):
        assert f"Adresse {position} de votre signalement : " in update.body
    assert update.body.count("qu'il a été retiré") == 3
    assert not any(url in update.body for url in urls)
    assert not any(case.url in update.body for case in cases if case.url)


def test_a_second_worker_finds_the_news_already_claimed(analyst) -> None:
    report = reported(["http://race.test/a"], contact="r@example.org")
    case = on_own_case(report)
    decided(analyst, case, False)
    news = reporter_updates._claim_news(report.pk)
    assert news is not None and len(news.rows) == 1
    assert reporter_updates._claim_news(report.pk) is None  # taken: not sent twice
    assert tell_reporters_of_case(case.pk) == "0 outcome message(s) sent"
    # A claim left by a worker that died is taken again after CLAIM_SECONDS.
    stale = timezone.now() - timedelta(seconds=reporter_updates.CLAIM_SECONDS + 1)
    OutcomeMessage.objects.update(claimed_at=stale)
    assert tell_reporters_of_case(case.pk) == "1 outcome message(s) sent"
    assert len(mail.outbox) == 1


def test_a_qa_reversal_sends_the_corrected_outcome(analyst) -> None:
    report = reported(["http://reversed.test/a"], contact="r@example.org")
    case = on_own_case(report)
    decision = decided(analyst, case, True)
    sent(case, "notice", "GB")
    assert tell_reporters_of_case(case.pk) == "1 outcome message(s) sent"
    # What review.resolve does when a manager finds the case not criminal after all.
    Decision.objects.filter(pk=decision.pk).update(closure_reason="not_csam")
    Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED)
    with override_settings(REPORTER_UPDATE_DELAY_SECONDS=0):
        takedown.cancel_pending(case.pk, "QA resolution: not criminal")
    run_due_tasks("tell_case_reporters")
    assert len(mail.outbox) == 2
    assert "did not find child sexual abuse material" in mail.outbox[1].body
