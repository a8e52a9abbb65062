"""The matching API, for platforms too small to hold the Hash List themselves.

    POST /api/v1/match
    Authorization: Bearer ohk_…            (a key for matching, of a member allowed it)
    {"hashes": [{"type": "pdq", "value": "…"}, {"type": "md5", "value": "…"}, …]}

answers, for each hash in order, the Hash List entries it matches: the entry's key, the
distance, and what the member's Hash List licence tier shows (hashes only without one).
Only what members may have is searched: live entries of enabled lists shared with
members, each within its list's threshold, allow-lists applied. Up to MATCH_MAX_HASHES
per call (more: 413); one bad hash refuses the call with every bad one's position and
reason (400), so nothing is half-answered.

A member allowed to may instead send an image (multipart, field "image"): it is read
into memory by a handler that never spills to disk, hashed, matched and dropped.

Calls are limited per key per minute (429 with Retry-After), and images per organisation
being hashed at once (MATCH_IMAGE_CONCURRENCY: decoding up to 50 megapixels holds a web
worker; one more gets 429 with Retry-After). The access log keeps who, when, how many
hashes and how many matched — never the hashes or the image.
"""

import io
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadhandler import FileUploadHandler, UploadFileException
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from openhotline.evidence.decoding import examine
from openhotline.evidence.models import MediaCheck
from openhotline.feeds import hash_list
from openhotline.feeds.api import log, problem_response
from openhotline.feeds.keys import Problem, licence_of, member_for
from openhotline.feeds.models import Feed, FeedItem, FeedName, MemberKey, Membership, Tier
from openhotline.signals.matching import find_many
from openhotline.signals.types import HASH_TYPES, BadHash, ComputeResult, HashValue

TYPES = ("md5", "sha1", "sha256", "pdq", "photodna")
MAX_BODY = 512 * 1024
MAX_ERRORS = 50


class _ImageTooBig(UploadFileException):
    pass


class _OneImageOnly(UploadFileException):
    pass


