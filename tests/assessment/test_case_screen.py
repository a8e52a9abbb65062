"""The analyst's case screen through HTTP: reveal, grade (alone or by group, or by
confirming a known hash), decide; and what the reporter hears afterwards."""

import re

import pytest
from django.core import mail
from django.test import Client, override_settings

from openhotline.assessment.models import Decision, MediaGrade, Reveal, Via
from openhotline.audit.models import AuditEvent
from openhotline.cases.models import Case, CaseState
from openhotline.evidence.models import Media, MediaCheck
from openhotline.intake.models import ReportItem
from openhotline.signals.models import HashList, ListEntry
from tests.assessment.factory import known_list, make_case, picture
from tests.conftest import verified_client
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
GRADE_A = {"grade": "penetrative", "age_band": "7-10", "children": "1", "sex": "female"}


def claim(client: Client) -> int:
    response = client.post("/staff/assess/next/")
    assert response.status_code == 302, response.content
    found = re.search(r"/cases/(\d+)/", response["Location"])
    assert found is not None
    return int(found.group(1))


def lead_ids(client: Client, case_id: int) -> list[int]:
    page = client.get(f"/staff/assess/cases/{case_id}/").content.decode()
    return [int(x) for x in re.findall(r'data-lead="(\d+)"', page)]


