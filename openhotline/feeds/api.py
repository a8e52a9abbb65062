"""Member feed downloads over HTTP: a snapshot, or the changes after a cursor.

Each response carries its signed manifest (`X-Feed-Manifest`, base64 JSON; check it with
`openhotline verify-feed`), an ETag of its bytes (If-None-Match answers 304), and
`X-Feed-Cursor` — the cursor to ask from next. Bodies are JSON Lines or CSV, gzipped when
the client accepts it. Errors are JSON: {"error": code, "detail": message}.
"""

import base64
import csv
import gzip
import io
import json
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from openhotline.feeds import services, signing
from openhotline.feeds.keys import Problem, member_for
from openhotline.feeds.models import AccessLog, FeedName, MemberKey
from openhotline.signals.formats.csv_format import guard

FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
MAX_LIMIT = 10_000


def _problem(problem: Problem) -> JsonResponse:
    return JsonResponse({"error": problem.code, "detail": problem.message}, status=problem.status)


def _render(rows: Iterable[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["seq", "op", "key", "data"])
        for row in rows:
            # The hash-list CSV's guard: a spreadsheet shows such a cell, never runs it.
            key = guard(row["key"])
            writer.writerow([row["seq"], row["op"], key, json.dumps(row["data"], sort_keys=True)])
        return out.getvalue().encode()
    return b"".join(json.dumps(row, sort_keys=True).encode() + b"\n" for row in rows)


def _respond(
    request: HttpRequest, key: MemberKey, name: str, kind: str, rows: list[dict[str, Any]],
    from_seq: int, to_seq: int, more: bool, fmt: str,
) -> HttpResponse:  # fmt: skip
    body = _render(rows, fmt)
    encoding = "gzip" if "gzip" in request.headers.get("Accept-Encoding", "") else "identity"
    if encoding == "gzip":
        body = gzip.compress(body, mtime=0)
    manifest = signing.manifest(
        body, feed=name, kind=kind, format=fmt, encoding=encoding, from_seq=from_seq,
        to_seq=to_seq, count=len(rows), more=more,
    )  # fmt: skip
    etag = f'"{manifest["sha256"]}"'
    _log(key, kind, name, 200, len(rows), len(body))
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=FORMATS[fmt])
        if encoding == "gzip":
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["X-Feed-Cursor"] = str(to_seq)
    response["X-Feed-More"] = "true" if more else "false"
    response["X-Feed-Manifest"] = base64.b64encode(json.dumps(manifest).encode()).decode()
    response["Cache-Control"] = "private, no-cache"
    return response


def _log(key: MemberKey | None, endpoint: str, feed: str, status: int, items: int = 0,
         size: int = 0) -> None:  # fmt: skip
    AccessLog.objects.create(
        key=key, organisation=key.organisation if key else None, endpoint=endpoint, feed=feed,
        status=status, items=items, bytes=size,
    )  # fmt: skip


def _checked(request: HttpRequest, name: str) -> tuple[MemberKey, str]:
    if name not in FeedName.values:
        member_for(request)  # who asks comes first: no key, no word on which feeds exist
        known = ", ".join(FeedName.values)
        raise Problem(404, "no_feed", f"There is no feed {name!r}; feeds: {known}.")
    key = member_for(request, feed=name)
    fmt = request.GET.get("format", "jsonl")
    if fmt not in FORMATS:
        raise Problem(400, "format", f"format must be one of {', '.join(FORMATS)}.")
    return key, fmt


@require_GET
def delta(request: HttpRequest, name: str) -> HttpResponse:
    try:
        key, fmt = _checked(request, name)
        try:
            limit = min(int(request.GET.get("limit", MAX_LIMIT)), MAX_LIMIT)
            if limit < 1:
                raise ValueError
        except ValueError:
            raise Problem(
                400, "limit", f"limit must be a whole number from 1 to {MAX_LIMIT}."
            ) from None
        cursor = request.GET.get("cursor", "")
        try:
            changes, to_seq, more = services.delta(name, cursor, limit=limit)
        except services.CursorError as exc:
            raise Problem(400, "cursor", str(exc)) from None
    except Problem as problem:
        return _problem(problem)
    rows = [{"seq": c.seq, "op": c.op, "key": c.key, "data": c.data} for c in changes]
    return _respond(request, key, name, "delta", rows, int(cursor), to_seq, more, fmt)


@require_GET
def snapshot(request: HttpRequest, name: str) -> HttpResponse:
    """The live items as of a sequence. Built in memory here, which suits the URL and
    keyword lists; the 10-million-entry Hash List needs pre-generated snapshot files."""
    try:
        key, fmt = _checked(request, name)
    except Problem as problem:
        return _problem(problem)
    at, items = services.snapshot(name)
    rows = [{"seq": i.added_seq, "op": "add", "key": i.key, "data": i.data} for i in items]
    return _respond(request, key, name, "snapshot", rows, 0, at, False, fmt)
