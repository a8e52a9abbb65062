"""The member API in the OpenAPI schema: feed snapshots and deltas, the matching API, the
published feed key, member keys (`ohk_…`), rate limits and the JSON problem bodies.

These views are plain Django views (streamed files, signed headers, an in-memory upload
handler), so drf-spectacular cannot read them; this postprocessing hook adds them to the
generated schema (its components are in `openapi_components`). Limits, formats, feed
names, hash types and grade codes are read from the code that enforces them, so the
schema cannot drift from what the views do.
"""

from typing import Any

from django.conf import settings

from openhotline.feeds import match_api, openapi_components
from openhotline.feeds.openapi_components import ref as _ref
from openhotline.feeds.openapi_components import schema_ref as _schema

FEEDS_TAG = "Member feeds"
MATCH_TAG = "Matching"
SECURITY: list[dict[str, list[str]]] = [{"memberKey": []}]
GUIDES = (
    "Guides: [the Hash List's columns and grade codes](/api/docs/hash-list-format.md) "
    "and [what a feed manifest's signature covers and how to verify it]"
    "(/api/docs/feed-signatures.md)."
)


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def _problem(description: str, *, retry: bool = False) -> dict[str, Any]:
    extra = {"headers": {"Retry-After": _ref("headers", "Retry-After")}} if retry else {}
    return _json(_schema("Problem"), description, **extra)


# --- paths --------------------------------------------------------------------------------


def _feed_operation(kind: str) -> dict[str, Any]:
    signed = {
        name: _ref("headers", name)
        for name in ("ETag", "X-Feed-Cursor", "X-Feed-Tag", "X-Feed-More", "X-Feed-Manifest")
    }
    body = {
        "application/x-ndjson": {"schema": _schema("FeedChange")},
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {
            "schema": {
                "type": "object",
                "description": "VICS 2.0 media "
                "file (Hash List, format=vics); a removal is the media object "
                'with "@openhotline.retired": true.',
            }
        },
    }
    params = ["FeedName", "Format", "IfNoneMatch", "AcceptEncoding"]
    if kind == "delta":
        params[1:1] = ["Cursor", "Tag", "Limit"]
        summary = "The changes after a cursor"
        description = (
            "Additions and removals after `cursor`, in order, at most `limit`. Apply them, "
            "then ask again with X-Feed-Cursor and X-Feed-Tag until X-Feed-More is false. "
            "Each page's manifest is signed as served."
        )
        errors = {
            "400": {
                "description": "`format` or `limit` (Problem), or `cursor` "
                "(CursorRefused, with a signed reset).",
                "content": {
                    "application/json": {
                        "schema": {"anyOf": [_schema("Problem"), _schema("CursorRefused")]}
                    }
                },
            }
        }
    else:
        summary = "Every item listed now"
        description = (
            "The live items as of a sequence number (X-Feed-Cursor), each as an `add`. A "
            f"feed of more than {settings.FEED_INLINE_SNAPSHOT_LIMIT:,} items is served from "
            "its newest pre-generated file, whose cursor may be behind the feed: deltas from "
            "it bring a copy up to date. A client that does not take gzip gets that file "
            "gzipped as an attachment (`application/gzip`), still the signed bytes."
        )
        body["application/gzip"] = {"schema": {"type": "string", "format": "binary"}}
        errors = {
            "400": _problem("`format`."),
            "503": _problem("`preparing`: the snapshot file is being made.", retry=True),
        }
    return {
        "tags": [FEEDS_TAG],
        "operationId": f"feed_{kind}",
        "summary": summary,
        "description": description + " " + GUIDES,
        "security": SECURITY,
        "parameters": [_ref("parameters", name) for name in params],
        "responses": {
            "200": {
                "description": "The rows; the manifest, cursor and tag in headers.",
                "headers": {**signed, "Content-Encoding": _ref("headers", "Content-Encoding")},
                "content": body,
            },
            "304": {
                "description": "Not modified (If-None-Match): no body; the headers as "
                "for 200, the manifest signed afresh.",
                "headers": signed,
            },
            **errors,
            "401": _problem("No key, an unknown, revoked or expired key."),
            "403": _problem(
                "`scope` (the key is not for this feed), `licence` (none, or "
                "ended) or `network` (not from the key's networks)."
            ),
            "404": _problem("`no_feed`: no such feed (said only to a valid key)."),
        },
    }


