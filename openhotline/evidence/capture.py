"""Capturing a case's URL: fetch the page safely, seal it, find and fetch its media, seal
and check each, and move the case on. Safe to run twice (a capture runs once).

Contract: `run_capture(capture_id)` claims a pending capture, does all network work outside
database transactions, then records the outcome atomically — only if the capture is still
its own (a watchdog may have handed it to another worker meanwhile). Failures that may
pass (timeouts, DNS failures, 5xx) schedule a new attempt per CAPTURE_RETRY_DELAYS;
refusals (policy) and exhausted retries leave the case "capture failed" with the reason.
A run stops fetching media after CAPTURE_MAX_SECONDS, well before the watchdog's
CAPTURE_STALL_SECONDS, so a live run is never taken for a dead one.
"""

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.audit.services import record
from openhotline.cases.models import Case, CaseState
from openhotline.cases.services import transition
from openhotline.evidence import decoding, services, store, tasks
from openhotline.evidence import media as media_checks
from openhotline.evidence.extract import decode_html, find_media_budgeted
from openhotline.evidence.models import (
    Blob,
    Capture,
    CaptureItem,
    CaptureState,
    ItemState,
    Media,
    MediaKind,
)
from openhotline.evidence.net.fetcher import ErrorKind, FetchResult, SafeFetcher
from openhotline.signals.matching import match_media, suggest_for_case
from openhotline.signals.services import store_hashes
from openhotline.signals.types import compute_all

logger = logging.getLogger(__name__)

# A capture may move the case only out of these states, never back from a later one.
_OPEN_STATES: set[str] = {CaseState.RECEIVED, CaseState.CAPTURE_FAILED}


@dataclass
class _Run:
    capture: Capture
    started_at: datetime
    deadline: float
    fetcher: SafeFetcher
    notes: list[str] = field(default_factory=list)
    items: list[CaptureItem] = field(default_factory=list)
    total_bytes: int = 0

    def fetch(self, url: str, max_bytes: int, referrer: str | None) -> FetchResult:
        return self.fetcher.fetch(
            url,
            max_bytes=max_bytes,
            user_agent=self.capture.user_agent,
            referrer=referrer,
            accept_language=self.capture.accept_language or None,
            proxy=proxy_for(self.capture.requested_url, url),
        )


def run_capture(capture_id: int) -> str:
    capture = _claim(capture_id)
    if capture is None or capture.started_at is None:
        return "already handled"
    run = _Run(
        capture=capture,
        started_at=capture.started_at,
        deadline=time.monotonic() + settings.CAPTURE_MAX_SECONDS,
        fetcher=SafeFetcher(),
    )
    referrer = capture.referrer or None
    page = run.fetch(capture.requested_url, settings.FETCH_MAX_PAGE_BYTES, referrer)
    if page.error_kind == ErrorKind.TLS:
        # Hostile sites often have broken certificates; the evidence matters more than the
        # certificate, and we send nothing secret. Say so on the capture, and keep this
        # fetcher for the page's media too.
        run.fetcher = SafeFetcher(verify=False)
        page = run.fetch(capture.requested_url, settings.FETCH_MAX_PAGE_BYTES, referrer)
        run.notes.append("the TLS certificate did not verify; captured without verification")
    kind, _mime, _fmt = media_checks.sniff(page.body)
    if kind in ("image", "video") and page.truncated:
        # The URL is itself a picture or video: it gets the media limit, not the page's.
        page = run.fetch(capture.requested_url, settings.FETCH_MAX_MEDIA_BYTES, referrer)
    error = page.error
    if not error and page.status is not None and page.status >= 500:
        error = f"the server answered HTTP {page.status}"
    if page.refused or error:
        return _finish_unsuccessful(run, page, page.refused, error)
    if kind in ("image", "video"):
        run.items.append(_store_media(run, page.final_url, "direct", page))
    else:
        _capture_media(run, page)
    return _finish(run, page)


def _claim(capture_id: int) -> Capture | None:
    with transaction.atomic():
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if capture is None or capture.state != CaptureState.PENDING:
            return None
        capture.state = CaptureState.RUNNING
        capture.started_at = timezone.now()
        capture.save(update_fields=["state", "started_at"])
        # If this worker dies mid-capture, the watchdog puts the capture back in the queue.
        tasks.capture_watchdog_task.using(
            run_after=capture.started_at + timedelta(seconds=settings.CAPTURE_STALL_SECONDS)
        ).enqueue(capture.pk, capture.started_at.isoformat())
    return capture


