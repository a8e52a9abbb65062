"""Every media item a capture stores gets every hash type that applies, once."""

import hashlib
import json

import pytest
from django.test import Client

from openhotline.cases.models import Case
from openhotline.evidence import store
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import Media, MediaCheck
from openhotline.signals.models import MediaHash
from openhotline.signals.services import hash_media
from openhotline.signals.types import PDQ
from openhotline.simnet.runner import Simnet

pytestmark = pytest.mark.django_db


def capture(url: str) -> Case:
    response = Client().post(
        "/api/v1/reports", json.dumps({"urls": [url]}), content_type="application/json"
    )
    case = Case.objects.get(report_items__report__reference=response.json()["reference"])
    run_capture(case.captures.get().pk)
    return case


def test_captured_images_get_exact_and_pdq_hashes(on_simnet: Simnet) -> None:
    capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    media = list(Media.objects.filter(status=MediaCheck.OK))
    assert media
    for item in media:
        hashes = {h.hash_type: h for h in item.hashes.all()}
        assert {"md5", "sha1", "sha256", "pdq"} <= set(hashes)
        data = store.get(item.blob)
        assert hashes["md5"].value == hashlib.md5(data).hexdigest()  # noqa: S324
        assert hashes["sha256"].value == hashlib.sha256(data).hexdigest()
        assert PDQ.is_valid(hashes["pdq"].value) and hashes["pdq"].quality is not None
        assert hashes["sha256"].lookup_key == hashes["sha256"].value
    # The mirror's identical images are the same media: hashed once, not twice.
    before = MediaHash.objects.count()
    capture(on_simnet.url("mirror-ru.test", "/mirror/sunrise"))
    assert MediaHash.objects.count() == before


def test_media_that_cannot_be_hashed_says_why(on_simnet: Simnet, settings) -> None:
    settings.FETCH_MAX_MEDIA_BYTES = 1_000_000
    settings.FETCH_TOTAL_TIMEOUT = 2
    capture(on_simnet.url("hostile.test", "/page"))
    corrupt = Media.objects.get(status=MediaCheck.CORRUPT)
    rows = {h.hash_type: h for h in corrupt.hashes.all()}
    assert rows["sha256"].value  # exact hashes of the bytes are always possible
    assert rows["pdq"].value == "" and rows["pdq"].note.startswith("not computed")
    assert not rows["pdq"].usable_for_matching


def test_hashing_twice_adds_nothing(on_simnet: Simnet) -> None:
    capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    item = Media.objects.filter(status=MediaCheck.OK).first()
    assert item is not None
    count = MediaHash.objects.count()
    hash_media(item.pk, store.get(item.blob), item.kind)
    assert MediaHash.objects.count() == count
