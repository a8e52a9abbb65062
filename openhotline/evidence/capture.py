"""Capturing a case's URL: fetch the page safely, seal it, find and fetch its media, seal
and check each, and move the case on. Safe to run twice (a capture runs once).

Contract: `run_capture(capture_id)` claims a pending capture, does all network work outside
database transactions, then records the outcome atomically. Failures that may pass
(timeouts, DNS failures, 5xx) schedule a new attempt per CAPTURE_RETRY_DELAYS; refusals
(policy) and exhausted retries leave the case "capture failed" with the reason.
"""

import hashlib
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.audit.services import record
from openhotline.cases.models import Case, CaseState
from openhotline.cases.services import transition
from openhotline.evidence import media as media_checks
from openhotline.evidence import store
from openhotline.evidence.extract import decode_html, find_media
from openhotline.evidence.models import (
    Capture,
    CaptureItem,
    CaptureState,
    ItemState,
    Media,
)
from openhotline.evidence.net.fetcher import ErrorKind, FetchResult, SafeFetcher


@dataclass
class _Outcome:
    items: list[CaptureItem] = field(default_factory=list)
    total_bytes: int = 0


def run_capture(capture_id: int) -> str:
    capture = _claim(capture_id)
    if capture is None:
        return "already handled"
    started = time.monotonic()
    fetcher = SafeFetcher()
    page = fetcher.fetch(
        capture.requested_url,
        max_bytes=settings.FETCH_MAX_PAGE_BYTES,
        user_agent=capture.user_agent,
        referrer=capture.referrer or None,
        accept_language=capture.accept_language or None,
        proxy=_proxy_for(capture.requested_url),
    )
    notes = []
    if page.error_kind == ErrorKind.TLS:
        # Hostile sites often have broken certificates; the evidence matters more than
        # the certificate, and we send nothing secret. Say so on the capture.
        page = SafeFetcher(verify=False).fetch(
            capture.requested_url,
            max_bytes=settings.FETCH_MAX_PAGE_BYTES,
            user_agent=capture.user_agent,
            referrer=capture.referrer or None,
            accept_language=capture.accept_language or None,
        )
        notes.append("the TLS certificate did not verify; captured without verification")
    _record_page(capture, page)
    capture.problem = "; ".join(notes)
    error = page.error
    if not error and page.status is not None and page.status >= 500:
        error = f"the server answered HTTP {page.status}"
    if page.refused or error:
        return _finish_unsuccessful(capture, page.refused, error, started)
    outcome = _capture_media(capture, page, fetcher)
    return _finish(capture, page, outcome, started)


def _claim(capture_id: int) -> Capture | None:
    from openhotline.evidence.tasks import capture_watchdog_task

    with transaction.atomic():
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if capture is None or capture.state != CaptureState.PENDING:
            return None
        capture.state = CaptureState.RUNNING
        capture.started_at = timezone.now()
        capture.save(update_fields=["state", "started_at"])
        # If this worker dies mid-capture, the watchdog puts the capture back in the queue.
        capture_watchdog_task.using(
            run_after=capture.started_at + timedelta(seconds=settings.CAPTURE_STALL_SECONDS)
        ).enqueue(capture.pk, capture.started_at.isoformat())
    return capture


def restart_if_stalled(capture_id: int, started_at: str) -> str:
    """Re-queue a capture still running long after it started: its worker died."""
    from openhotline.evidence.tasks import capture_task

    with transaction.atomic():
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if (
            capture is None
            or capture.state != CaptureState.RUNNING
            or capture.started_at is None
            or capture.started_at.isoformat() != started_at
        ):
            return "not stalled"
        capture.state = CaptureState.PENDING
        capture.problem = f"restarted: the worker stopped during the run begun {started_at}"
        capture.save(update_fields=["state", "problem"])
        capture_task.enqueue(capture.pk)
    return "restarted"


def _proxy_for(url: str) -> str | None:
    host = url.split("/")[2].split(":")[0]
    return settings.ONION_PROXY or None if host.endswith(".onion") else None


def _record_page(capture: Capture, page: FetchResult) -> None:
    capture.final_url = page.final_url or ""
    capture.status_code = page.status
    capture.hops = [
        {
            "url": hop.url,
            "status": hop.status,
            "address": hop.address,
            "ms": round(hop.elapsed_ms, 1),
        }
        for hop in page.hops
    ]
    capture.headers = [[name, value] for name, value in page.headers]
    capture.addresses = list(page.addresses)
    capture.page_truncated = page.truncated