def reveal(client: Client, case_id: int, media_id: int) -> str:
    response = client.post(f"/staff/assess/cases/{case_id}/media/{media_id}/reveal/", headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def grade(client: Client, case_id: int, media_id: int, data: dict, status: int = 200) -> str:
    response = client.post(
        f"/staff/assess/cases/{case_id}/media/{media_id}/grade/", data, headers=HTMX
    )
    assert response.status_code == status, response.content
    return response.content.decode()


def test_grading_needs_a_reveal_and_the_reveal_unlocks_the_original_only(analyst) -> None:
    case = make_case([picture(1), picture(2)])
    client = verified_client(analyst)
    assert claim(client) == case.pk
    first, second = lead_ids(client, case.pk)
    refused = grade(client, case.pk, first, GRADE_A, status=422)
    assert "Reveal the item before grading it" in refused
    assert not MediaGrade.objects.exists()
    # The original cannot be fetched by address, only with the reveal's token.
    assert client.get(f"/staff/media/{first}/original/").status_code == 403
    fragment = reveal(client, case.pk, first)
    found = re.search(r"original/\?reveal=([\w-]+)", fragment)
    assert found is not None
    token = found.group(1)
    assert client.get(f"/staff/media/{first}/original/?reveal={token}").status_code == 200
    # …for that item only, and that person only.
    assert client.get(f"/staff/media/{second}/original/?reveal={token}").status_code == 403
    assert grade(client, case.pk, first, GRADE_A).count("Graded: UK A") == 1
    saved = MediaGrade.objects.get(media_id=first)
    assert (saved.uk_category, saved.interpol_baseline, saved.vics_category) == ("A", True, 1)
    assert saved.via == Via.REVEALED and saved.decision is None
    assert Reveal.objects.filter(user=analyst).count() == 1
    assert AuditEvent.objects.filter(action="media.revealed").count() == 1
    assert AuditEvent.objects.filter(action="media.refused").count() == 2


def test_bad_grades_get_clear_errors_and_nothing_is_saved(analyst) -> None:
    case = make_case([picture(1)])
    client = verified_client(analyst)
    claim(client)
    (lead,) = lead_ids(client, case.pk)
    reveal(client, case.pk, lead)
    page = grade(client, case.pk, lead, {"grade": "penetrative"}, status=422)
    assert "age band of the youngest child" in page
    page = grade(client, case.pk, lead, {"grade": "<script>x</script>", "children": "0"}, 422)
    assert "Choose what the item shows" in page and "<script>x" not in page
    page = grade(client, case.pk, lead, {**GRADE_A, "children": "many", "sex": "x"}, 422)
    assert "whole number from 1 to 99" in page and "Choose one of" in page
    assert not MediaGrade.objects.exists()
    # Not CSAM: the child's details do not apply and are dropped.
    grade(client, case.pk, lead, {"grade": "adult", "age_band": "3-6", "children": "2"})
    saved = MediaGrade.objects.get()
    assert (saved.grade, saved.age_band, saved.children, saved.uk_category) == (
        "adult",
        "",
        None,
        "",
    )


def test_near_duplicates_are_one_group_graded_once(analyst) -> None:
    case = make_case([picture(1), picture(1, 1), picture(1, 2), picture(2)])
    client = verified_client(analyst)
    claim(client)
    leads = lead_ids(client, case.pk)
    assert len(leads) == 2
    page = client.get(f"/staff/assess/cases/{case.pk}/").content.decode()
    assert "group of 3 near-duplicates" in page
    group_lead = next(m for m in leads if MediaGrade.objects.count() == 0)
    for lead in leads:
        reveal(client, case.pk, lead)
        grade(client, case.pk, lead, {"grade": "sexual_posing", "age_band": "11-13"})
    assert MediaGrade.objects.count() == 4
    assert MediaGrade.objects.filter(via=Via.GROUP).count() == 2
    assert Reveal.objects.count() == 2
    assert group_lead in leads


def test_a_known_hash_pre_grades_and_is_confirmed_without_a_reveal(analyst) -> None:
    known_list([picture(7)], grade="non_penetrative", age_band="3-6")
    case = make_case([picture(7), picture(8)])
    assert Case.objects.get(pk=case.pk).priority == 20
    client = verified_client(analyst)
    claim(client)
    page = client.get(f"/staff/assess/cases/{case.pk}/").content.decode()
    assert "pre-graded, no reveal needed" in page and "police-known" in page
    known = next(
        lead for lead in lead_ids(client, case.pk) if 'data-known="1"' in _fragment(page, lead)
    )
    grade(client, case.pk, known, {"grade": "non_penetrative", "age_band": "3-6"})
    saved = MediaGrade.objects.get(media_id=known)
    assert saved.via == Via.KNOWN_MATCH and saved.match_id is not None
    assert saved.uk_category == "B"
    assert not Reveal.objects.exists()
    # Changing a known grade needs a look first.
    refused = grade(client, case.pk, known, {"grade": "sexual_posing", "age_band": "3-6"}, 422)
    assert "reveal the item before changing it" in refused


def _fragment(page: str, lead: int) -> str:
    start = page.index(f'id="group-{lead}"')
    return page[start - 40 : start + 400]


def _grade_all(client: Client, case_id: int, data: dict) -> None:
    for lead in lead_ids(client, case_id):
        reveal(client, case_id, lead)
        grade(client, case_id, lead, data)


DECIDE = {"criminal": "yes", "mapping": "uk", "site_type": "image_host"}


@override_settings(QA_SHARE_PERCENT=0)
def test_a_criminal_decision_moves_the_case_on_and_feeds_the_own_hash_list(analyst) -> None:
    case = make_case([picture(1), picture(2)])
    client = verified_client(analyst)
    claim(client)
    refused = client.post(f"/staff/assess/cases/{case.pk}/decide/", DECIDE)
    assert refused.status_code == 422 and b"not graded yet" in refused.content
    _grade_all(client, case.pk, GRADE_A)
    closing = client.post(
        f"/staff/assess/cases/{case.pk}/decide/",
        {**DECIDE, "criminal": "no", "closure_reason": "not_csam"},
    )
    assert closing.status_code == 422 and b"cannot be closed" in closing.content
    response = client.post(f"/staff/assess/cases/{case.pk}/decide/", DECIDE)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_ACTION
    decision = Decision.objects.get()
    assert decision.criminal and decision.qa == "" and decision.site_type == "image_host"
    assert decision.grades.count() == 2
    assert not type(case).objects.filter(claim__isnull=False).exists()
    # The reporters' outcome (casefile.tasks, handed on by the decision) and the own list.
    assert run_due_tasks("tell_reporters") == ["0 outcome message(s) sent"]
    assert run_due_tasks("assessment") == ["2 entr(y/ies) in own-grading"]
    own = HashList.objects.get(name="own-grading")
    entries = ListEntry.objects.filter(hash_list=own)
    assert entries.count() == 2
    assert {e.uk_category for e in entries} == {"A"}
    assert all(e.source_media_id is None or e.source_media_id for e in entries)
    decision.refresh_from_db()
    assert decision.grades_confirmed_at is not None


@override_settings(QA_SHARE_PERCENT=0)
def test_a_closed_case_tells_the_reporter_in_plain_words_never_the_content(analyst) -> None:
    Client().post("/report/", {"urls": "http://plain.test/x", "contact": "reporter@example.org"})
    case = Case.objects.get()
    # The capture is simulated: the case was captured with two benign pictures.
    extra = make_case([picture(3)], url="http://plain-extra.test/")
    ReportItem.objects.filter(case=case).update(case=extra)
    client = verified_client(analyst)
    claim_id = claim(client)
    assert claim_id == extra.pk
    _grade_all(client, extra.pk, {"grade": "adult"})
    response = client.post(
        f"/staff/assess/cases/{extra.pk}/decide/",
        {**DECIDE, "criminal": "no", "closure_reason": "off_remit"},
    )
    assert response.status_code == 302
    run_due_tasks("tell_reporters")
    run_due_tasks("tell_reporters")  # a second run sends nothing again
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reporter@example.org"]
    assert "outside our remit" in message.body
    assert "adult" not in message.body and "plain" not in message.body
    reference = ReportItem.objects.get(case=extra).report.reference
    assert reference in message.subject


@override_settings(QA_SHARE_PERCENT=100)
def test_a_sampled_decision_waits_for_qa_before_its_grades_enter_the_hash_list(analyst) -> None:
    case = make_case([picture(4)])
    client = verified_client(analyst)
    claim(client)
    _grade_all(client, case.pk, GRADE_A)
    client.post(f"/staff/assess/cases/{case.pk}/decide/", DECIDE)
    run_due_tasks("assessment")
    decision = Decision.objects.get()
    assert decision.qa == "sampled" and decision.review.state == "pending"
    assert decision.grades_confirmed_at is None
    assert not ListEntry.objects.filter(hash_list__name="own-grading").exists()


def test_a_case_held_by_someone_else_is_not_shown_and_cannot_be_graded(analyst) -> None:
    from tests.conftest import make_user

    case = make_case([picture(1)])
    client = verified_client(analyst)
    claim(client)
    (lead,) = lead_ids(client, case.pk)
    other = verified_client(make_user("bob-analyst", "analyst"))
    page = other.get(f"/staff/assess/cases/{case.pk}/")
    assert page.status_code == 409 and b"alice-analyst is assessing" in page.content
    assert other.post(f"/staff/assess/cases/{case.pk}/media/{lead}/reveal/").status_code == 403
    assert (
        other.post(f"/staff/assess/cases/{case.pk}/media/{lead}/grade/", GRADE_A).status_code == 403
    )
    assert other.post(f"/staff/assess/cases/{case.pk}/decide/", DECIDE).status_code == 403
    assert AuditEvent.objects.filter(action="assessment.refused").count() == 3


@override_settings(QA_SHARE_PERCENT=0)
def test_the_reporters_status_link_shows_the_outcome_in_their_language(analyst) -> None:
    response = Client().post(
        "/report/", {"urls": "http://status.test/x"}, headers={"Accept-Language": "fr"}
    )
    status_url = response["Location"].split("?")[0]
    case = Case.objects.get()
    extra = make_case([picture(5)], url="http://status-extra.test/")
    ReportItem.objects.filter(case=case).update(case=extra)
    before = Client().get(status_url).content.decode()
    client = verified_client(analyst)
    claim(client)
    _grade_all(client, extra.pk, GRADE_A)
    client.post(f"/staff/assess/cases/{extra.pk}/decide/", DECIDE)
    after = Client().get(status_url).content.decode()
    assert after != before
    assert "trouvé un contenu illégal" in after
    assert "Penetrative" not in after and "UK A" not in after


def test_bad_decisions_get_clear_errors_and_injected_text_stays_text(analyst) -> None:
    case = make_case([picture(6)])
    client = verified_client(analyst)
    claim(client)
    _grade_all(client, case.pk, {"grade": "innocent"})
    url = f"/staff/assess/cases/{case.pk}/decide/"
    bad = client.post(url, {"criminal": "maybe", "site_type": "darkweb", "mapping": "mars"})
    page = bad.content.decode()
    assert bad.status_code == 422
    assert "Say whether the case is criminal" in page and "Choose the type of site" in page
    assert "Choose a law" in page
    too_long = client.post(url, {**DECIDE, "criminal": "no", "closure_reason": "not_csam",
                                 "notes": "x" * 5001})  # fmt: skip
    assert too_long.status_code == 422 and b"under 5000 characters" in too_long.content
    no_reason = client.post(url, {**DECIDE, "criminal": "no"})
    assert no_reason.status_code == 422 and b"Say why the case is closed" in no_reason.content
    assert not Decision.objects.exists()
    injected = "<script>alert(1)</script> & <b>bold</b>"
    done = client.post(
        url, {**DECIDE, "criminal": "no", "closure_reason": "not_csam", "notes": injected}
    )
    assert done.status_code == 302
    assert Decision.objects.get().notes == injected
    record = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in record and "<script>alert" not in record


def test_the_case_screen_costs_the_same_queries_for_2_or_12_items(analyst) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = make_case([picture(n) for n in range(20, 22)])
    big = make_case([picture(n) for n in range(30, 42)])
    client = verified_client(analyst)
    counts = []
    for case in (small, big):
        from openhotline.assessment import queue

        queue.claim_case(case, analyst)
        client.get(f"/staff/assess/cases/{case.pk}/")  # the welfare profile is made once
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/staff/assess/cases/{case.pk}/").status_code == 200
        counts.append(len(queries))
        queue.release(case, analyst)
    assert counts[0] == counts[1], counts


def test_an_item_too_slow_to_decode_is_still_shown_revealed_as_a_download_and_graded(
    analyst,
) -> None:
    """An item over the decode budget has no preview, but it may be what the case is
    about: the screen lists it, a reveal offers the original as a download, and it can be
    graded (so the case cannot be closed around it unseen)."""
    case = make_case([picture(1), picture(2)])
    slow = Media.objects.filter(sightings__capture__case=case).order_by("pk").last()
    assert slow is not None
    Media.objects.filter(pk=slow.pk).update(status=MediaCheck.OVER_BUDGET)
    client = verified_client(analyst)
    assert claim(client) == case.pk
    assert slow.pk in lead_ids(client, case.pk)
    page = client.get(f"/staff/assess/cases/{case.pk}/").content.decode()
    assert "No preview: this file took too long to decode" in page
    fragment = reveal(client, case.pk, slow.pk)
    found = re.search(r'href="/staff/media/\d+/original/\?reveal=([\w-]+)" download', fragment)
    assert found is not None
    original = client.get(f"/staff/media/{slow.pk}/original/?reveal={found.group(1)}")
    assert original.status_code == 200 and "attachment" in original["Content-Disposition"]
    assert grade(client, case.pk, slow.pk, GRADE_A).count("Graded: UK A") == 1


def _panel_action(page: str) -> str:
    """Where the one grading form posts (the panel's group)."""
    forms = re.findall(r'<form class="grade" method="post" action="([^"]+)"', page)
    assert len(forms) == 1, forms  # one panel, not a form under every picture
    return forms[0]


def test_one_grading_panel_for_the_focused_group_chosen_by_link_without_script(analyst) -> None:
    case = make_case([picture(1), picture(2), picture(3)])
    client = verified_client(analyst)
    claim(client)
    leads = lead_ids(client, case.pk)
    page = client.get(f"/staff/assess/cases/{case.pk}/").content.decode()
    base = f"/staff/assess/cases/{case.pk}/media"
    # The panel starts on the first group still to grade; each tile links to its own.
    assert _panel_action(page) == f"{base}/{leads[0]}/grade/"
    for lead in leads:
        assert f'href="?group={lead}#grade-panel"' in page
    chosen = client.get(f"/staff/assess/cases/{case.pk}/?group={leads[2]}").content.decode()
    assert _panel_action(chosen) == f"{base}/{leads[2]}/grade/"
    assert (
        f'id="group-{leads[2]}" tabindex="0" data-lead="{leads[2]}" aria-current="true"' in chosen
    )
    # A group that is not this case's is ignored, not an error.
    other = client.get(f"/staff/assess/cases/{case.pk}/?group=999999").content.decode()
    assert _panel_action(other) == f"{base}/{leads[0]}/grade/"

    # Without script: a refused grade comes back to the same group, saying why.
    refused = client.post(f"{base}/{leads[2]}/grade/", {"grade": "adult"})
    assert refused.status_code == 302 and refused["Location"].endswith(f"?group={leads[2]}")
    again = client.get(refused["Location"]).content.decode()
    assert _panel_action(again) == f"{base}/{leads[2]}/grade/"
    assert "Reveal the item before grading it" in again
    # Graded groups step aside: the panel goes to the next one still to grade.
    reveal(client, case.pk, leads[0])
    assert client.post(f"{base}/{leads[0]}/grade/", {"grade": "adult"}).status_code == 302
    after = client.get(f"/staff/assess/cases/{case.pk}/").content.decode()
    assert _panel_action(after) == f"{base}/{leads[1]}/grade/"


def _oob(fragment: str, element_id: str) -> str:
    found = re.search(rf'<[^>]*id="{element_id}"[^>]*hx-swap-oob[^>]*>(.*?)</', fragment, re.S)
    assert found is not None, f"no out-of-band #{element_id} in {fragment[:2000]}"
    return found.group(1)


def test_the_counter_and_the_reveal_line_are_swapped_out_of_band(analyst) -> None:
    case = make_case([picture(1), picture(2)])
    client = verified_client(analyst)
    claim(client)
    first, _second = lead_ids(client, case.pk)
    page = client.get(f"/staff/assess/cases/{case.pk}/").content.decode()
    assert "0 of 2 groups graded" in page
    assert re.search(
        rf'id="status-{first}">\s*<span class="reveal-first">Reveal before grading', page
    )
    # A refusal comes with its reason for the panel, and the unchanged counter.
    refused = grade(client, case.pk, first, {"grade": "adult"}, status=422)
    assert "Reveal the item before grading it" in _oob(refused, "grade-errors")
    assert _oob(refused, "graded-count").strip() == "0 of 2 groups graded"
    # The reveal changes the item's line and clears the refusal it answers.
    revealed = reveal(client, case.pk, first)
    assert _oob(revealed, f"status-{first}").strip() == "Revealed · ready to grade"
    assert re.search(
        r'<div id="grade-errors" role="alert" hx-swap-oob="innerHTML"></div>', revealed
    )
    # A grade saved moves the counter on.
    saved = grade(client, case.pk, first, {"grade": "adult"})
    assert _oob(saved, "graded-count").strip() == "1 of 2 groups graded"
    assert "<li" not in _oob(saved, "grade-errors")


@override_settings(QA_SHARE_PERCENT=0)
def test_a_decision_opens_the_next_case_claimed_and_the_last_one_the_queue(analyst) -> None:
    from openhotline.assessment.models import Claim

    first = make_case([picture(1)])
    second = make_case([picture(2)])
    client = verified_client(analyst)
    assert claim(client) == first.pk
    _grade_all(client, first.pk, {"grade": "adult"})
    closing = {**DECIDE, "criminal": "no", "closure_reason": "not_csam"}
    response = client.post(f"/staff/assess/cases/{first.pk}/decide/", closing)
    # THEN the next case opens, already the analyst's, with word of the last one
    assert response.status_code == 302
    assert response["Location"] == f"/staff/assess/cases/{second.pk}/"
    assert Claim.objects.get(case=second).analyst == analyst
    page = client.get(response["Location"]).content.decode()
    assert f"Case #{first.pk} decided (closed)" in page
    assert 'href="/staff/assess/">Back to the queue</a>' in page
    _grade_all(client, second.pk, {"grade": "adult"})
    last = client.post(f"/staff/assess/cases/{second.pk}/decide/", closing)
    assert last.status_code == 302 and last["Location"] == "/staff/assess/"
    queue_page = client.get("/staff/assess/").content.decode()
    assert "Nothing else is waiting" in queue_page
    assert not Claim.objects.exists()


def test_error_lists_sit_inside_their_alert_never_an_alert_list(analyst) -> None:
    """axe's listitem rule: a <ul role="alert"> is no list, so its items are orphans."""
    case = make_case([picture(1)])
    client = verified_client(analyst)
    claim(client)
    (lead,) = lead_ids(client, case.pk)
    pages = [
        client.post(f"/staff/assess/cases/{case.pk}/decide/", {"criminal": "maybe"}),
        client.post("/staff/assess/welfare/", {"blur_strength": "0"}),
        client.post(
            f"/staff/assess/cases/{case.pk}/media/{lead}/grade/", {"grade": "x"}, headers=HTMX
        ),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 422
        assert not re.search(r'<ul[^>]*role="alert"', html), html
        assert re.search(r'<div[^>]*role="alert"[^>]*>\s*<ul', html), html


@override_settings(QA_SHARE_PERCENT=0)
def test_a_trainees_criminal_decision_is_said_to_wait_for_qa_not_to_go_on(analyst) -> None:
    from openhotline.assessment.models import AssessorProfile
    from tests.conftest import make_user

    # GIVEN an analyst in training and one who is not
    AssessorProfile.objects.create(user=analyst, in_training=True)
    trained = make_user("tess-analyst", "analyst")
    for user, said, not_said in (
        (analyst, "criminal: held until QA agrees", "passed on for action"),
        (trained, "criminal: passed on for action", "held until QA agrees"),
    ):
        case = make_case([picture(user.pk)], url=f"http://said-{user.pk}.test/")
        client = verified_client(user)
        assert claim(client) == case.pk
        _grade_all(client, case.pk, GRADE_A)
        # WHEN each decides their case criminal
        response = client.post(f"/staff/assess/cases/{case.pk}/decide/", DECIDE)
        assert response.status_code == 302
        # THEN the word they get says what follows: for the trainee, nothing yet
        page = client.get(response["Location"]).content.decode()
        assert f"Case #{case.pk} decided ({said})" in page
        assert not_said not in page
        assert Decision.objects.get(case=case).held_for_qa == (user == analyst)


@override_settings(QA_SHARE_PERCENT=100)
def test_the_not_held_page_tells_a_blind_reviewer_only_that_the_case_is_under_review(
    analyst, qa_reviewer
) -> None:
    from tests.assessment.test_review import decided_case

    decision, _leads = decided_case(analyst, [GRADE_A])
    address = f"/staff/assess/cases/{decision.case_id}/"
    # A reviewer who could take the review, and then the one doing it, are blind to it.
    reviewer = verified_client(qa_reviewer)
    waiting = reviewer.get(address)
    assert reviewer.post(f"/staff/qa/{decision.review.pk}/start/").status_code == 302
    doing = reviewer.get(address)
    for page in (waiting, doing):
        text = page.content.decode()
        assert page.status_code == 409 and "Under QA review" in text
        assert "awaiting action" not in text.lower() and "criminal" not in text.lower()
        assert "alice-analyst" not in text
    # The analyst who decided is not blind: the page says the case's state.
    own = verified_client(analyst).get(address).content.decode()
    assert "criminal: awaiting action" in own.lower() and "Under QA review" not in own