class _InMemory(FileUploadHandler):
    """Keeps an uploaded file in memory, whatever its size, up to `limit`; never a
    temporary file."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.buffer = io.BytesIO()
        self.files = 0

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.files += 1
        if field_name != "image" or self.files > 1:
            raise _OneImageOnly
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > self.limit:
            raise _ImageTooBig
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> Any:
        from django.core.files.uploadedfile import InMemoryUploadedFile

        self.buffer.seek(0)
        return InMemoryUploadedFile(
            self.buffer, self.field_name, self.file_name, self.content_type, file_size,
            self.charset, self.content_type_extra,
        )  # fmt: skip


def _throttle(key: MemberKey) -> None:
    membership = Membership.objects.filter(organisation=key.organisation).first()
    own = membership.calls_per_minute if membership is not None else None
    # 0 is a figure (a member suspended), not "use the default".
    limit = own if own is not None else settings.MATCH_CALLS_PER_MINUTE
    now = time.time()
    window = int(now // 60)
    slot = f"feeds:match-rate:{key.pk}:{window}"
    cache.add(slot, 0, 120)
    if cache.incr(slot) > limit:
        wait = max(1, 60 - int(now % 60))
        raise Problem(
            429, "rate", f"This key may make {limit} matching calls a minute; wait {wait} s.",
            retry_after=wait,
        )  # fmt: skip


# A slot outlives its call only if the worker died mid-call: then it frees itself.
IMAGE_SLOT_SECONDS = 300
IMAGE_RETRY_AFTER = 5


@contextmanager
def image_slot(organisation_id: int) -> Iterator[None]:
    """One of the organisation's MATCH_IMAGE_CONCURRENCY slots, held while an image is
    hashed: each slot is a cache entry taken with the atomic `add` and deleted after (a
    counter could be left high by a dead worker, or go below zero once it expired)."""
    token = secrets.token_hex(8)
    for n in range(settings.MATCH_IMAGE_CONCURRENCY):
        slot = f"feeds:match-image:{organisation_id}:{n}"
        if cache.add(slot, token, IMAGE_SLOT_SECONDS):
            break
    else:
        raise Problem(
            429, "busy", f"Your organisation may have {settings.MATCH_IMAGE_CONCURRENCY} "
            "images matched at once; send this one when another is answered.",
            retry_after=IMAGE_RETRY_AFTER,
        )  # fmt: skip
    try:
        yield
    finally:
        if cache.get(slot) == token:  # not one that expired and was taken again
            cache.delete(slot)


def _parse(body: bytes) -> list[HashValue]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Problem(400, "json", "The body is not JSON (or nests too deep).") from None
    hashes = data.get("hashes") if isinstance(data, dict) else None
    if not isinstance(hashes, list) or not hashes:
        raise Problem(400, "hashes", 'Send {"hashes": [{"type": …, "value": …}, …]}.')
    limit = settings.MATCH_MAX_HASHES
    if len(hashes) > limit:
        raise Problem(413, "too_many", f"{len(hashes)} hashes: at most {limit} per call.")
    values: list[HashValue] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(hashes):
        problem = None
        if not isinstance(item, dict):
            problem = {"index": index, "reason": "each hash is an object with type and value"}
        elif item.get("type") not in TYPES:
            problem = {"index": index, "field": "type",
                       "reason": f"type must be one of {', '.join(TYPES)}"}  # fmt: skip
        else:
            try:
                values.append(HashValue(item["type"], HASH_TYPES[item["type"]].normalize(
                    item.get("value"))))  # fmt: skip
            except BadHash as exc:
                problem = {"index": index, "field": "value", "reason": f"{exc.problem}: "
                           f"{exc.reason}", "position": exc.position}  # fmt: skip
        if problem is not None:
            errors.append(problem)
    if errors:
        raise Problem(400, "hashes", f"{len(errors)} of {len(hashes)} hashes are not valid.",
                      errors=errors[:MAX_ERRORS])  # fmt: skip
    return values


def _image_values(request: HttpRequest) -> tuple[list[HashValue], dict[str, Any]]:
    limit = settings.MATCH_MAX_IMAGE_BYTES
    request.upload_handlers = [_InMemory(limit)]
    try:
        upload = request.FILES.get("image")
    except _ImageTooBig:
        raise Problem(413, "too_big", f"Images may be at most {limit:,} bytes.") from None
    except _OneImageOnly:
        raise Problem(400, "image", 'Send one file, in the multipart field "image".') from None
    if upload is None:
        raise Problem(400, "image", 'Send the image as the multipart field "image".')
    data = upload.read()
    upload.close()
    # Decoded in the budgeted worker (evidence.decoding), never in the web process: a
    # member's picture is as untrusted as a captured one.
    examined = examine(data, preview=False)
    del data
    if examined.facts.check == MediaCheck.OVER_BUDGET:
        raise Problem(400, "image", f"The image could not be hashed ({examined.facts.problem}).")
    result = examined.hashes or ComputeResult()
    values = [v for v in result.values if v.hash_type in TYPES]
    if not values:
        reasons = "; ".join(f"{k}: {v}" for k, v in sorted(result.failures.items()))
        raise Problem(400, "image", f"The image could not be hashed ({reasons or 'unknown'}).")
    # A file that is no picture still has file hashes; what could not be made is said.
    failures = {k: v for k, v in sorted(result.failures.items()) if k in TYPES}
    return values, {"hashes": {v.hash_type: v.value for v in values}, "not_hashed": failures}


def _shown(values: list[HashValue], tier: str) -> list[dict[str, Any]]:
    found = find_many(values)
    keys = {hash_list.key_of(c.entry.pk) for candidates in found for c in candidates}
    feed = Feed.objects.filter(name=FeedName.HASH_LIST).first()
    # By feed and key only, so the unique (feed, key) index serves it; filtering on
    # removed_seq in SQL made SQLite walk the live-items index instead (14 s at 10M).
    listed = {
        key: data
        for key, data, removed_seq in FeedItem.objects.filter(
            feed=feed, key__in=list(keys)
        ).values_list("key", "data", "removed_seq")
        if removed_seq is None
    }
    results = []
    for index, (value, candidates) in enumerate(zip(values, found, strict=True)):
        matches = []
        for c in candidates:
            key = hash_list.key_of(c.entry.pk)
            if c.allowed_by is not None or key not in listed:
                continue  # allow-listed, or in a list members are not given
            if not c.entry.hash_list.share_with_members:
                continue  # un-shared: its items are withdrawn in the background, hide now
            matches.append({
                "entry": key, "distance": c.distance, "threshold": c.threshold,
                **hash_list.for_tier(listed[key], tier),
            })  # fmt: skip
        matches.sort(key=lambda m: (m["distance"], m["entry"]))
        results.append({"index": index, "type": value.hash_type, "matches": matches})
    return results


@csrf_exempt
@require_POST
def match(request: HttpRequest) -> HttpResponse:
    key: MemberKey | None = None
    try:
        key = member_for(request, match=True)
        _throttle(key)
        size = int(request.headers.get("Content-Length") or 0)
        image = request.content_type == "multipart/form-data"
        if not image and size > MAX_BODY:
            raise Problem(413, "too_big", f"The body may be at most {MAX_BODY:,} bytes.")
        computed: dict[str, Any] | None = None
        if image:
            membership = Membership.objects.filter(organisation=key.organisation).first()
            if membership is None or not membership.can_send_images:
                raise Problem(403, "images", "Your organisation may send hashes, not images.")
            with image_slot(key.organisation_id):
                values, computed = _image_values(request)
        elif request.content_type != "application/json":
            raise Problem(415, "content_type", "Send application/json (or an image).")
        else:
            values = _parse(request.body)
    except Problem as problem:
        if key is not None:
            log(key, "match", "", problem.status)
        return problem_response(problem)
    licence = licence_of(key, FeedName.HASH_LIST)
    tier = licence.tier if licence is not None else Tier.BASIC
    results = _shown(values, tier)
    matched = sum(1 for r in results if r["matches"])
    log(key, "match", "", 200, len(values), matched=matched)
    body: dict[str, Any] = {"checked": len(values), "matched": matched, "results": results}
    if computed is not None:
        body["image"] = computed
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
