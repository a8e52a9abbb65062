"""Blurred previews come from a sealed preview base made at capture, not from decoding
the original in the web process on every view.

GIVEN a captured page of benign images
WHEN  staff view the blurred previews, with decoding made impossible in the web process
THEN  every preview is served (grey, blurred in the person's strength), from the base.
"""

import io
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from openhotline.assessment.models import AssessorProfile
from openhotline.cases.models import Case
from openhotline.evidence import decoding, store
from openhotline.evidence import media as media_module
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import Media, MediaCheck
from openhotline.simnet.images import make_jpeg
from openhotline.simnet.runner import Simnet
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any decode of an original, here or in the worker, fails the test."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an original was decoded to show a preview")

    for name in ("inspect", "preview", "preview_base", "examine"):
        monkeypatch.setattr(media_module, name, forbidden)
    monkeypatch.setattr(decoding, "examine", forbidden)


def captured_media(on_simnet: Simnet) -> tuple[Case, list[Media]]:
    Client().post("/report/", {"urls": on_simnet.url("gallery-one.test", "/albums/sunrise")})
    case = Case.objects.get()
    run_capture(case.captures.get().pk)
    media = list(Media.objects.filter(status=MediaCheck.OK).select_related("preview_blob"))
    assert len(media) >= 2
    return case, media


def test_a_capture_seals_a_preview_base_and_views_never_decode_the_original(
    on_simnet: Simnet, analyst, monkeypatch: pytest.MonkeyPatch
) -> None:
    _case, media = captured_media(on_simnet)
    for item in media:
        assert item.preview_blob is not None
        base = Image.open(io.BytesIO(store.get(item.preview_blob)))
        assert base.format == "JPEG" and max(base.size) <= 512
    no_decoding(monkeypatch)
    client = verified_client(analyst)
    for item in media:
        response = client.get(f"/staff/media/{item.pk}/blurred/")
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        shown = Image.open(io.BytesIO(response.content))
        assert shown.mode == "L" and max(shown.size) <= 512


def test_each_person_gets_their_own_blur_from_the_same_base(
    on_simnet: Simnet, analyst, qa_reviewer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _case, media = captured_media(on_simnet)
    AssessorProfile.objects.create(user=analyst, blur_strength=4, greyscale=True)
    AssessorProfile.objects.create(user=qa_reviewer, blur_strength=40, greyscale=False)
    no_decoding(monkeypatch)
    path = f"/staff/media/{media[0].pk}/blurred/"
    light = Image.open(io.BytesIO(verified_client(analyst).get(path).content))
    heavy = Image.open(io.BytesIO(verified_client(qa_reviewer).get(path).content))
    assert (light.mode, heavy.mode) == ("L", "RGB")
    # A stronger blur leaves less detail: fewer distinct grey levels along a row.
    heavy_grey = heavy.convert("L")
    row = light.size[1] // 2
    detail_light = len({light.getpixel((x, row)) for x in range(light.size[0])})
    detail_heavy = len({heavy_grey.getpixel((x, row)) for x in range(heavy.size[0])})
    assert detail_heavy < detail_light


def test_media_captured_before_bases_gets_one_on_first_view_and_keeps_it(
    analyst, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = store.put(make_jpeg("older", (800, 600)))
    media = Media.objects.create(blob=blob, kind="image", mime="image/jpeg", status="ok")
    client = verified_client(analyst)
    assert client.get(f"/staff/media/{media.pk}/blurred/").status_code == 200
    media.refresh_from_db()
    assert media.preview_blob is not None
    no_decoding(monkeypatch)
    response = client.get(f"/staff/media/{media.pk}/blurred/")
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).mode == "L"


def test_an_older_item_over_the_budget_shows_no_preview_and_stays_revealable(
    analyst, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = store.put(make_jpeg("older-slow", (800, 600)))
    media = Media.objects.create(blob=blob, kind="image", mime="image/jpeg", status="ok")

    def over_budget(data: bytes, **kwargs: Any) -> media_module.Examined:
        facts = media_module.MediaFacts(
            "image", "image/jpeg", "JPEG", MediaCheck.OVER_BUDGET, "decode budget exceeded"
        )
        return media_module.Examined(facts)

    monkeypatch.setattr(decoding, "examine", over_budget)
    assert verified_client(analyst).get(f"/staff/media/{media.pk}/blurred/").status_code == 404
    media.refresh_from_db()
    assert media.preview_blob is None and media.status == MediaCheck.OK
