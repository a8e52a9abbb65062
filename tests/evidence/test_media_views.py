"""Staff see media blurred and grey by default; every view, of any variant, is audited."""

import io

import pytest
from django.test import Client
from PIL import Image

from openhotline.audit.models import AuditEvent
from openhotline.evidence import store
from openhotline.evidence.models import Media
from openhotline.simnet.images import make_jpeg
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def media() -> Media:
    blob = store.put(make_jpeg("view", (800, 600)))
    return Media.objects.create(blob=blob, kind="image", mime="image/jpeg", status="ok")


def test_the_default_view_is_a_small_blurred_greyscale_png(analyst, media: Media) -> None:
    response = verified_client(analyst).get(f"/staff/media/{media.pk}/blurred/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "L" and max(image.size) <= 512
    event = AuditEvent.objects.get(action="media.viewed")
    assert event.actor == analyst.username and event.object_id == str(media.pk)
    assert event.data == {"variant": "blurred"}


def test_the_original_is_served_only_on_explicit_reveal_and_audited(analyst, media: Media) -> None:
    from openhotline.assessment.welfare import reveal
    from openhotline.cases.models import Case

    client = verified_client(analyst)
    # By address alone: refused, and the attempt is on record.
    assert client.get(f"/staff/media/{media.pk}/original/").status_code == 403
    assert AuditEvent.objects.filter(action="media.refused").count() == 1
    shown = reveal(analyst, Case.objects.create(kind="other"), media)
    response = client.get(f"/staff/media/{media.pk}/original/?reveal={shown.token}")
    assert response.content == make_jpeg("view", (800, 600))
    assert response["Content-Type"] == "image/jpeg"
    assert "sandbox" in response["Content-Security-Policy"]
    assert AuditEvent.objects.filter(action="media.viewed", data__variant="original").count() == 1
    assert AuditEvent.objects.filter(action="media.revealed").count() == 1


def test_unknown_variants_and_undecodable_media_show_nothing(analyst, media: Media) -> None:
    client = verified_client(analyst)
    assert client.get(f"/staff/media/{media.pk}/thumbnail/").status_code == 404
    Media.objects.filter(pk=media.pk).update(status="corrupt")
    assert client.get(f"/staff/media/{media.pk}/blurred/").status_code == 404
    assert not AuditEvent.objects.filter(action="media.viewed").exists()


def test_non_staff_see_nothing_and_leave_no_view(member, media: Media) -> None:
    for client in (Client(), verified_client(member)):
        response = client.get(f"/staff/media/{media.pk}/original/")
        assert response.status_code in (302, 403)
    assert not AuditEvent.objects.filter(action="media.viewed").exists()


def test_a_recapture_with_a_pathway_is_queued_and_audited(analyst) -> None:
    from openhotline.cases.models import Case

    Client().post("/report/", {"urls": "http://gallery-one.test/x"})
    case = Case.objects.get()
    client = verified_client(analyst)
    response = client.post(
        f"/staff/cases/{case.pk}/recapture/",
        {"referrer": "http://forum-nl.test/thread/101", "user_agent": "Mobile Safari"},
    )
    assert response.status_code == 302
    latest = case.captures.order_by("-pk").first()
    assert latest is not None and latest.referrer == "http://forum-nl.test/thread/101"
    assert latest.user_agent == "Mobile Safari"
    assert AuditEvent.objects.filter(action="capture.requested", actor=analyst.username).exists()
    bad = client.post(f"/staff/cases/{case.pk}/recapture/", {"referrer": "javascript:alert(1)"})
    assert bad.status_code == 302 and case.captures.count() == 2


def test_the_case_page_shows_each_media_items_hashes(on_simnet, analyst) -> None:
    from openhotline.cases.models import Case
    from openhotline.evidence.capture import run_capture

    Client().post("/report/", {"urls": on_simnet.url("gallery-one.test", "/albums/sunrise")})
    case = Case.objects.get()
    run_capture(case.captures.get().pk)
    html = verified_client(analyst).get(f"/staff/cases/{case.pk}/").content.decode()
    assert (
        html.count("PDQ quality") == case.captures.get().items.filter(media__isnull=False).count()
    )
    assert "SHA-256" in html