def restart_if_stalled(capture_id: int, started_at: str) -> str:
    """Re-queue a capture still running long after it started: its worker died. After
    CAPTURE_MAX_RESTARTS such deaths the capture fails, so a poisonous page cannot loop."""
    with transaction.atomic():
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if (
            capture is None
            or capture.state != CaptureState.RUNNING
            or capture.started_at is None
            or capture.started_at.isoformat() != started_at
        ):
            return "not stalled"
        capture.restarts += 1
        if capture.restarts > settings.CAPTURE_MAX_RESTARTS:
            capture.state = CaptureState.FAILED
            capture.problem = f"the worker stopped during this capture {capture.restarts} times"
            capture.finished_at = timezone.now()
            capture.save(update_fields=["state", "problem", "restarts", "finished_at"])
            transition(
                capture.case, CaseState.CAPTURE_FAILED, actor=None,
                reason=capture.problem + "; no retry", only_from=_OPEN_STATES,
            )  # fmt: skip
            return "gave up"
        capture.state = CaptureState.PENDING
        capture.problem = f"restarted: the worker stopped during the run begun {started_at}"
        capture.save(update_fields=["state", "problem", "restarts"])
        tasks.capture_task.enqueue(capture.pk)
    return "restarted"


def proxy_for(page_url: str, url: str) -> str | None:
    """The onion proxy for every fetch of an onion capture (page, redirects, and media on
    clear-web hosts too: a direct fetch would tie the hotline's address to the onion
    page), and for onion media on a clear-web page; otherwise none."""
    if _is_onion(page_url) or _is_onion(url):
        return settings.ONION_PROXY or None
    return None


