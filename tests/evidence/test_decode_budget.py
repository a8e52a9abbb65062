"""Decoding captured media has a time budget and a memory cap, in another process.

GIVEN a reported URL serving a benign video of large static frames (seconds to decode)
WHEN  it is captured with a one-second decode budget
THEN  decoding is stopped, the video is kept sealed with "decode budget exceeded", its
      exact hashes are stored, and an analyst can still reveal it as a download.
"""

import hashlib
import io
import json
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from PIL import Image

from openhotline.assessment.welfare import reveal
from openhotline.cases.models import Case
from openhotline.evidence import decoding, store
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import CaptureState, ItemState, MediaCheck
from openhotline.simnet.images import make_jpeg
from tests.conftest import verified_client
from tests.evidence.media_samples import tiny_video
from tests.evidence.netfixtures import ALLOWED_NET, FakeDNS, HTTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def slow_video() -> bytes:
    """Thirty 4K frames: about three seconds to check and hash on a quiet machine."""
    return tiny_video(30, (3840, 2160))


@pytest.fixture
def video_host(settings, slow_video: bytes) -> Iterator[str]:
    with FakeDNS() as dns, HTTPServer("127.77.7.1") as server:
        server.routes["/clip.mp4"] = lambda h: h.reply(
            200, slow_video, {"Content-Type": "video/mp4"}
        )
        dns.add("videos.test", "127.77.7.1")
        settings.DNS_SERVERS = [dns.endpoint]
        settings.FETCH_ALLOW_NETS = [ALLOWED_NET]
        settings.FETCH_TOTAL_TIMEOUT = 10
        yield f"http://videos.test:{server.port}/clip.mp4"


def report(url: str) -> Case:
    response = Client().post(
        "/api/v1/reports", json.dumps({"urls": [url]}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return Case.objects.get(report_items__report__reference=response.json()["reference"])


def test_a_slow_video_is_stopped_at_the_budget_and_kept_sealed(
    settings, video_host: str, slow_video: bytes, analyst
) -> None:
    settings.DECODE_SECONDS = 1
    decoding.examine(make_jpeg("warm-up", (32, 32)))  # start a worker outside the budget
    case = report(video_host)
    started = time.monotonic()
    run_capture(case.captures.get().pk)
    elapsed = time.monotonic() - started
    capture = case.captures.get()
    assert capture.state == CaptureState.DONE, capture.problem
    item = capture.items.get()
    assert item.state == ItemState.STORED and item.media is not None
    media = item.media
    assert media.status == MediaCheck.OVER_BUDGET
    assert media.problem.startswith("decode budget exceeded: decoding took longer than 1 s")
    assert media.preview_blob is None
    assert store.get(media.blob) == slow_video  # not lost
    # Exact hashes need no decoding: a known file still matches.
    hashes = {h.hash_type: h for h in media.hashes.all()}
    assert hashes["sha256"].value == hashlib.sha256(slow_video).hexdigest()
    assert hashes["video"].value == "" and "decode budget exceeded" in hashes["video"].note
    # The run did not wait for the decoder (which needs seconds more than the budget).
    assert elapsed < 1 + 4, elapsed
    # No preview, but a reveal opens the original as a download.
    client = verified_client(analyst)
    assert client.get(f"/staff/media/{media.pk}/blurred/").status_code == 404
    token = reveal(analyst, case, media).token
    response = client.get(f"/staff/media/{media.pk}/original/?reveal={token}")
    assert response.status_code == 200 and response.content == slow_video
    assert response["Content-Disposition"] == "attachment"
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_same_video_within_budget_is_decoded(settings, video_host: str) -> None:
    """The control: with time enough, the same file is checked, hashed and previewed."""
    settings.DECODE_SECONDS = 120
    case = report(video_host)
    run_capture(case.captures.get().pk)
    media = case.captures.get().items.get().media
    assert media is not None and media.status == MediaCheck.OK, media.problem if media else ""
    assert media.preview_blob is not None
    assert media.hashes.get(hash_type="video").value


def test_a_decoder_that_needs_too_much_memory_is_refused_and_the_next_file_decodes(
    settings,
) -> None:
    settings.DECODE_MEMORY_MB = 512
    settings.MEDIA_MAX_PIXELS = settings.MEDIA_MAX_TOTAL_PIXELS = 200_000_000
    out = io.BytesIO()
    Image.new("RGB", (12_000, 12_000), (40, 90, 160)).save(out, format="PNG")
    examined = decoding.examine(out.getvalue())
    # 432 MB of pixels does not fit beside the worker itself in 512 MiB.
    assert examined.facts.check == MediaCheck.REFUSED
    assert examined.facts.problem == "decoding needed more memory than is available"
    assert examined.preview_base is None
    after = decoding.examine(make_jpeg("after", (64, 48)))
    assert after.facts.check == MediaCheck.OK and after.preview_base


def test_a_dead_worker_is_replaced(settings) -> None:
    first = decoding.examine(make_jpeg("one", (64, 48)))
    for worker in decoding._idle:
        worker.process.kill()
        worker.process.join()
    second = decoding.examine(make_jpeg("two", (64, 48)))
    assert first.facts.check == second.facts.check == MediaCheck.OK
