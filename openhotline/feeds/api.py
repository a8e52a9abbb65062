"""Member feed downloads over HTTP: a snapshot, or the changes after a cursor.

Each response carries its signed manifest (`X-Feed-Manifest`, base64 JSON; check it with
`openhotline verify-feed`), an ETag of its bytes (If-None-Match answers 304), and
`X-Feed-Cursor` — the cursor to ask from next — with `X-Feed-Tag` (also the manifest's
`to_tag`) to send with it as `tag=`: a cursor from another history of the feed, after the
hotline restored its database, is then refused rather than followed. Bodies are JSON
Lines or CSV (and VICS for the Hash List), gzipped when the client accepts it. The Hash
List shows each member what its licence's tier allows. A big feed's snapshot is its
newest pre-generated file (`exports`), streamed from disk; its cursor may be behind the
feed, and the deltas from it bring the copy up to date. Errors are JSON: {"error": code,
"detail": message}.

Every manifest is signed as it is served (`signing.served`), with the feed's head
(`head_seq`, `head_tag`), the tag of the cursor the page starts from (`from_tag`) and the
time (`signed_at`): a client refuses pages that would move its copy back or leave it
where it is while the feed has moved on. A refused cursor (400 "cursor") carries a signed
`reset` naming the cursor and tag refused; a client starts again only on that.
"""

import base64
import gzip
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.http import require_GET

from openhotline.feeds import exports, hash_list, render, services, signing
from openhotline.feeds.keys import Problem, licence_of, member_for
from openhotline.feeds.models import AccessLog, FeedName, MemberKey, Tier
from openhotline.feeds.tasks import export_task

MAX_LIMIT = 10_000


def problem_response(problem: Problem) -> JsonResponse:
    body: dict[str, Any] = {"error": problem.code, "detail": problem.message}
    if problem.errors is not None:
        body["errors"] = problem.errors
    response = JsonResponse(body, status=problem.status)
    if problem.retry_after is not None:
        response["Retry-After"] = str(problem.retry_after)
    return response


def _gzip_ok(request: HttpRequest) -> bool:
    """Whether Accept-Encoding takes gzip (`gzip;q=0` refuses it)."""
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def _head(name: str, before: int, to_seq: int = -1, to_tag: str = "") -> tuple[int, str]:
    """The feed's head as signed with a page: its last change read `before` the page was
    (so a delta that stops without `more` always ends at the head; read after, a change
    made meanwhile would look like a page stopping short), or the page's own end if it
    went further."""
    if to_seq >= before:
        return to_seq, to_tag
    return before, services.tag_of(services.feed(name).pk, before)


def _headers[R: HttpResponseBase](response: R, manifest: dict[str, Any], more: bool) -> R:
    response["ETag"] = f'"{manifest["sha256"]}"'
    response["X-Feed-Cursor"] = str(manifest["to_seq"])
    response["X-Feed-More"] = "true" if more else "false"
    response["X-Feed-Tag"] = str(manifest.get("to_tag", ""))  # files made before tags: none
    response["X-Feed-Manifest"] = base64.b64encode(json.dumps(manifest).encode()).decode()
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Accept-Encoding, Authorization"
    return response


def _not_modified(request: HttpRequest, manifest: dict[str, Any]) -> bool:
    return request.headers.get("If-None-Match") == f'"{manifest["sha256"]}"'


