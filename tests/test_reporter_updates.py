"""Reporters hear the outcome as the case moves (issue 15, item 1), end to end on the
simulated internet: a French reporter who left an address gets exactly three mails, in
French — assessed criminal, a notice sent to the host, removed on a date — and the status
page shows each stage as it happens; nothing is sent twice however often the steps run;
no mail or page names the URL or the host. A trainee's held decision reads "being
assessed" and tells nobody anything until QA agrees."""

import html
import re

import pytest
from django.test import Client, override_settings
from django.utils import formats, timezone, translation

from openhotline.assessment.models import Decision, OutcomeMessage
from openhotline.casefile.tasks import tell_case_reporters_task, tell_reporters_task
from openhotline.cases.models import CaseState
from openhotline.simnet.runner import Simnet
from openhotline.simnet.smtp import ReceivedMail
from openhotline.takedown.models import Removal
from openhotline.tracing.models import PartnerHotline
from tests.assessment.test_case_screen import GRADE_A
from tests.assessment.test_trainee_hold import qa_grades, trainee
from tests.conftest import verified_client
from tests.takedown.test_takedown_flow import FAST, _gone, decided_criminal, until
from tests.tasks import run_due_tasks

pytestmark = [pytest.mark.django_db(transaction=True)]

REPORTER = "signaleur@example.org"
HOST, PATH = "photos-gb.test", "/gallery/beach"
NOW = {**FAST, "REPORTER_UPDATE_DELAY_SECONDS": 0}


def report_with_contact(net: Simnet, host: str, path: str, language: str = "fr") -> str:
    """A report by someone who wants to hear the outcome; its status page's path."""
    response = Client().post(
        "/report/", {"urls": net.url(host, path), "contact": REPORTER, "lang": language}
    )
    assert response.status_code == 302
    return str(response["Location"]).split("?")[0]


def status_of(path: str) -> tuple[str, str]:
    """The stage and the words of the report's one address on its status page."""
    page = Client().get(path).content.decode()
    found = re.search(r'<li data-stage="([a-z_]+)">(.*?)</li>', page, re.S)
    assert found is not None, page
    return found.group(1), html.unescape(re.sub(r"<[^>]+>", "", found.group(2)))


def mails(net: Simnet) -> list[ReceivedMail]:
    return net.mail.to(REPORTER)


def assert_reveals_nothing(message: ReceivedMail, net: Simnet, url: str) -> None:
    text = message.subject + message.text()
    assert url not in text and HOST not in text and "photos" not in text
    assert net.address_of(HOST) not in text and "gallery" not in text


@override_settings(**NOW)
def test_a_french_reporter_hears_each_stage_once_in_french(on_simnet: Simnet, analyst) -> None:
    status = report_with_contact(on_simnet, HOST, PATH)
    assert status_of(status)[0] == "received"

    # Assessed: criminal.
    case = decided_criminal(on_simnet, analyst, HOST, PATH)
    run_due_tasks("tell_reporters")
    (first,) = mails(on_simnet)
    assert first.subject.startswith("Votre signalement R-")
    assert "Nous avons examiné ce signalement et trouvé un contenu illégal" in first.text()
    assert status_of(status) == (
        "criminal",
        "Examiné : illégal, action en préparation. Nous avons examiné ce signalement et "
        "trouvé un contenu illégal. Nous agissons pour le faire retirer.",
    )

    # Action taken: the notice to the host went out (the police notification is no news).
    run_due_tasks("act_on_task")
    run_due_tasks("send_task", rounds=1)
    abuse = on_simnet.facts(HOST).abuse_email
    on_simnet.mail.wait_for(lambda m: abuse in m.rcpt_tos)
    run_due_tasks("tell_case_reporters")
    assert len(mails(on_simnet)) == 2
    notice_sent = "Nous avons envoyé une notification à l'entreprise qui l'héberge"
    assert notice_sent in mails(on_simnet)[1].text()
    stage, words = status_of(status)
    assert stage == "action_taken" and notice_sent in words and words.startswith("Action engagée")

    # Removed, with the date in French.
    until(lambda: _gone(on_simnet, case.url or ""))
    run_due_tasks("recheck_task", rounds=1)
    run_due_tasks("recheck_task", rounds=1)
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED
    removal = Removal.objects.get(case=case)
    with translation.override("fr"):
        day = formats.date_format(timezone.localtime(removal.confirmed_at), "DATE_FORMAT")
    assert re.fullmatch(r"\d{1,2} [a-zéû]+ \d{4}", day)  # e.g. "7 décembre 2026"
    run_due_tasks("tell_case_reporters")
    assert len(mails(on_simnet)) == 3
    removed = f"Nous avons constaté le {day} qu'il a été retiré."
    assert removed in mails(on_simnet)[2].text()
    assert status_of(status)[0] == "removed" and removed in status_of(status)[1]

    # Every step run again (a retried task, a duplicate hook) sends nothing more.
    decision = Decision.objects.get(case=case)
    assert tell_reporters_task.call(decision.pk) == "0 outcome message(s) sent"
    assert tell_case_reporters_task.call(case.pk) == "0 outcome message(s) sent"
    run_due_tasks()
    assert len(mails(on_simnet)) == 3
    stages = OutcomeMessage.objects.order_by("pk").values_list("stage", flat=True)
    assert list(stages) == ["criminal", "action_taken", "removed"]
    for message in mails(on_simnet):
        assert_reveals_nothing(message, on_simnet, case.url or "")
    assert (case.url or "?") not in Client().get(status).content.decode()


@override_settings(**NOW)
def test_a_referral_names_the_partners_country_in_the_reporters_language(
    on_simnet: Simnet, analyst
) -> None:
    PartnerHotline.objects.update_or_create(
        country="NL", defaults={"name": "Offlimits", "email": "referrals@offlimits.test"}
    )
    status = report_with_contact(on_simnet, "forum-nl.test", "/thread/101")
    decided_criminal(on_simnet, analyst, "forum-nl.test", "/thread/101")
    run_due_tasks("act_on_task")
    run_due_tasks("send_task", rounds=1)
    on_simnet.mail.wait_for(lambda m: "referrals@offlimits.test" in m.rcpt_tos)
    stage, words = status_of(status)
    assert stage == "action_taken"
    assert "Nous l'avons transmis à notre hotline partenaire du pays où il est hébergé " in words
    assert "(Pays-Bas)" in words
    assert "Offlimits" not in words and "forum" not in words


@override_settings(**NOW)
def test_a_held_trainee_decision_reads_being_assessed_and_tells_nothing_until_qa_agrees(
    on_simnet: Simnet, analyst, qa_reviewer
) -> None:
    trainee(analyst)
    status = report_with_contact(on_simnet, HOST, PATH, language="en")
    case = decided_criminal(on_simnet, analyst, HOST, PATH)
    run_due_tasks()
    stage, words = status_of(status)
    assert stage == "received" and "one of our analysts will assess it" in words
    assert "criminal" not in words
    assert mails(on_simnet) == [] and not OutcomeMessage.objects.exists()

    review = Decision.objects.get(case=case).review
    client = verified_client(qa_reviewer)
    assert client.post(f"/staff/qa/{review.pk}/start/").status_code == 302
    qa_grades(client, review, GRADE_A)
    assert client.post(f"/staff/qa/{review.pk}/submit/", {"criminal": "yes"}).status_code == 302
    run_due_tasks("tell_reporters")
    (told,) = mails(on_simnet)
    assert "We assessed this and found criminal content." in told.text()
    assert status_of(status)[0] == "criminal"
