"""Capturing reported pages on simnet: pages, media, failures, retries, disguised sites."""

import json

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from openhotline.audit.models import AuditEvent
from openhotline.cases.models import Case, CaseState
from openhotline.evidence import store
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import Capture, CaptureState, ItemState, Media, MediaCheck
from openhotline.evidence.services import request_capture
from openhotline.simnet.runner import Simnet

pytestmark = pytest.mark.django_db


def report(url: str) -> Case:
    response = Client().post(
        "/api/v1/reports", json.dumps({"urls": [url]}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return Case.objects.get(report_items__report__reference=response.json()["reference"])


def capture_of(case: Case) -> Capture:
    return case.captures.order_by("-pk").first()  # type: ignore[return-value]


def test_a_new_case_gets_a_capture_queued_with_it(on_simnet: Simnet) -> None:
    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    capture = capture_of(case)
    assert capture.state == CaptureState.PENDING
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("capture_task") and task.args_kwargs["args"] == [capture.pk]


def test_it_captures_a_page_and_every_image_on_it(on_simnet: Simnet) -> None:
    url = on_simnet.url("gallery-one.test", "/albums/sunrise")
    case = report(url)
    outcome = run_capture(capture_of(case).pk)
    capture = capture_of(case)
    assert capture.state == CaptureState.DONE, (outcome, capture.problem)
    assert capture.status_code == 200 and capture.final_url == url
    assert capture.addresses == ["127.77.1.10"]
    assert capture.hops[0]["address"] == "127.77.1.10"
    page = store.get(capture.page_blob)  # type: ignore[arg-type]
    assert b"<img" in page and len(capture.page_digest) == 64
    items = list(capture.items.all())
    assert items and all(item.state == ItemState.STORED for item in items)
    for item in items:
        assert item.media is not None and item.media.status == MediaCheck.OK
        assert item.media.width and item.media.height
    case.refresh_from_db()
    assert case.state == CaseState.CAPTURED
    assert case.transitions.last().to_state == CaseState.CAPTURED  # type: ignore[union-attr]


def test_running_a_capture_twice_changes_nothing(on_simnet: Simnet) -> None:
    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    capture_id = capture_of(case).pk
    run_capture(capture_id)
    items, media = capture_of(case).items.count(), Media.objects.count()
    assert run_capture(capture_id) == "already handled"
    assert capture_of(case).items.count() == items and Media.objects.count() == media


def test_the_same_image_on_two_pages_is_stored_once(on_simnet: Simnet) -> None:
    run_capture(capture_of(report(on_simnet.url("gallery-one.test", "/albums/sunrise"))).pk)
    before = Media.objects.count()
    # The mirror serves byte-identical images under other URLs.
    mirror = report(on_simnet.url("mirror-ru.test", "/mirror/sunrise"))
    run_capture(capture_of(mirror).pk)
    assert Media.objects.count() == before
    assert capture_of(mirror).items.filter(state=ItemState.STORED).exists()


def test_a_redirect_chain_is_recorded_hop_by_hop(on_simnet: Simnet) -> None:
    case = report(on_simnet.url("redirects.test", "/chain/3"))
    run_capture(capture_of(case).pk)
    capture = capture_of(case)
    assert capture.state == CaptureState.DONE
    assert [hop["status"] for hop in capture.hops] == [302, 302, 302, 200]
    assert capture.final_url.endswith("/chain/0")
    assert capture.items.get().media is not None


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("/to-metadata", "169.254.169.254"), ("/to-loopback?port=9", "127.0.0.1")],
)
def test_a_redirect_to_a_forbidden_address_is_refused_with_a_reason(
    on_simnet: Simnet, path: str, fragment: str
) -> None:
    case = report(on_simnet.url("redirects.test", path))
    run_capture(capture_of(case).pk)
    capture = capture_of(case)
    assert capture.state == CaptureState.REFUSED
    assert fragment in capture.problem
    case.refresh_from_db()
    assert case.state == CaseState.CAPTURE_FAILED
    assert "no retry" in case.transitions.last().reason  # type: ignore[union-attr]
    assert case.captures.count() == 1


