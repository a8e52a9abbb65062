"""Reporting through the public form and a country portal, without JavaScript."""

import re

import pytest
from django.test import Client

from openhotline.cases.models import Case, CaseKind, CaseState
from openhotline.intake.models import Channel, Portal, Report

pytestmark = pytest.mark.django_db


def post_report(client: Client, path: str = "/report/", **fields: str):
    data = {"urls": "", "description": "", "contact": "", "website": ""} | fields
    return client.post(path, data)


def test_it_accepts_an_anonymous_report_and_gives_a_private_status_link(client: Client) -> None:
    response = post_report(client, urls="http://gallery-one.test/\nhttp://pics-us.test/a")
    assert response.status_code == 302
    status_path = response["Location"]
    assert re.fullmatch(r"/report/status/R-[A-Z0-9-]+/[\w-]+/\?new=1", status_path)
    report = Report.objects.get()
    assert report.channel == Channel.WEB and report.contact_sealed is None
    assert sorted(str(url) for url in Case.objects.values_list("url", flat=True)) == [
        "http://gallery-one.test/",
        "http://pics-us.test/a",
    ]
    page = client.get(status_path)
    assert page.status_code == 200
    assert report.reference in page.content.decode()
    assert "Thank you" in page.content.decode()
    assert "one of our analysts will assess it" in page.content.decode()


def test_it_does_not_show_the_reported_addresses_on_the_status_page(client: Client) -> None:
    location = post_report(client, urls="http://gallery-one.test/secret-page")["Location"]
    assert "gallery-one" not in client.get(location).content.decode()


def test_a_wrong_secret_and_an_unknown_reference_look_the_same(client: Client) -> None:
    location = post_report(client, urls="http://gallery-one.test/")["Location"]
    reference = location.split("/")[3]
    assert client.get(f"/report/status/{reference}/wrong-secret/").status_code == 404
    assert client.get("/report/status/R-AAAA-AAAA-AAAA/whatever/").status_code == 404


def test_two_spellings_of_one_address_are_one_case_with_two_reports(client: Client) -> None:
    post_report(client, urls="HTTP://Example.TEST:80/a#x")
    post_report(client, urls="http://example.test/a")
    case = Case.objects.get()
    assert case.url == "http://example.test/a"
    assert case.report_count == 2 and case.report_items.count() == 2
    assert case.transitions.get().to_state == CaseState.RECEIVED