def _is_onion(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.rstrip(".").endswith(".onion")


def _capture_media(run: _Run, page: FetchResult) -> None:
    content_type = {k.lower(): v for k, v in page.headers}.get("content-type", "")
    run.total_bytes = len(page.body)
    search = find_media_budgeted(decode_html(page.body, content_type), page.final_url)
    if search.cut_short:
        run.notes.append(search.cut_short)
    found = search.media
    # A hostile page may list millions of addresses: past the media limit, as many again
    # are recorded as skipped (so an analyst sees what was left), the rest only counted.
    unrecorded = max(0, len(found) - 2 * settings.CAPTURE_MAX_MEDIA)
    if unrecorded:
        run.notes.append(f"{unrecorded:,} more media addresses on the page were not recorded")
        found = found[: 2 * settings.CAPTURE_MAX_MEDIA]
    for index, item in enumerate(found):
        skip = None
        if index >= settings.CAPTURE_MAX_MEDIA:
            skip = f"more than {settings.CAPTURE_MAX_MEDIA} media on the page"
        elif run.total_bytes >= settings.CAPTURE_MAX_TOTAL_BYTES:
            skip = "the capture reached its total size limit"
        elif time.monotonic() >= run.deadline:
            skip = f"the capture reached its time limit ({settings.CAPTURE_MAX_SECONDS} s)"
        if skip:
            run.items.append(CaptureItem(
                capture=run.capture, url=item.url, found_in=item.found_in,
                state=ItemState.SKIPPED, problem=skip))  # fmt: skip
            continue
        remaining = settings.CAPTURE_MAX_TOTAL_BYTES - run.total_bytes
        result = run.fetch(item.url, min(settings.FETCH_MAX_MEDIA_BYTES, remaining), page.final_url)
        run.items.append(_store_media(run, item.url, item.found_in, result))


def _store_media(run: _Run, url: str, found_in: str, result: FetchResult) -> CaptureItem:
    item = CaptureItem(
        capture=run.capture, url=url[:2048], found_in=found_in, status_code=result.status
    )
    if result.refused:
        item.state, item.problem = ItemState.REFUSED, result.refused[:500]
        return item
    if result.error or result.status is None or result.status >= 400:
        item.state = ItemState.FAILED
        item.problem = (result.error or f"HTTP {result.status}")[:500]
        return item
    body = result.body
    if found_in != "direct":
        run.total_bytes += len(body)
    if result.truncated:
        item.truncated = True
        item.state = ItemState.SKIPPED
        item.problem = f"larger than the limit; only {len(body):,} bytes were read"
        return item
    blob = store.put(body)
    known = Media.objects.filter(blob=blob).first()
    if known is not None and known.hashes.exists():
        item.media = known  # decoded when first seen; no need to pay for it again
    else:
        item.media = _new_media(blob, body)
    # Every time, not only for new media: lists grow between captures.
    try:
        match_media(item.media.pk)
    except Exception as exc:  # a capture is never lost to a matching fault
        logger.exception("matching media %s failed", item.media.pk)
        run.notes.append(f"matching failed for media {item.media.pk}: {exc!r}"[:300])
    item.state = ItemState.STORED
    return item


def _new_media(blob: Blob, body: bytes) -> Media:
    """Decode once, within the budget: facts, hashes and the sealed preview base."""
    examined = decoding.examine(body)
    facts = examined.facts
    preview_blob = store.put(examined.preview_base) if examined.preview_base else None
    media, _created = Media.objects.get_or_create(
        blob=blob,
        defaults={
            "kind": facts.kind, "mime": facts.mime, "format": facts.format,
            "width": facts.width, "height": facts.height, "frames": facts.frames,
            "duration_seconds": facts.duration_seconds, "status": facts.check,
            "problem": facts.problem[:500], "preview_blob": preview_blob,
        },
    )  # fmt: skip
    hashes = examined.hashes
    if hashes is None:
        # Over budget or crashed: the exact hashes need no decoding, so known files still
        # match; the perceptual hash that applies says why it is missing.
        hashes = compute_all(body, "other")
        if facts.kind in (MediaKind.IMAGE, MediaKind.VIDEO):
            perceptual = "pdq" if facts.kind == MediaKind.IMAGE else "video"
            hashes.failures[perceptual] = facts.problem
    store_hashes(media.pk, hashes)
    return media


def _still_ours(run: _Run) -> Capture | None:
    """The capture, locked, if this run still owns it; None if a watchdog handed it on."""
    capture = Capture.objects.select_for_update().get(pk=run.capture.pk)
    if capture.state != CaptureState.RUNNING or capture.started_at != run.started_at:
        return None
    return capture


def _apply_page(capture: Capture, page: FetchResult, run: _Run) -> None:
    capture.final_url = page.final_url[:2048]
    capture.status_code = page.status
    capture.hops = [
        {"url": hop.url, "status": hop.status, "address": hop.address,
         "ms": round(hop.elapsed_ms, 1)}
        for hop in page.hops
    ]  # fmt: skip
    capture.headers = [[name, value] for name, value in page.headers]
    capture.addresses = list(page.addresses)
    capture.page_truncated = page.truncated
    capture.finished_at = timezone.now()
    capture.elapsed_ms = (timezone.now() - run.started_at).total_seconds() * 1000


def _finish(run: _Run, page: FetchResult) -> str:
    page_blob = store.put(page.body)
    stored = sorted(item.media.blob.name for item in run.items if item.media is not None)
    with transaction.atomic():
        capture = _still_ours(run)
        if capture is None:
            return "superseded: another run owns this capture now"
        _apply_page(capture, page, run)
        capture.page_blob = page_blob
        capture.page_digest = hashlib.sha256(page.body).hexdigest()
        capture.media_set_digest = hashlib.sha256("\n".join(stored).encode()).hexdigest()
        capture.total_bytes = run.total_bytes
        capture.state = CaptureState.DONE
        capture.problem = "; ".join(run.notes)[:1000]
        capture.save()
        CaptureItem.objects.bulk_create(run.items, ignore_conflicts=True)
        transition(
            capture.case, CaseState.CAPTURED, actor=None, reason=f"capture {capture.pk}",
            only_from=_OPEN_STATES,
        )  # fmt: skip
        _compare_pathways(capture)
        suggest_for_case(capture.case_id)
    return f"captured {len(stored)} media"


def _finish_unsuccessful(
    run: _Run, page: FetchResult, refused: str | None, error: str | None
) -> str:
    retry_in = None
    if error and run.capture.attempt <= len(settings.CAPTURE_RETRY_DELAYS):
        retry_in = settings.CAPTURE_RETRY_DELAYS[run.capture.attempt - 1]
    with transaction.atomic():
        capture = _still_ours(run)
        if capture is None:
            return "superseded: another run owns this capture now"
        _apply_page(capture, page, run)
        capture.state = CaptureState.REFUSED if refused else CaptureState.FAILED
        capture.problem = "; ".join([*run.notes, refused or error or ""])[:1000]
        capture.save()
        case = Case.objects.get(pk=capture.case_id)
        if retry_in is not None:
            services.request_capture(
                case, referrer=capture.referrer, user_agent=capture.user_agent,
                attempt=capture.attempt + 1, delay_seconds=retry_in,
            )  # fmt: skip
        reason = capture.problem + (f"; retry in {retry_in} s" if retry_in else "; no retry")
        transition(
            case, CaseState.CAPTURE_FAILED, actor=None, reason=reason[:500],
            only_from=_OPEN_STATES,
        )  # fmt: skip
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
