"""Welfare: each person's blur, greyscale and autoplay; counted reveals; a soft limit that
prompts a break; every reveal an audit event."""

import io
import re

import pytest
from PIL import Image

from openhotline.assessment.models import AssessorProfile, Reveal
from openhotline.audit.models import AuditEvent
from tests.assessment.factory import make_case, picture
from tests.assessment.test_case_screen import HTMX, claim, lead_ids
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def test_the_blurred_preview_follows_the_persons_settings(analyst) -> None:
    case = make_case([picture(1)])
    client = verified_client(analyst)
    claim(client)
    (lead,) = lead_ids(client, case.pk)
    grey = Image.open(io.BytesIO(client.get(f"/staff/media/{lead}/blurred/").content))
    assert grey.mode == "L"
    response = client.post(
        "/staff/assess/welfare/",
        {"blur_strength": "30", "hourly_reveal_limit": "2", "daily_reveal_limit": ""},
    )
    assert response.status_code == 302
    profile = AssessorProfile.objects.get(user=analyst)
    assert (profile.blur_strength, profile.greyscale, profile.autoplay) == (30, False, False)
    colour = Image.open(io.BytesIO(client.get(f"/staff/media/{lead}/blurred/").content))
    assert colour.mode == "RGB"
    assert AuditEvent.objects.filter(action="assessment.welfare_changed").count() == 1


def test_bad_welfare_settings_are_refused_with_reasons(analyst) -> None:
    client = verified_client(analyst)
    response = client.post("/staff/assess/welfare/", {"blur_strength": "0"})
    assert response.status_code == 422 and b"from 4 to 40" in response.content
    response = client.post(
        "/staff/assess/welfare/", {"blur_strength": "12", "hourly_reveal_limit": "lots"}
    )
    assert response.status_code == 422 and b"whole number" in response.content
    assert AssessorProfile.objects.get(user=analyst).blur_strength == 12


def test_a_soft_limit_prompts_a_break_and_counters_show_exactly_the_reveals(analyst) -> None:
    AssessorProfile.objects.create(user=analyst, hourly_reveal_limit=2)
    case = make_case([picture(1), picture(2), picture(3)])
    client = verified_client(analyst)
    claim(client)
    leads = lead_ids(client, case.pk)
    for lead in leads[:2]:
        fragment = client.post(
            f"/staff/assess/cases/{case.pk}/media/{lead}/reveal/", headers=HTMX
        ).content.decode()
        assert "revealed-media" in fragment
    prompt = client.post(
        f"/staff/assess/cases/{case.pk}/media/{leads[2]}/reveal/", headers=HTMX
    ).content.decode()
    assert "Please take a break" in prompt and "Reveal anyway" in prompt
    assert "revealed-media" not in prompt
    assert Reveal.objects.count() == 2
    anyway = client.post(
        f"/staff/assess/cases/{case.pk}/media/{leads[2]}/reveal/",
        {"anyway": "1"},
        headers=HTMX,
    ).content.decode()
    assert "revealed-media" in anyway
    page = client.get(f"/staff/assess/cases/{case.pk}/").content.decode()
    assert re.search(r"Reveals: 3 of 2 in the last hour · 3 of 600 today", page)
    assert AuditEvent.objects.filter(action="media.revealed", actor=analyst.username).count() == 3


def test_a_revealed_video_is_muted_with_speed_controls_and_no_autoplay(analyst) -> None:
    from openhotline.assessment.welfare import reveal
    from openhotline.evidence.models import Media

    case = make_case([picture(1)])
    media = Media.objects.get()
    Media.objects.filter(pk=media.pk).update(kind="video")
    client = verified_client(analyst)
    claim(client)
    fragment = client.post(
        f"/staff/assess/cases/{case.pk}/media/{media.pk}/reveal/", headers=HTMX
    ).content.decode()
    assert "<video" in fragment and " muted" in fragment and "autoplay" not in fragment
    assert 'data-rate="2"' in fragment
    assert reveal is not None


def test_the_limit_help_says_what_an_empty_field_means_after_a_limit_is_saved(analyst) -> None:
    """Saving 3 an hour made the help read "(empty: 3)": the saved limit, not what an empty
    field gives (the hotline's limit)."""
    client = verified_client(analyst)
    saved = client.post(
        "/staff/assess/welfare/",
        {"blur_strength": "12", "greyscale": "1", "hourly_reveal_limit": "3"},
    )
    assert saved.status_code == 302
    page = client.get("/staff/assess/welfare/").content.decode()
    assert "(empty: 3)" not in page and "empty: 600" not in page
    assert "Leave empty for the hotline's usual limit (150 an hour)." in page
    assert "Leave empty for the hotline's usual limit (600 a day)." in page
    assert re.search(r'name="hourly_reveal_limit" min="1" value="3"', page)
    assert re.search(r'name="daily_reveal_limit" min="1" value=""', page)
    # Each box sits in its label (the page's CSS puts them on one line: label.check).
    assert re.search(r'<label class="check"><input type="checkbox" name="greyscale"', page)
    # An error names the field in words, not its form name.
    refused = client.post(
        "/staff/assess/welfare/", {"blur_strength": "12", "daily_reveal_limit": "x"}
    )
    assert b"Reveals per day: Give a whole number" in refused.content
    assert b"daily_reveal_limit:" not in refused.content
