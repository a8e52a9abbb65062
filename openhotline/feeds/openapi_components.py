"""The components of the member API's OpenAPI description (`feeds.openapi`): the member
key's security scheme, the feed headers and parameters, and the body schemas, each read
from the code that enforces it (limits, formats, feed names, hash types, grade codes)."""

from typing import Any

from django.conf import settings

from openhotline import grading
from openhotline.feeds import hash_list, match_api, render
from openhotline.feeds.api import MAX_LIMIT
from openhotline.feeds.models import FeedName, Tier


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> dict[str, str]:
    return ref("schemas", name)


SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "ohk_<key id>_<secret>",
    "description": (
        "A member API key, made by the member's users on the member portal (/members/): "
        "`Authorization: Bearer ohk_<key id>_<secret>`. It is shown once; the hotline keeps "
        "only a digest. A key is scoped to feeds the organisation holds a licence for "
        "and/or the matching API, may expire, may be limited to networks, and may be "
        "revoked. Missing, unknown, revoked or expired: 401. Outside its scope, licence or "
        "networks: 403."
    ),
}


def headers() -> dict[str, Any]:
    def header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"description": description, "schema": schema or {"type": "string"}}

    return {
        "ETag": header(
            "The SHA-256 of the bytes as served, in quotes: send it back as "
            "If-None-Match to get 304 when nothing changed."
        ),
        "X-Feed-Cursor": header(
            "The sequence number to ask the next delta from (`cursor=`); also the "
            "manifest's `to_seq`.",
            {"type": "string", "pattern": "^[0-9]+$"},
        ),
        "X-Feed-Tag": header(
            "The tag of that cursor (16 hex digits; empty at 0): send it back as `tag=` so "
            "that a cursor from another history of the feed is refused, not followed. Also "
            "the manifest's `to_tag`.",
            {"type": "string", "pattern": "^([0-9a-f]{16})?$"},
        ),
        "X-Feed-More": header(
            "`true` when more changes follow this page: ask again at once from X-Feed-Cursor.",
            {"type": "string", "enum": ["true", "false"]},
        ),
        "X-Feed-Manifest": header(
            "The signed manifest of this response: base64 of its JSON (schema "
            "`FeedManifest`). Verify it with the key at /.well-known/openhotline-feed-key.pem "
            "(see /api/docs/feed-signatures.md).",
            {"type": "string", "format": "byte"},
        ),
        "Retry-After": header("Seconds to wait before asking again.", {"type": "integer"}),
        "Content-Encoding": header(
            "`gzip` when the request's Accept-Encoding takes it (the manifest then also "
            "gives the decoded bytes' `content_sha256` and `content_bytes`).",
            {"type": "string", "enum": ["gzip"]},
        ),
    }


def parameters() -> dict[str, Any]:
    formats = list(render.formats_of(FeedName.HASH_LIST))
    return {
        "FeedName": {
            "name": "name",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": list(FeedName.values)},
            "description": "The feed: "
            + "; ".join(f"`{value}` ({label})" for value, label in FeedName.choices),
        },
        "Format": {
            "name": "format",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": formats, "default": "jsonl"},
            "description": "JSON Lines (`application/x-ndjson`), CSV, or VICS 2.0 JSON "
            "(the Hash List only). Another format for the feed: 400 `format`.",
        },
        "Cursor": {
            "name": "cursor",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
            "description": "The changes after this sequence number: 0 for all, then the "
            "last response's X-Feed-Cursor (a snapshot's, to follow it). Not a number, "
            "or beyond the feed's last change: 400 `cursor` with a signed `reset`.",
        },
        "Tag": {
            "name": "tag",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
            "description": "The X-Feed-Tag that came with the cursor. A cursor whose "
            "number the hotline's restored database reused for other changes is then "
            "refused (400 `cursor` with a signed `reset`: take a new snapshot).",
        },
        "Limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": MAX_LIMIT,
            },
            "description": f"Changes per page, 1 to {MAX_LIMIT} (more is read as "
            f"{MAX_LIMIT}); not a whole number: 400 `limit`.",
        },
        "IfNoneMatch": {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "The ETag of the copy you hold: 304 (no body) if it is still "
            "the answer.",
        },
        "AcceptEncoding": {
            "name": "Accept-Encoding",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "example": "gzip"},
            "description": "`gzip` to have the body gzipped (the manifest's `sha256` is then "
            "of the gzipped bytes).",
        },
    }