def _match_operation() -> dict[str, Any]:
    return {
        "tags": [MATCH_TAG],
        "operationId": "match",
        "summary": "Match hashes (or an image) against the Hash List",
        "description": (
            "For platforms too small to hold the Hash List: each hash, in order, with the "
            "Hash List entries it matches (live entries of shared, enabled lists, within "
            "each list's threshold, allow-lists applied) and what the licence's tier shows. "
            f"Up to {settings.MATCH_MAX_HASHES} hashes a call, a body of at most "
            f"{match_api.MAX_BODY:,} bytes. Members allowed it may send one image instead "
            "(multipart). Rate limits: calls per key per minute (the membership's figure, "
            f"else {settings.MATCH_CALLS_PER_MINUTE}); "
            f"{settings.MATCH_IMAGE_CONCURRENCY} images per organisation hashed at once. "
            "The hotline logs who asked and how many hashes matched, never the hashes or "
            "the image."
        ),
        "security": SECURITY,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _schema("MatchRequest")},
                "multipart/form-data": {"schema": _schema("MatchImageRequest")},
            },
        },
        "responses": {
            "200": _json(
                _schema("MatchResponse"),
                "Each hash's matches.",
                headers={"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}},
            ),
            "400": _problem(
                "`json` (not JSON), `hashes` (missing, or bad ones: every one in "
                "`errors`, nothing answered), `image` (none, two, or not "
                "hashable)."
            ),
            "401": _problem("No key, an unknown, revoked or expired key."),
            "403": _problem(
                "`scope` (the key is not for matching), `licence` (the "
                "organisation has not been given the matching API), `images` "
                "(hashes only), `network`."
            ),
            "413": _problem(
                f"`too_many` (over {settings.MATCH_MAX_HASHES} hashes) or "
                "`too_big` (body or image over its limit)."
            ),
            "415": _problem("`content_type`: send application/json or multipart/form-data."),
            "429": _problem(
                "`rate` (this key's calls this minute) or `busy` (the "
                "organisation's images being hashed).",
                retry=True,
            ),
        },
    }


def _key_file_operation() -> dict[str, Any]:
    return {
        "tags": [FEEDS_TAG],
        "operationId": "feed_key",
        "summary": "The public keys that sign feed manifests",
        "description": "Every published Ed25519 key in PEM, each after a line "
        "`Key id: <id> (current|next|previous)`; the signing key first. Pin this file. " + GUIDES,
        "security": [],
        "responses": {
            "200": {
                "description": "The key file.",
                "content": {"application/x-pem-file": {"schema": {"type": "string"}}},
            }
        },
    }


def add_member_api(
    result: dict[str, Any], generator: Any, request: Any, public: bool, **kwargs: Any
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    components = result.setdefault("components", {})
    components.setdefault("securitySchemes", {})["memberKey"] = openapi_components.SECURITY_SCHEME
    components.setdefault("schemas", {}).update(openapi_components.schemas())
    components.setdefault("parameters", {}).update(openapi_components.parameters())
    components.setdefault("headers", {}).update(openapi_components.headers())
    paths = result.setdefault("paths", {})
    paths["/api/v1/feeds/{name}/snapshot"] = {"get": _feed_operation("snapshot")}
    paths["/api/v1/feeds/{name}/delta"] = {"get": _feed_operation("delta")}
    paths["/api/v1/match"] = {"post": _match_operation()}
    paths["/.well-known/openhotline-feed-key.pem"] = {"get": _key_file_operation()}
    result["tags"] = [
        *result.get("tags", []),
        {
            "name": FEEDS_TAG,
            "description": "Snapshots and deltas of the member feeds, signed. " + GUIDES,
        },
        {"name": MATCH_TAG, "description": "The matching API."},
    ]
    return result


def hoist_branch_defaults(
    result: dict[str, Any], generator: Any, request: Any, public: bool, **kwargs: Any
) -> dict[str, Any]:
    """drf-spectacular writes a blank-allowed slug's default ("") into the `oneOf` branch
    with the slug pattern, where "" does not match it (OpenAPI validators refuse the
    schema); the default belongs to the property, which "" satisfies."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            branches = node.get("oneOf")
            if isinstance(branches, list) and "default" not in node:
                defaults = [b.pop("default") for b in branches if isinstance(b, dict)
                            and "default" in b]  # fmt: skip
                if defaults:
                    node["default"] = defaults[0]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result.get("components", {}).get("schemas", {}))
    return result