def _respond(
    request: HttpRequest, key: MemberKey, name: str, kind: str, rows: list[render.Row],
    from_seq: int, to_seq: int, more: bool, fmt: str, tier: str, head: int,
    from_tag: str = "", remember: bool = False,
) -> HttpResponse:  # fmt: skip
    body, count = render.to_bytes(name, fmt, rows)
    to_tag = services.tag_of(services.feed(name).pk, to_seq)
    encoding = "gzip" if _gzip_ok(request) else "identity"
    decoded: dict[str, Any] = {}
    if encoding == "gzip":
        decoded = {"content_sha256": hashlib.sha256(body).hexdigest(), "content_bytes": len(body)}
        body = gzip.compress(body, compresslevel=6, mtime=0)
    manifest = signing.manifest(
        body, feed=name, kind=kind, format=fmt, encoding=encoding, from_seq=from_seq,
        to_seq=to_seq, to_tag=to_tag, count=count, more=more, tier=tier, **decoded,
    )  # fmt: skip
    if remember:
        cache.set(_inline_memo(request, name, tier, fmt, to_seq, to_tag), manifest, 3600)
    head_seq, head_tag = _head(name, head, to_seq, to_tag)
    manifest = signing.served(manifest, head_seq=head_seq, head_tag=head_tag, from_tag=from_tag)
    if _not_modified(request, manifest):
        log(key, kind, name, 304, count)
        return _headers(HttpResponse(status=304), manifest, more)
    log(key, kind, name, 200, count, len(body))
    response = HttpResponse(body, content_type=render.CONTENT_TYPES[fmt])
    if encoding == "gzip":
        response["Content-Encoding"] = "gzip"
    return _headers(response, manifest, more)


def log(key: MemberKey | None, endpoint: str, feed: str, status: int, items: int = 0,
        size: int = 0, *, matched: int = 0) -> None:  # fmt: skip
    AccessLog.objects.create(
        key=key, organisation=key.organisation if key else None, endpoint=endpoint, feed=feed,
        status=status, items=items, bytes=size, matched=matched,
    )  # fmt: skip


def _checked(request: HttpRequest, name: str) -> tuple[MemberKey, str, str]:
    """The key, format and tier of a feed request; a Problem if any is wrong."""
    if name not in FeedName.values:
        member_for(request)  # who asks comes first: no key, no word on which feeds exist
        known = ", ".join(FeedName.values)
        raise Problem(404, "no_feed", f"There is no feed {name!r}; feeds: {known}.")
    key = member_for(request, feed=name)
    fmt = request.GET.get("format", "jsonl")
    if fmt not in render.formats_of(name):
        raise Problem(400, "format", f"format must be one of {', '.join(render.formats_of(name))}.")
    tier = exports.ALL
    if name == FeedName.HASH_LIST:
        licence = licence_of(key, name)
        tier = licence.tier if licence is not None else Tier.BASIC
    return key, fmt, tier


def _shown(name: str, tier: str, data: dict[str, Any]) -> dict[str, Any]:
    return hash_list.for_tier(data, tier) if name == FeedName.HASH_LIST else data


@require_GET
def delta(request: HttpRequest, name: str) -> HttpResponse:
    try:
        key, fmt, tier = _checked(request, name)
        try:
            limit = min(int(request.GET.get("limit", MAX_LIMIT)), MAX_LIMIT)
            if limit < 1:
                raise ValueError
        except ValueError:
            raise Problem(
                400, "limit", f"limit must be a whole number from 1 to {MAX_LIMIT}."
            ) from None
        cursor = request.GET.get("cursor", "")
        head = services.feed(name).last_seq  # before the delta: see _head
        try:
            changes, to_seq, more = services.delta(
                name, cursor, limit=limit, tag=request.GET.get("tag")
            )
        except services.CursorError as exc:
            return _refused_cursor(name, cursor, request.GET.get("tag", ""), str(exc))
    except Problem as problem:
        return problem_response(problem)
    rows = [(c.seq, c.op, c.key, _shown(name, tier, c.data)) for c in changes]
    from_tag = services.tag_of(services.feed(name).pk, int(cursor))
    return _respond(request, key, name, "delta", rows, int(cursor), to_seq, more, fmt, tier,
                    head, from_tag)  # fmt: skip