def test_a_rejected_address_is_named_and_nothing_typed_is_lost(client: Client) -> None:
    typed = "http://good.test/1\nftp://bad.test/file\nhttp://user:pw@bad.test/\nhttp://good.test/2"
    response = post_report(client, urls=typed, description="in a forum", contact="me@example.org")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Address 2 (ftp://bad.test/file): only web addresses" in html
    assert "Address 3 (http://user:pw@bad.test/): the address contains a user name" in html
    # Everything comes back in the form, and nothing was stored.
    assert "http://good.test/1\nftp://bad.test/file" in html.replace("&#x27;", "'")
    assert "in a forum" in html and "me@example.org" in html
    assert Report.objects.count() == 0 and Case.objects.count() == 0


def test_errors_sit_next_to_their_fields_for_assistive_technology(client: Client) -> None:
    html = post_report(client, urls="ftp://x.test/", contact="not-an-email").content.decode()
    # Each input names its help and its errors, which sit right next to it.
    assert 'aria-describedby="id_urls_helptext id_urls_error"' in html
    assert 'id="id_urls_helptext"' in html and 'id="id_urls_error"' in html
    assert 'aria-describedby="id_contact_helptext id_contact_error"' in html
    assert 'id="id_contact_error"' in html
    assert html.count('aria-invalid="true"') == 2


def test_it_refuses_more_than_fifty_addresses(client: Client) -> None:
    urls = "\n".join(f"http://many.test/{n}" for n in range(51))
    response = post_report(client, urls=urls)
    assert response.status_code == 400
    assert "at most 50 addresses" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_report_without_an_address_becomes_a_case_of_kind_other(client: Client) -> None:
    response = post_report(client, description="Shared in an app group called X")
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.kind == CaseKind.OTHER and case.url is None


def test_an_empty_report_is_refused(client: Client) -> None:
    response = post_report(client)
    assert response.status_code == 400
    assert "at least one web address" in response.content.decode()


def test_the_honeypot_field_refuses_bots_without_losing_input(client: Client) -> None:
    response = post_report(client, urls="http://spam.test/", website="http://bot.example")
    assert response.status_code == 400
    assert "must be left empty" in response.content.decode()
    assert Report.objects.count() == 0


def test_injection_in_text_fields_is_stored_as_text_and_escaped(client: Client) -> None:
    evil = "<script>alert(1)</script>'; DROP TABLE intake_report; --"
    response = post_report(client, urls="http://x.test/<script>", description=evil)
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.description == evil
    assert Case.objects.get().url == "http://x.test/%3Cscript%3E"


def test_contact_details_are_sealed_at_rest(client: Client) -> None:
    from openhotline.core.secretbox import open_sealed
    from openhotline.intake.services import CONTACT_PURPOSE

    post_report(client, urls="http://x.test/", contact="reporter@example.org")
    sealed = Report.objects.get().contact_sealed
    assert isinstance(sealed, bytes | memoryview)
    sealed = bytes(sealed)
    assert b"reporter@example.org" not in sealed
    assert open_sealed(sealed, purpose=CONTACT_PURPOSE) == "reporter@example.org"


def test_throttling_keeps_what_was_typed(client: Client, settings) -> None:
    settings.REPORT_RATE = "2/hour"
    assert post_report(client, urls="http://a.test/1").status_code == 302
    assert post_report(client, urls="http://a.test/2").status_code == 302
    response = post_report(client, urls="http://a.test/3", description="third")
    assert response.status_code == 429
    assert "try again in" in response.content.decode()
    assert "http://a.test/3" in response.content.decode()
    assert Report.objects.count() == 2


def test_throttling_counts_clients_apart(settings) -> None:
    settings.REPORT_RATE = "1/hour"
    first, second = Client(REMOTE_ADDR="127.0.0.10"), Client(REMOTE_ADDR="127.0.0.11")
    assert post_report(first, urls="http://a.test/1").status_code == 302
    assert post_report(first, urls="http://a.test/2").status_code == 429
    assert post_report(second, urls="http://a.test/3").status_code == 302


@pytest.fixture
def senegal(db: None) -> Portal:
    return Portal.objects.create(
        slug="senegal",
        name="Portail du Sénégal",
        country="SN",
        languages=["fr", "en"],
        welcome_text={"fr": "Bienvenue au portail.", "en": "Welcome to the portal."},
    )


def test_a_portal_speaks_its_first_language_and_remembers_the_report(
    client: Client, senegal: Portal
) -> None:
    page = client.get("/portal/senegal/").content.decode()
    assert "Bienvenue au portail." in page
    assert "Signaler des contenus d'abus sexuels sur enfants" in page
    assert 'lang="fr"' in page
    response = post_report(client, "/portal/senegal/", urls="ftp://x.test/", lang="fr")
    assert "seules les adresses web (http ou https)" in response.content.decode()
    location = post_report(client, "/portal/senegal/", urls="http://x.test/", lang="fr")["Location"]
    report = Report.objects.get()
    assert report.portal == senegal and report.channel == Channel.PORTAL
    assert report.language == "fr"
    assert "Merci" in client.get(location).content.decode()


def test_a_portal_can_be_read_in_its_other_languages(client: Client, senegal: Portal) -> None:
    page = client.get("/portal/senegal/?lang=en").content.decode()
    assert "Welcome to the portal." in page and "Report child sexual abuse material" in page


def test_an_unknown_or_inactive_portal_is_not_found(client: Client, senegal: Portal) -> None:
    assert client.get("/portal/atlantis/").status_code == 404
    senegal.is_active = False
    senegal.save()
    assert client.get("/portal/senegal/").status_code == 404


def test_portal_languages_and_texts_are_validated() -> None:
    from django.core.exceptions import ValidationError

    portal = Portal(slug="bad", name="Bad", country="XX", languages="en", welcome_text=["x"])
    with pytest.raises(ValidationError) as error:
        portal.full_clean()
    assert set(error.value.message_dict) == {"languages", "welcome_text"}
    portal.languages, portal.welcome_text = ["fr", "en"], {"fr": "Bienvenue"}
    portal.full_clean()


@pytest.mark.parametrize(
    "path",
    ["/report/status/%00/x/", "/report/status/R-AAAA/%00/", "/portal/%00/", "/report/?lang=%00"],
)
def test_nul_bytes_in_public_urls_are_not_errors(client: Client, path: str) -> None:
    assert client.get(path).status_code in (200, 404)


def test_a_bad_status_link_says_what_to_do_next_in_the_visitors_language(client: Client) -> None:
    location = post_report(client, urls="http://gallery-one.test/")["Location"]
    reference = location.split("/")[3]
    wrong = client.get(f"/report/status/{reference}/wrong-secret/")
    unknown = client.get("/report/status/R-AAAA-AAAA-AAAA/whatever/")
    assert wrong.status_code == unknown.status_code == 404
    page = wrong.content.decode()
    assert "/static/openhotline/site.css" in page and "We cannot find this report" in page
    assert "Check that you copied the whole link" in page and 'href="/report/"' in page
    assert reference not in page
    assert "no-store" in wrong["Cache-Control"]
    french = client.get(
        f"/report/status/{reference}/wrong-secret/", headers={"accept-language": "fr"}
    )
    assert "Nous ne trouvons pas ce signalement" in french.content.decode()


def test_a_portal_names_its_partner_and_says_what_happens_next(
    client: Client, senegal: Portal
) -> None:
    from openhotline.accounts.models import Organisation, OrganisationKind

    senegal.organisation = Organisation.objects.create(
        name="Association Jeunesse Sénégal", kind=OrganisationKind.PORTAL_PARTNER, country="SN"
    )
    senegal.save()
    french = client.get("/portal/senegal/").content.decode()
    assert "Ce portail est géré avec Association Jeunesse Sénégal." in french
    assert "Ce qui se passe après votre signalement" in french
    assert "nous trouvons où ils sont hébergés et demandons leur retrait" in french
    english = client.get("/portal/senegal/?lang=en").content.decode()
    assert "This portal is run together with Association Jeunesse Sénégal." in english
    assert "What happens after you report" in english


def test_the_thank_you_page_keeps_the_portal_and_shows_the_link_to_copy(
    client: Client, senegal: Portal
) -> None:
    location = post_report(client, "/portal/senegal/", urls="http://x.test/", lang="fr")["Location"]
    response = client.get(location)
    page = response.content.decode()
    assert "Portail du Sénégal" in page and 'lang="fr"' in page
    # The link itself, as text to select (works without JavaScript), and the copy button.
    link = "http://testserver" + location.replace("?new=1", "")
    assert f'value="{link}" readonly' in page
    assert "Votre lien de suivi privé" in page and "Copier le lien" in page
    assert "/static/openhotline/copy-link.js" in page
    # "Make another report" goes back to the portal, not to the hotline's own form.
    assert 'href="/portal/senegal/"' in page
    assert "no-store" in response["Cache-Control"]


def test_a_portals_status_page_follows_the_case_in_its_language(
    client: Client, senegal: Portal, analyst
) -> None:
    """Issue 15, item 1: the status page said "being worked on" after a removal."""
    import html
    from datetime import datetime

    from django.utils import timezone

    from openhotline.assessment.models import Decision, Review
    from openhotline.takedown.models import Action, Removal
    from openhotline.tracing.models import Trace

    location = post_report(client, "/portal/senegal/", urls="http://suivi.test/a")["Location"]
    case = Case.objects.get()

    def stage() -> str:
        page = html.unescape(client.get(location).content.decode())
        found = re.search(r'data-stage="([a-z_]+)"', page)
        assert found is not None and "suivi.test" not in page
        return f"{found.group(1)}: {page}"

    assert stage().startswith("received: ")
    Case.objects.filter(pk=case.pk).update(state=CaseState.AWAITING_ACTION)
    decision = Decision.objects.create(
        case=case, analyst=analyst, criminal=True, mapping="uk", site_type="website",
        qa="training", held_for_qa=True,
    )  # fmt: skip
    Review.objects.create(decision=decision)
    # Held until QA agrees: still "being assessed", never "criminal".
    held = stage()
    assert held.startswith("received: ") and "Reçu, en cours d'examen" in held
    Decision.objects.filter(pk=decision.pk).update(held_for_qa=False, released_at=timezone.now())
    Review.objects.filter(decision=decision).update(state="agreed")
    assert stage().startswith("criminal: ")
    Case.objects.filter(pk=case.pk).update(state=CaseState.ACTIONED)
    trace = Trace.objects.create(case=case, host="suivi.test", country="FR")
    Action.objects.create(
        case=case, trace=trace, kind="police_referral", state="sent", sent_at=timezone.now(),
        reference="NSTATUS1", recipient="police@example.org",
    )  # fmt: skip
    acted = stage()
    assert acted.startswith("action_taken: ")
    assert "Nous l'avons transmis à la police du pays où il est hébergé (France)." in acted
    Case.objects.filter(pk=case.pk).update(state=CaseState.REMOVED)
    when = timezone.make_aware(datetime(2026, 5, 1, 12, 0))
    Removal.objects.create(case=case, confirmed_at=when, how="Gone")
    gone = stage()
    assert gone.startswith("removed: ") and "Nous avons constaté le 1 mai 2026" in gone
    assert "Retiré" in gone and "Nous agissons" not in gone