def _hash_list_item() -> dict[str, Any]:
    def described(codes: dict[Any, str]) -> str:
        return "; ".join(f"`{code}`: {meaning}" for code, meaning in codes.items())

    hashes = {name: {"type": "string"} for name in render.HASH_COLUMNS if name != "pdq_quality"}
    tiers = "; ".join(
        f"`{tier}`: {', '.join(fields)}" for tier, fields in hash_list.TIER_FIELDS.items()
    )
    return {
        "type": "object",
        "description": "A Hash List item (`data` of a `hash-list` change). What a member "
        f"sees depends on its licence's tier — {tiers}. Fields with no value are left "
        "out. The columns and grade codes: /api/docs/hash-list-format.md.",
        "required": ["hashes"],
        "properties": {
            "hashes": {
                "type": "object",
                "properties": hashes,
                "additionalProperties": False,
                "description": "Canonical text of each hash type the entry has.",
            },
            "pdq_quality": {"type": "integer", "minimum": 0, "maximum": 100},
            "uk_category": {
                "type": "string",
                "enum": [*grading.UK_CATEGORIES, grading.UK_PROHIBITED],
            },
            "interpol_baseline": {"type": "boolean"},
            "vics_category": {
                "type": "integer",
                "enum": list(grading.VICS_CATEGORIES),
                "description": described(grading.VICS_CATEGORIES),
            },
            "non_photographic": {"type": "boolean"},
            "list": {"type": "string", "description": "The hotline's list it comes from."},
            "grade": {
                "type": "string",
                "enum": list(grading.GRADES),
                "description": described(grading.GRADES),
            },
            "age_band": {
                "type": "string",
                "enum": list(grading.AGE_BANDS),
                "description": described(grading.AGE_BANDS),
            },
            "victim_identified": {"type": "boolean"},
            "offender_identified": {"type": "boolean"},
            "series": {"type": "string"},
            "confirmed_by_police": {"type": "boolean"},
            "first_seen": {"type": "string", "format": "date"},
        },
        "additionalProperties": False,
    }


def _manifest() -> dict[str, Any]:
    integer = {"type": "integer", "minimum": 0}
    text = {"type": "string"}
    return {
        "type": "object",
        "description": "What a download is, signed with Ed25519. The signature covers every "
        "other field: the manifest without `signature` and `algorithm`, as JSON with keys "
        "sorted, no spaces, non-ASCII escaped as \\uXXXX. Worked example: "
        "/api/docs/feed-signatures.md.",
        "required": [
            "feed",
            "kind",
            "format",
            "encoding",
            "from_seq",
            "to_seq",
            "to_tag",
            "count",
            "more",
            "tier",
            "sha256",
            "bytes",
            "from_tag",
            "head_seq",
            "head_tag",
            "signed_at",
            "key_id",
            "signature",
            "algorithm",
        ],
        "properties": {
            "feed": {"type": "string", "enum": list(FeedName.values)},
            "kind": {"type": "string", "enum": ["snapshot", "delta"]},
            "format": {"type": "string", "enum": list(render.formats_of(FeedName.HASH_LIST))},
            "encoding": {"type": "string", "enum": ["gzip", "identity"]},
            "from_seq": integer,
            "to_seq": integer,
            "to_tag": {**text, "description": "The tag of `to_seq` (X-Feed-Tag)."},
            "count": {**integer, "description": "Rows (changes or items) in the body."},
            "more": {"type": "boolean"},
            "tier": {
                "type": "string",
                "enum": [*Tier.values, "all"],
                "description": "The Hash List tier shown; `all` for other feeds.",
            },
            "sha256": {**text, "description": "SHA-256 (hex) of the bytes as served."},
            "bytes": {**integer, "description": "Length of the bytes as served."},
            "content_sha256": {**text, "description": "Gzipped only: of the decoded bytes."},
            "content_bytes": {**integer, "description": "Gzipped only: decoded length."},
            "from_tag": {**text, "description": "The tag of the cursor the page starts from."},
            "head_seq": {**integer, "description": "The feed's last change when served."},
            "head_tag": text,
            "signed_at": {**text, "format": "date-time"},
            "key_id": {
                **text,
                "description": "First 16 hex digits of the SHA-256 of the "
                "raw public key that signed.",
            },
            "signature": {**text, "format": "byte", "description": "Ed25519, base64."},
            "algorithm": {"type": "string", "enum": ["ed25519"]},
        },
    }