def _refused_cursor(name: str, cursor: str, tag: str, detail: str) -> JsonResponse:
    """400 "cursor", with the signed reset a client needs before it drops its cursor."""
    head_seq, head_tag = _head(name, services.feed(name).last_seq)
    signed = signing.reset(name, cursor[:40], tag[:40], detail, head_seq=head_seq,
                           head_tag=head_tag)  # fmt: skip
    return JsonResponse({"error": "cursor", "detail": detail, "reset": signed}, status=400)


@require_GET
def snapshot(request: HttpRequest, name: str) -> HttpResponseBase:
    """The live items as of a sequence: made now for a small feed, the newest file for a
    big one."""
    try:
        key, fmt, tier = _checked(request, name)
        the_feed = services.feed(name)
        if the_feed.live_count > settings.FEED_INLINE_SNAPSHOT_LIMIT:
            return _from_file(request, key, name, tier, fmt)
    except Problem as problem:
        return problem_response(problem)
    if request.headers.get("If-None-Match"):
        # A member polling is answered from the manifest remembered for this feed's
        # state, without building up to FEED_INLINE_SNAPSHOT_LIMIT items again.
        at = the_feed.last_seq
        memo = _inline_memo(request, name, tier, fmt, at, services.tag_of(the_feed.pk, at))
        known = cache.get(memo)
        if known is not None and _not_modified(request, known):
            log(key, "snapshot", name, 304, int(known["count"]))
            fresh = signing.served(known, head_seq=at, head_tag=known.get("to_tag", ""))
            return _headers(HttpResponse(status=304), fresh, False)
    at, items = services.snapshot(name)
    rows = [(i.added_seq, "add", i.key, _shown(name, tier, i.data)) for i in items]
    return _respond(request, key, name, "snapshot", rows, 0, at, False, fmt, tier, at,
                    remember=True)  # fmt: skip


def _inline_memo(request: HttpRequest, name: str, tier: str, fmt: str, at: int, tag: str) -> str:
    """The cache key of an inline snapshot's manifest: the same bytes for as long as the
    feed's last change (and its tag: a restored database reuses numbers) stays."""
    return f"feeds:inline:{name}:{tier}:{fmt}:{int(_gzip_ok(request))}:{at}:{tag}"


def _from_file(
    request: HttpRequest, key: MemberKey, name: str, tier: str, fmt: str
) -> HttpResponseBase:
    current = exports.newest(name, tier, fmt)
    if exports.is_stale(name, current) and cache.add(f"feeds:export:{name}:{tier}:{fmt}", 1, 900):
        transaction.on_commit(lambda: export_task.enqueue(name, tier, fmt))
    if current is None:
        raise Problem(
            503, "preparing", f"The {name} snapshot is being prepared; ask again later.",
            retry_after=120,
        )  # fmt: skip
    head_seq, head_tag = _head(
        name,
        services.feed(name).last_seq,
        current.manifest["to_seq"],
        current.manifest.get("to_tag", ""),
    )
    manifest = signing.served(current.manifest, head_seq=head_seq, head_tag=head_tag)
    if _not_modified(request, manifest):
        log(key, "snapshot", name, 304, int(manifest["count"]))
        return _headers(HttpResponse(status=304), manifest, False)
    log(key, "snapshot", name, 200, int(manifest["count"]), int(manifest["bytes"]))
    try:
        handle = open(current.path, "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError:  # pruned between finding and opening it: ask again
        raise Problem(503, "preparing", "The snapshot was just replaced; ask again.",
                      retry_after=1) from None  # fmt: skip
    response = FileResponse(handle)
    if _gzip_ok(request):
        response["Content-Type"] = render.CONTENT_TYPES[fmt]
        response["Content-Encoding"] = "gzip"
    else:
        # Still the signed bytes: a client that cannot take gzip gets the .gz file itself.
        response["Content-Type"] = "application/gzip"
        response["Content-Disposition"] = f'attachment; filename="{name}-{tier}.{fmt}.gz"'
    return _headers(response, manifest, False)