def test_a_failed_capture_is_retried_later(on_simnet: Simnet, settings) -> None:
    settings.CAPTURE_RETRY_DELAYS = [60, 600]
    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise").replace(
        "gallery-one.test", "no-such-host.test"))  # fmt: skip
    run_capture(capture_of(case).pk)
    failed = case.captures.get(attempt=1)
    assert failed.state == CaptureState.FAILED and failed.problem
    retry = case.captures.get(attempt=2)
    assert retry.state == CaptureState.PENDING
    task = DBTaskResult.objects.filter(args_kwargs__args=[retry.pk]).get()
    assert task.run_after is not None and task.run_after > failed.finished_at  # type: ignore[operator]
    case.refresh_from_db()
    assert case.state == CaseState.CAPTURE_FAILED
    assert "retry in 60 s" in case.transitions.last().reason  # type: ignore[union-attr]
    run_capture(retry.pk)
    run_capture(case.captures.get(attempt=3).pk)
    assert not case.captures.filter(attempt=4).exists()
    assert "no retry" in case.transitions.last().reason  # type: ignore[union-attr]


def test_hostile_media_is_recorded_and_the_capture_still_completes(
    on_simnet: Simnet, settings
) -> None:
    settings.FETCH_MAX_MEDIA_BYTES = 1_000_000
    settings.FETCH_TOTAL_TIMEOUT = 2
    case = report(on_simnet.url("hostile.test", "/page"))
    run_capture(capture_of(case).pk)
    capture = capture_of(case)
    assert capture.state == CaptureState.DONE
    items = {item.url.split("/")[-1]: item for item in capture.items.all()}
    assert items["fine.jpg"].media.status == MediaCheck.OK  # type: ignore[union-attr]
    assert items["corrupt.jpg"].media.status == MediaCheck.CORRUPT  # type: ignore[union-attr]
    assert items["bomb.png"].media.status == MediaCheck.REFUSED  # type: ignore[union-attr]
    assert "pixel bomb" in items["bomb.png"].media.problem  # type: ignore[union-attr]
    huge = items["huge?bytes=100000000"]
    assert huge.truncated and huge.state == ItemState.SKIPPED and huge.media is None
    slow = items["slow"]
    assert slow.state in (ItemState.FAILED, ItemState.SKIPPED) and slow.problem


def test_a_disguised_site_is_flagged_when_pathways_differ(on_simnet: Simnet, analyst) -> None:
    case = report(on_simnet.url("disguised.test", "/"))
    run_capture(capture_of(case).pk)
    plain = capture_of(case)
    pathway = request_capture(case, referrer="http://forum-nl.test/thread/101")
    run_capture(pathway.pk)
    pathway.refresh_from_db()
    assert pathway.state == CaptureState.DONE
    assert plain.media_set_digest != pathway.media_set_digest
    case.refresh_from_db()
    assert case.possibly_disguised
    assert AuditEvent.objects.filter(action="case.possibly_disguised").count() == 1
    assert case.captures.filter(state=CaptureState.DONE).count() == 2


def test_same_pathway_twice_does_not_flag_a_site(on_simnet: Simnet) -> None:
    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    run_capture(capture_of(case).pk)
    again = request_capture(case, referrer="http://forum-nl.test/thread/101")
    run_capture(again.pk)
    case.refresh_from_db()
    assert not case.possibly_disguised


def test_dns_rebinding_never_reaches_the_second_answer(on_simnet: Simnet) -> None:
    case = report(on_simnet.url("rebind.test", "/page"))
    run_capture(capture_of(case).pk)
    capture = capture_of(case)
    # Whatever the outcome, every connection went to the checked simnet address.
    assert all(hop["address"] in (None, "127.77.9.10") for hop in capture.hops)
    for item in capture.items.all():
        assert "127.0.0.1" not in item.problem or item.state == ItemState.REFUSED