def _capture_media(capture: Capture, page: FetchResult, fetcher: SafeFetcher) -> _Outcome:
    outcome = _Outcome(total_bytes=len(page.body or b""))
    content_type = dict((k.lower(), v) for k, v in page.headers).get("content-type", "")
    found = []
    kind, _mime, _fmt = media_checks.sniff(page.body or b"")
    if kind in ("image", "video"):
        # The URL itself is a picture or a video: it is the media.
        outcome.items.append(_store_media(capture, page.final_url, "direct", page, outcome))
        return outcome
    found = find_media(decode_html(page.body or b"", content_type), page.final_url)
    for index, item in enumerate(found):
        if index >= settings.CAPTURE_MAX_MEDIA:
            outcome.items.append(CaptureItem(
                capture=capture, url=item.url, found_in=item.found_in, state=ItemState.SKIPPED,
                problem=f"more than {settings.CAPTURE_MAX_MEDIA} media on the page"))  # fmt: skip
            continue
        remaining = settings.CAPTURE_MAX_TOTAL_BYTES - outcome.total_bytes
        if remaining <= 0:
            outcome.items.append(CaptureItem(
                capture=capture, url=item.url, found_in=item.found_in, state=ItemState.SKIPPED,
                problem="the capture reached its total size limit"))  # fmt: skip
            continue
        result = fetcher.fetch(
            item.url,
            max_bytes=min(settings.FETCH_MAX_MEDIA_BYTES, remaining),
            user_agent=capture.user_agent,
            referrer=page.final_url,
            accept_language=capture.accept_language or None,
            proxy=_proxy_for(item.url),
        )
        outcome.items.append(_store_media(capture, item.url, item.found_in, result, outcome))
    return outcome


def _store_media(
    capture: Capture, url: str, found_in: str, result: FetchResult, outcome: _Outcome
) -> CaptureItem:
    item = CaptureItem(
        capture=capture, url=url[:2048], found_in=found_in, status_code=result.status
    )
    if result.refused:
        item.state, item.problem = ItemState.REFUSED, result.refused[:500]
        return item
    if result.error or result.status is None or result.status >= 400:
        item.state = ItemState.FAILED
        item.problem = (result.error or f"HTTP {result.status}")[:500]
        return item
    body = result.body or b""
    outcome.total_bytes += len(body) if found_in != "direct" else 0
    if result.truncated:
        item.truncated = True
        item.state = ItemState.SKIPPED
        item.problem = f"larger than the limit; only {len(body):,} bytes were read"
        return item
    facts = media_checks.inspect(body)
    blob = store.put(body)
    item.media, _ = Media.objects.get_or_create(
        blob=blob,
        defaults={
            "kind": facts.kind, "mime": facts.mime, "format": facts.format,
            "width": facts.width, "height": facts.height, "frames": facts.frames,
            "duration_seconds": facts.duration_seconds, "status": facts.check,
            "problem": facts.problem[:500],
        },
    )  # fmt: skip
    item.state = ItemState.STORED
    return item


def _finish(capture: Capture, page: FetchResult, outcome: _Outcome, started: float) -> str:
    body = page.body or b""
    page_blob = store.put(body)
    stored = sorted(item.media.blob.name for item in outcome.items if item.media is not None)
    with transaction.atomic():
        capture.page_blob = page_blob
        capture.page_digest = hashlib.sha256(body).hexdigest()
        capture.media_set_digest = hashlib.sha256("\n".join(stored).encode()).hexdigest()
        capture.total_bytes = outcome.total_bytes
        capture.state = CaptureState.DONE
        capture.finished_at = timezone.now()
        capture.elapsed_ms = (time.monotonic() - started) * 1000
        capture.save()
        CaptureItem.objects.bulk_create(outcome.items, ignore_conflicts=True)
        case = Case.objects.get(pk=capture.case_id)
        if case.state in (CaseState.RECEIVED, CaseState.CAPTURE_FAILED):
            transition(case, CaseState.CAPTURED, actor=None, reason=f"capture {capture.pk}")
        _compare_pathways(capture)
    return f"captured {len(stored)} media"


def _finish_unsuccessful(
    capture: Capture, refused: str | None, error: str | None, started: float
) -> str:
    from openhotline.evidence.services import request_capture

    retry_in = None
    if error and capture.attempt <= len(settings.CAPTURE_RETRY_DELAYS):
        retry_in = settings.CAPTURE_RETRY_DELAYS[capture.attempt - 1]
    with transaction.atomic():
        capture.state = CaptureState.REFUSED if refused else CaptureState.FAILED
        capture.problem = (refused or error or "")[:1000]
        capture.finished_at = timezone.now()
        capture.elapsed_ms = (time.monotonic() - started) * 1000
        capture.save()
        case = Case.objects.get(pk=capture.case_id)
        if retry_in is not None:
            request_capture(
                case, referrer=capture.referrer, user_agent=capture.user_agent,
                attempt=capture.attempt + 1, delay_seconds=retry_in,
            )  # fmt: skip
        reason = capture.problem + (f"; retry in {retry_in} s" if retry_in else "; no retry")
        if case.state != CaseState.CAPTURED:
            transition(case, CaseState.CAPTURE_FAILED, actor=None, reason=reason[:500])
    return f"{capture.state}: {reason}"


def _compare_pathways(capture: Capture) -> None:
    """Flag a possibly disguised site: the same URL showed different pages to visitors
    arriving by different pathways (referrer or user agent)."""
    others = Capture.objects.filter(case_id=capture.case_id, state=CaptureState.DONE).exclude(
        pk=capture.pk
    )
    for other in others:
        if (other.referrer, other.user_agent) == (capture.referrer, capture.user_agent):
            continue
        if (other.page_digest, other.media_set_digest) != (
            capture.page_digest,
            capture.media_set_digest,
        ):
            updated = Case.objects.filter(pk=capture.case_id, possibly_disguised=False).update(
                possibly_disguised=True
            )
            if updated:
                record(
                    "case.possibly_disguised",
                    actor=None,
                    obj=capture.case,
                    data={"captures": [other.pk, capture.pk]},
                )
            return