def schemas() -> dict[str, Any]:
    return {
        "Problem": {
            "type": "object",
            "description": "Every error of the member API: a stable `error` code and a "
            "`detail` to show a person. 429 and 503 come with Retry-After.",
            "required": ["error", "detail"],
            "properties": {
                "error": {
                    "type": "string",
                    "example": "no_key",
                    "description": "no_key, bad_key, revoked, expired (401); scope, licence, "
                    "network, images (403); no_feed (404); format, limit, cursor, json, hashes, "
                    "image (400); too_many, too_big (413); content_type (415); rate, "
                    "busy (429); preparing (503).",
                },
                "detail": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": schema_ref("HashError"),
                    "description": f"400 `hashes`: each bad hash (at most {match_api.MAX_ERRORS}).",
                },
            },
        },
        "HashError": {
            "type": "object",
            "required": ["index", "reason"],
            "properties": {
                "index": {"type": "integer", "description": "Position in `hashes`, from 0."},
                "field": {"type": "string", "enum": ["type", "value"]},
                "reason": {"type": "string"},
                "position": {
                    "type": "integer",
                    "nullable": True,
                    "description": "Where in the value the fault is, if known.",
                },
            },
        },
        "CursorRefused": {
            "type": "object",
            "description": "400 `cursor`: the cursor (with its tag) is not in this feed's "
            "history. `reset` is signed like a manifest; a client drops its copy and takes "
            "a new snapshot only when `reset` verifies and names its own cursor and tag.",
            "required": ["error", "detail", "reset"],
            "properties": {
                "error": {"type": "string", "enum": ["cursor"]},
                "detail": {"type": "string"},
                "reset": schema_ref("SignedReset"),
            },
        },
        "SignedReset": {
            "type": "object",
            "required": [
                "feed",
                "kind",
                "cursor",
                "tag",
                "detail",
                "head_seq",
                "head_tag",
                "signed_at",
                "key_id",
                "signature",
                "algorithm",
            ],
            "properties": {
                "feed": {"type": "string"},
                "kind": {"type": "string", "enum": ["reset"]},
                "cursor": {"type": "string"},
                "tag": {"type": "string"},
                "detail": {"type": "string"},
                "head_seq": {"type": "integer"},
                "head_tag": {"type": "string"},
                "signed_at": {"type": "string", "format": "date-time"},
                "key_id": {"type": "string"},
                "signature": {"type": "string", "format": "byte"},
                "algorithm": {"type": "string", "enum": ["ed25519"]},
            },
        },
        "FeedManifest": _manifest(),
        "FeedChange": {
            "type": "object",
            "description": "One line of a JSON Lines body (`application/x-ndjson`: one such "
            "object a line). A snapshot lists the live items (`op` add, `seq` when added); "
            "a delta every change after the cursor, in order. A removal carries the data "
            "as it was listed. CSV has the columns `seq,op,key` then, for the Hash List, "
            "one per hash type and field, else `data` as JSON.",
            "required": ["seq", "op", "key", "data"],
            "properties": {
                "seq": {"type": "integer", "minimum": 1},
                "op": {"type": "string", "enum": ["add", "remove"]},
                "key": {
                    "type": "string",
                    "description": "The item's identity: the URL "
                    "(URL lists), the entry's 12-digit number (Hash List), the "
                    "normalised term, domain or CURRENCY:address.",
                },
                "data": {
                    "type": "object",
                    "description": "hash-list: `HashListItem`; "
                    "url-list: {added (date), category (UK A/B/C)}; keyword-list: "
                    "{term, language, kind, note}; domain-alerts: {domain, reason, "
                    "note, unicode?}; vc-alerts: {currency, address, note}; "
                    "npi-url-list: {url, note}.",
                },
            },
            "additionalProperties": False,
        },
        "HashListItem": _hash_list_item(),
        **_match_schemas(),
    }


def _match_schemas() -> dict[str, Any]:
    types = list(match_api.TYPES)
    return {
        "MatchRequest": {
            "type": "object",
            "required": ["hashes"],
            "properties": {
                "hashes": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": settings.MATCH_MAX_HASHES,
                    "items": {
                        "type": "object",
                        "required": ["type", "value"],
                        "properties": {
                            "type": {"type": "string", "enum": types},
                            "value": {
                                "type": "string",
                                "description": "Hex (any case) for md5, "
                                "sha1, sha256 and PDQ (64 digits); base64 or hex for PhotoDNA.",
                            },
                        },
                    },
                }
            },
            "example": {
                "hashes": [
                    {"type": "pdq", "value": "f" * 16 + "0" * 48},
                    {"type": "md5", "value": "0" * 31 + "1"},
                ]
            },
        },
        "MatchImageRequest": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {
                    "type": "string",
                    "format": "binary",
                    "description": f"One image, at most {settings.MATCH_MAX_IMAGE_BYTES:,} bytes: "
                    "read into memory, hashed, matched and dropped.",
                }
            },
        },
        "MatchResponse": {
            "type": "object",
            "required": ["checked", "matched", "results"],
            "properties": {
                "checked": {"type": "integer", "description": "Hashes checked."},
                "matched": {"type": "integer", "description": "Hashes with a match."},
                "results": {
                    "type": "array",
                    "description": "One per hash, in order.",
                    "items": schema_ref("MatchResult"),
                },
                "image": {
                    "type": "object",
                    "description": "An image's call only: the "
                    "hashes made of it and why any type could not be.",
                    "properties": {
                        "hashes": {"type": "object", "additionalProperties": {"type": "string"}},
                        "not_hashed": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                    },
                },
            },
        },
        "MatchResult": {
            "type": "object",
            "required": ["index", "type", "matches"],
            "properties": {
                "index": {"type": "integer"},
                "type": {"type": "string", "enum": types},
                "matches": {
                    "type": "array",
                    "items": schema_ref("Match"),
                    "description": "Nearest first; empty when nothing matched.",
                },
            },
        },
        "Match": {
            "type": "object",
            "description": "A Hash List entry that matched, with what the member's Hash "
            "List tier shows of it (`HashListItem`'s fields; hashes only without a licence).",
            "required": ["entry", "distance", "threshold", "hashes"],
            "properties": {
                "entry": {"type": "string", "description": "The Hash List item's key."},
                "distance": {"type": "number"},
                "threshold": {"type": "number", "description": "The entry's list's threshold."},
                **_hash_list_item()["properties"],
            },
            "additionalProperties": False,
        },
    }