def test_a_capture_whose_worker_died_is_put_back_in_the_queue(on_simnet: Simnet) -> None:
    """GIVEN a capture claimed by a worker that then died (it stays "running")
    WHEN  its watchdog comes due
    THEN  the capture is pending again with a new task, and runs to completion."""
    from openhotline.evidence.capture import _claim, restart_if_stalled

    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    claimed = _claim(capture_of(case).pk)
    assert claimed is not None and claimed.started_at is not None
    watchdog = DBTaskResult.objects.get(task_path__endswith="capture_watchdog_task")
    assert watchdog.run_after is not None and watchdog.run_after > claimed.started_at
    assert run_capture(claimed.pk) == "already handled"  # a second worker keeps off
    assert restart_if_stalled(claimed.pk, "2000-01-01T00:00:00+00:00") == "not stalled"
    assert restart_if_stalled(claimed.pk, claimed.started_at.isoformat()) == "restarted"
    capture = capture_of(case)
    assert capture.state == CaptureState.PENDING and "worker stopped" in capture.problem
    run_capture(capture.pk)
    capture.refresh_from_db()
    assert capture.state == CaptureState.DONE
    assert restart_if_stalled(capture.pk, claimed.started_at.isoformat()) == "not stalled"


def test_a_late_run_cannot_overwrite_the_run_that_replaced_it(on_simnet: Simnet) -> None:
    """GIVEN worker 1 claimed a capture and stalled, so the watchdog handed it on
    WHEN  worker 2 completes it and worker 1 then tries to record its own result
    THEN  worker 2's result stands."""
    from openhotline.evidence import capture as capture_module

    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    first = capture_module._claim(capture_of(case).pk)
    assert first is not None and first.started_at is not None
    late = capture_module._Run(capture=first, started_at=first.started_at,
                               deadline=0, fetcher=capture_module.SafeFetcher())  # fmt: skip
    capture_module.restart_if_stalled(first.pk, first.started_at.isoformat())
    assert run_capture(first.pk).startswith("captured")
    done = capture_of(case)
    from openhotline.evidence.net.fetcher import FetchResult

    outcome = capture_module._finish_unsuccessful(
        late, FetchResult(url=done.requested_url, final_url=done.requested_url),
        None, "connect timeout",
    )  # fmt: skip
    assert outcome.startswith("superseded")
    again = capture_of(case)
    assert again.state == CaptureState.DONE and again.page_digest == done.page_digest
    assert not case.captures.filter(attempt=2).exists()
    case.refresh_from_db()
    assert case.state == CaseState.CAPTURED


def test_a_capture_that_keeps_killing_its_worker_is_given_up(on_simnet: Simnet, settings) -> None:
    from openhotline.evidence.capture import _claim, restart_if_stalled

    settings.CAPTURE_MAX_RESTARTS = 2
    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    outcomes = []
    for _ in range(3):
        claimed = _claim(capture_of(case).pk)
        assert claimed is not None and claimed.started_at is not None
        outcomes.append(restart_if_stalled(claimed.pk, claimed.started_at.isoformat()))
    assert outcomes == ["restarted", "restarted", "gave up"]
    capture = capture_of(case)
    assert (
        capture.state == CaptureState.FAILED and "stopped during this capture 3" in capture.problem
    )
    case.refresh_from_db()
    assert case.state == CaseState.CAPTURE_FAILED


def test_a_reported_image_larger_than_a_page_is_stored_whole(on_simnet: Simnet, settings) -> None:
    settings.FETCH_MAX_PAGE_BYTES = 2048
    case = report(on_simnet.url("gallery-one.test", "/img/sunrise-1.jpg"))
    run_capture(capture_of(case).pk)
    capture = capture_of(case)
    item = capture.items.get()
    assert capture.state == CaptureState.DONE and item.found_in == "direct"
    assert item.state == ItemState.STORED and item.media is not None
    assert item.media.blob.size > 2048 and item.media.status == MediaCheck.OK


def test_captures_do_not_write_reported_urls_to_the_logs(
    on_simnet: Simnet, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    case = report(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    with caplog.at_level(logging.DEBUG):
        run_capture(capture_of(case).pk)
    assert capture_of(case).state == CaptureState.DONE
    assert "gallery-one" not in caplog.text
