"""Composing notices: per-language text, an X-ARF part that validates, never media."""

from pathlib import Path

import pytest

from openhotline.assessment.models import Decision, MediaGrade
from openhotline.takedown import xarf
from openhotline.takedown.models import Action
from openhotline.takedown.notices import compose
from openhotline.tracing.models import PartnerHotline, Trace
from tests.assessment.factory import make_case, picture

pytestmark = pytest.mark.django_db
SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "xarf" / "schemas" / "v4"


def criminal_case(analyst, country: str):
    case = make_case([picture(70)], url="http://belgian-host.test/page")
    decision = Decision.objects.create(
        case=case, analyst=analyst, criminal=True, mapping="uk", site_type="website"
    )
    media = case.captures.get().items.get().media
    assert media is not None
    MediaGrade.objects.create(
        case=case, media=media, stage="first", grader=analyst, decision=decision,
        grade="non_penetrative", age_band="7-10", uk_category="B", interpol_baseline=True,
        vics_category=1, via="revealed",
    )  # fmt: skip
    trace = Trace.objects.create(
        case=case, host=case.host, country=country, network_abuse=["abuse@be-host.test"],
        addresses=[{"address": "127.77.9.9", "country": country, "network": "127.77.9.0/24"}],
    )  # fmt: skip
    return case, trace


def test_a_partner_gets_the_referral_in_its_language_with_a_valid_xarf_part(analyst) -> None:
    case, trace = criminal_case(analyst, "BE")
    PartnerHotline.objects.update_or_create(
        country="BE", defaults={"name": "Child Focus", "email": "ref@cf.test", "language": "fr"}
    )
    action = Action.objects.create(
        case=case, trace=trace, kind="partner_referral", reference="NFR1", recipient="ref@cf.test"
    )
    message = compose(action).message()
    assert message.get_content_type() == "multipart/report"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "message/feedback-report", "application/json"]
    body = next(message.iter_parts()).get_content()
    assert "Chères et chers collègues" in body and "catégorie britannique B" in body
    json_part = list(message.iter_parts())[2]
    import json

    data = json.loads(json_part.get_content())
    assert xarf.validate(data, schema_dir=SCHEMAS) == []
    assert data["custom"]["uk_category"] == "B" and data["classification"] == "A1"
    assert "evidence" not in data
    assert message["Message-ID"] == "<NFR1@openhotline.test>"


def test_a_host_notice_is_in_french_for_a_belgian_host_and_english_elsewhere(analyst) -> None:
    case, trace = criminal_case(analyst, "BE")
    action = Action.objects.create(
        case=case, trace=trace, kind="notice", reference="NFR2", recipient="abuse@be-host.test"
    )
    assert "Merci de le retirer" in compose(action, "secret").body
    trace.country = "US"
    trace.save()
    action.refresh_from_db()
    body = compose(action, "secret").body
    assert "Please remove it" in body and "/notice/NFR2/removed/secret/" in body
    assert not any(a for a in compose(action).attachments if not hasattr(a, "get_content_type"))


def test_only_police_liaisons_download_packages_and_media_downloads_are_audited(
    analyst, police_liaison
) -> None:
    """Packages are for cases routed to police, and only as a POST (a GET shows the page
    with the buttons; `?media=1` on a link downloads nothing)."""
    import io
    import zipfile

    from openhotline.audit.models import AuditEvent
    from tests.conftest import verified_client

    case, trace = criminal_case(analyst, "GB")
    Action.objects.create(
        case=case, trace=trace, kind="police_referral", reference="NPOL1",
        recipient="cyber@police.test", state="sent",
    )  # fmt: skip
    url = f"/staff/cases/{case.pk}/intelligence-package/"
    assert verified_client(analyst).get(url).status_code == 403
    assert verified_client(analyst).post(url, {"media": "1"}).status_code == 403
    police = verified_client(police_liaison)
    page = police.get(url + "?media=1")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert b"Download with the criminal media" in page.content
    assert not AuditEvent.objects.filter(action__startswith="takedown.media").exists()
    plain = police.post(url)
    with zipfile.ZipFile(io.BytesIO(plain.content)) as archive:
        assert not [n for n in archive.namelist() if n.startswith("media/")]
    with_media = police.post(url, {"media": "1"})
    with zipfile.ZipFile(io.BytesIO(with_media.content)) as archive:
        assert len([n for n in archive.namelist() if n.startswith("media/")]) == 1
    assert AuditEvent.objects.filter(action="takedown.package_downloaded").count() == 1
    event = AuditEvent.objects.get(action="takedown.media_downloaded")
    assert event.actor == police_liaison.username


def test_a_media_download_is_a_csrf_protected_post(analyst, police_liaison) -> None:
    from django.test import Client

    from openhotline.audit.models import AuditEvent
    from tests.conftest import verified_client

    case, trace = criminal_case(analyst, "GB")
    Action.objects.create(
        case=case, trace=trace, kind="police_referral", reference="NPOL2",
        recipient="cyber@police.test", state="sent",
    )  # fmt: skip
    url = f"/staff/cases/{case.pk}/intelligence-package/"
    police = verified_client(police_liaison)
    checked = Client(enforce_csrf_checks=True)
    checked.cookies = police.cookies
    # A page elsewhere that posts the form for the signed-in liaison gets nothing.
    assert checked.post(url, {"media": "1"}).status_code == 403
    assert not AuditEvent.objects.filter(action="takedown.media_downloaded").exists()


def test_a_case_not_routed_to_police_has_no_package(analyst, police_liaison) -> None:
    """A criminal case whose work went to the host (a notice, no police action) is not the
    liaison's to download, with or without media."""
    from openhotline.audit.models import AuditEvent
    from tests.conftest import verified_client

    case, trace = criminal_case(analyst, "GB")
    Action.objects.create(
        case=case, trace=trace, kind="notice", reference="NHOST1",
        recipient="abuse@be-host.test", state="sent",
    )  # fmt: skip
    url = f"/staff/cases/{case.pk}/intelligence-package/"
    police = verified_client(police_liaison)
    for response in (police.get(url), police.post(url), police.post(url, {"media": "1"})):
        assert response.status_code == 409
        assert response["Content-Type"].startswith("text/html")
    assert not AuditEvent.objects.filter(
        action__in=["takedown.media_downloaded", "takedown.package_downloaded"]
    ).exists()
    assert AuditEvent.objects.filter(action="takedown.package_refused").count() == 3
