"""The OpenAPI schema describes every API a member or partner uses — feed snapshots and
deltas (headers, cursor and tag), the matching API, member keys, rate limits and error
bodies — it is a valid OpenAPI 3 document, and real answers of each endpoint validate
against the schemas it gives for them. The member portal links the documentation."""

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from drf_spectacular.validation import validate_schema
from openapi_schema_validator import OAS30Validator
from openapi_schema_validator import validate as validate_instance
from openapi_spec_validator import validate as validate_spec
from PIL import Image

import openhotline
from openhotline.accounts.models import Organisation
from openhotline.feeds import match_api, render
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import FeedName, Licence, Membership, Tier
from openhotline.signals.lists import import_records
from openhotline.signals.models import HashList, ListSource
from openhotline.signals.records import build_record
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db
FEEDS = Path(openhotline.__file__).parent / "feeds"
SNAPSHOT = "/api/v1/feeds/{name}/snapshot"
DELTA = "/api/v1/feeds/{name}/delta"
MATCH = "/api/v1/match"
LISTED_MD5 = "0" * 31 + "1"


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def check(schema: dict[str, Any], instance: Any, component: str | dict[str, Any]) -> None:
    """Validate `instance` against a schema of the document (a component's name, or a
    schema object that may refer to components)."""
    target = (
        {"$ref": f"#/components/schemas/{component}"} if isinstance(component, str) else component
    )
    validate_instance(instance, {**target, "components": schema["components"]}, cls=OAS30Validator)


def answer(schema: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    return schema["paths"][path][method]["responses"][str(status)]


def body_schema(schema: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    return answer(schema, path, method, status)["content"]["application/json"]["schema"]


def parameters(schema: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    found = {}
    for item in schema["paths"][path][method]["parameters"]:
        name = item["$ref"].rsplit("/", 1)[-1]
        found[name] = schema["components"]["parameters"][name]
    return {p["name"]: p for p in found.values()}


# --- the document ---------------------------------------------------------------------------


def test_the_schema_is_a_valid_openapi_3_document(schema: dict[str, Any]) -> None:
    validate_spec(schema)  # openapi-spec-validator: structure, references, defaults
    validate_schema(schema)  # drf-spectacular's own check against the OpenAPI 3.0 JSON schema
    assert schema["openapi"].startswith("3.0")


def test_every_member_path_is_in_the_schema_with_its_parameters(schema: dict[str, Any]) -> None:
    assert {SNAPSHOT, DELTA, MATCH, "/.well-known/openhotline-feed-key.pem"} <= set(schema["paths"])
    snapshot = parameters(schema, SNAPSHOT, "get")
    delta = parameters(schema, DELTA, "get")
    assert set(snapshot) == {"name", "format", "If-None-Match", "Accept-Encoding"}
    assert set(delta) == {"name", "cursor", "tag", "limit", "format", "If-None-Match",
                          "Accept-Encoding"}  # fmt: skip
    assert delta["name"]["schema"]["enum"] == list(FeedName.values)
    assert delta["format"]["schema"]["enum"] == list(render.formats_of(FeedName.HASH_LIST))
    assert delta["limit"]["schema"]["maximum"] == 10_000
    assert delta["cursor"]["required"] is True
    for path in (SNAPSHOT, DELTA):
        ok = answer(schema, path, "get", 200)
        assert {"ETag", "X-Feed-Cursor", "X-Feed-Tag", "X-Feed-More", "X-Feed-Manifest"} <= set(
            ok["headers"]
        )
        assert {"application/x-ndjson", "text/csv", "application/json"} <= set(ok["content"])
        assert {"200", "304", "400", "401", "403", "404"} <= set(
            schema["paths"][path]["get"]["responses"]
        )
        assert schema["paths"][path]["get"]["security"] == [{"memberKey": []}]
    assert "Retry-After" in answer(schema, SNAPSHOT, "get", 503)["headers"]
    match = schema["paths"][MATCH]["post"]
    assert set(match["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"200", "400", "401", "403", "413", "415", "429"} <= set(match["responses"])
    assert "Retry-After" in answer(schema, MATCH, "post", 429)["headers"]
    hashes = schema["components"]["schemas"]["MatchRequest"]["properties"]["hashes"]
    assert hashes["maxItems"] == settings.MATCH_MAX_HASHES
    assert hashes["items"]["properties"]["type"]["enum"] == list(match_api.TYPES)
    key = schema["components"]["securitySchemes"]["memberKey"]
    assert key["scheme"] == "bearer" and key["bearerFormat"].startswith("ohk_")
    # The staff API is still there, with its own scheme.
    assert {"/api/v1/reports", "/api/v1/cases"} <= set(schema["paths"])


def test_every_error_code_the_member_api_raises_is_documented(schema: dict[str, Any]) -> None:
    """A new Problem code in the feeds or matching code must be named in the schema."""
    source = "".join((FEEDS / name).read_text() for name in ("api.py", "match_api.py", "keys.py"))
    codes = set(re.findall(r'Problem\(\s*\d{3},\s*"(\w+)"', source))
    assert {"no_key", "rate", "busy", "too_many", "preparing"} <= codes
    documented = schema["components"]["schemas"]["Problem"]["properties"]["error"]["description"]
    assert {code for code in codes if code not in documented} == set()


def test_the_hash_list_item_schema_lists_every_field_a_feed_may_carry(
    schema: dict[str, Any],
) -> None:
    from openhotline.feeds.hash_list import RECORD_FIELDS

    item = schema["components"]["schemas"]["HashListItem"]
    assert set(item["properties"]) == set(RECORD_FIELDS)
    assert set(item["properties"]["hashes"]["properties"]) == {
        "md5", "sha1", "sha256", "pdq", "photodna", "video"
    }  # fmt: skip


def test_the_schema_check_refuses_what_the_api_does_not_send(schema: dict[str, Any]) -> None:
    """The validation below has teeth: shapes the schema does not allow are refused."""
    from jsonschema.exceptions import ValidationError

    for instance, component in [
        ({"error": "no_key"}, "Problem"),
        ({"seq": 1, "op": "replace", "key": "k", "data": {}}, "FeedChange"),
        ({"hashes": {"md5": LISTED_MD5}, "grade": "unknown_code"}, "HashListItem"),
        ({"hashes": {"md5": LISTED_MD5}, "provenance": "source notes"}, "HashListItem"),
        ({"checked": 1, "matched": 0}, "MatchResponse"),
    ]:
        with pytest.raises(ValidationError):
            check(schema, instance, component)


# --- real answers against the schema --------------------------------------------------------


@pytest.fixture
def member_key() -> str:
    org = Organisation.objects.create(name="Example Social", kind="member")
    Licence.objects.create(organisation=org, feed="url-list")
    Licence.objects.create(organisation=org, feed="hash-list", tier=Tier.FULL)
    Membership.objects.create(organisation=org, can_match=True, can_send_images=True,
                              calls_per_minute=50)  # fmt: skip
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    rows: list = [
        ("row 1", build_record({"md5": LISTED_MD5, "pdq": "f" * 16 + "0" * 48,
                                "grade": "sexual_posing", "age_band": "7-10",
                                "pdq_quality": "100", "first_seen": "2025-01-02"}), []),
        ("row 2", build_record({"sha1": "a" * 40, "grade": "indecent_other",
                                "non_photographic": "true"}), []),
    ]  # fmt: skip
    import_records(own, rows, source="test")
    from openhotline.feeds import services

    services.add("url-list", "http://bad-1.test/gallery/", {"added": "2026-03-02", "category": "A"})
    services.add("url-list", "http://bad-2.test/", {"added": "2026-03-02", "category": "C"})
    services.remove("url-list", "http://bad-2.test/")
    return issue_key(org, feeds=["url-list", "hash-list"], can_match=True).plaintext


def as_member(key: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {key}"})


def manifest_of(response: Any) -> dict[str, Any]:
    return json.loads(base64.b64decode(response["X-Feed-Manifest"]))


@pytest.mark.parametrize("feed", ["url-list", "hash-list"])
@pytest.mark.parametrize("kind", ["snapshot", "delta"])
def test_feed_answers_validate_against_the_schema(
    schema: dict[str, Any], member_key: str, feed: str, kind: str
) -> None:
    path = SNAPSHOT if kind == "snapshot" else DELTA
    query = {"cursor": "0"} if kind == "delta" else {}
    response = as_member(member_key).get(path.format(name=feed), query)
    assert response.status_code == 200, response.content
    ok = answer(schema, path, "get", 200)
    assert response["Content-Type"] in ok["content"]
    lines = [json.loads(line) for line in response.content.splitlines()]
    assert lines and len(lines) == manifest_of(response)["count"]
    for line in lines:
        check(schema, line, "FeedChange")
        if feed == "hash-list":
            check(schema, line["data"], "HashListItem")
    check(schema, manifest_of(response), "FeedManifest")
    for header in ok["headers"]:
        if header != "Content-Encoding":
            assert response.has_header(header), header
    headers = schema["components"]["headers"]
    for name in ("X-Feed-Cursor", "X-Feed-Tag"):
        assert re.fullmatch(headers[name]["schema"]["pattern"], response[name]), name


def test_a_gzipped_page_and_a_304_carry_what_the_schema_says(
    schema: dict[str, Any], member_key: str
) -> None:
    member = as_member(member_key)
    path = DELTA.format(name="url-list")
    gzipped = member.get(path, {"cursor": "0"}, headers={"Accept-Encoding": "gzip"})
    assert gzipped["Content-Encoding"] == "gzip"
    manifest = manifest_of(gzipped)
    check(schema, manifest, "FeedManifest")
    assert {"content_sha256", "content_bytes"} <= set(manifest)
    again = member.get(path, {"cursor": "0"}, headers={"If-None-Match": gzipped["ETag"],
                                                        "Accept-Encoding": "gzip"})  # fmt: skip
    assert again.status_code == 304 and again.content == b""
    for header in answer(schema, DELTA, "get", 304)["headers"]:
        assert again.has_header(header), header
    check(schema, manifest_of(again), "FeedManifest")


def test_feed_refusals_validate_against_the_schema(schema: dict[str, Any], member_key: str) -> None:
    member = as_member(member_key)
    url = DELTA.format(name="url-list")
    refused_cursor = member.get(url, {"cursor": "99", "tag": "0" * 16})
    assert refused_cursor.status_code == 400
    check(schema, refused_cursor.json(), "CursorRefused")
    check(schema, refused_cursor.json(), body_schema(schema, DELTA, "get", 400))
    bad_format = member.get(url, {"cursor": "0", "format": "vics"})
    bad_limit = member.get(url, {"cursor": "0", "limit": "many"})
    for response, status, code in [
        (bad_format, 400, "format"),
        (bad_limit, 400, "limit"),
        (Client().get(url, {"cursor": "0"}), 401, "no_key"),
        (as_member("ohk_nokey_nosecret").get(url, {"cursor": "0"}), 401, "bad_key"),
        (member.get(DELTA.format(name="keyword-list"), {"cursor": "0"}), 403, "scope"),
        (member.get(DELTA.format(name="no-such-feed"), {"cursor": "0"}), 404, "no_feed"),
    ]:
        assert (response.status_code, response.json()["error"]) == (status, code)
        check(schema, response.json(), body_schema(schema, DELTA, "get", status))


def test_matching_answers_validate_against_the_schema(
    schema: dict[str, Any], member_key: str
) -> None:
    member = as_member(member_key)
    ok = member.post(MATCH, json.dumps({"hashes": [
        {"type": "md5", "value": LISTED_MD5.upper()},
        {"type": "pdq", "value": "e" + "f" * 15 + "0" * 48},
        {"type": "sha1", "value": "b" * 40},
    ]}), content_type="application/json")  # fmt: skip
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["matched"] == 2 and body["results"][0]["matches"][0]["grade"] == "sexual_posing"
    check(schema, body, body_schema(schema, MATCH, "post", 200))
    example = schema["components"]["schemas"]["MatchRequest"]["example"]
    check(schema, example, "MatchRequest")
    assert (
        member.post(MATCH, json.dumps(example), content_type="application/json").status_code == 200
    )

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(picture, "PNG")
    picture.seek(0)
    picture.name = "benign.png"
    image = member.post(MATCH, {"image": picture})
    assert image.status_code == 200, image.content
    assert set(image.json()["image"]["hashes"]) >= {"md5", "pdq"}
    check(schema, image.json(), body_schema(schema, MATCH, "post", 200))

    bad = member.post(MATCH, json.dumps({"hashes": [{"type": "md5", "value": "xyz"},
                                                    {"type": "nope", "value": "1"}]}),
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and len(bad.json()["errors"]) == 2
    too_many = [{"type": "md5", "value": LISTED_MD5}] * (settings.MATCH_MAX_HASHES + 1)
    for response, status in [
        (bad, 400),
        (member.post(MATCH, "{", content_type="application/json"), 400),
        (Client().post(MATCH, "{}", content_type="application/json"), 401),
        (member.post(MATCH, json.dumps({"hashes": too_many}), content_type="application/json"),
         413),
        (member.post(MATCH, "hashes", content_type="text/plain"), 415),
    ]:  # fmt: skip
        assert response.status_code == status, response.content
        check(schema, response.json(), body_schema(schema, MATCH, "post", status))


def test_a_rate_limited_call_carries_retry_after_as_the_schema_says(
    schema: dict[str, Any], member_key: str
) -> None:
    Membership.objects.update(calls_per_minute=1)
    member = as_member(member_key)
    hashes = json.dumps({"hashes": [{"type": "md5", "value": LISTED_MD5}]})
    member.post(MATCH, hashes, content_type="application/json")
    limited = member.post(MATCH, hashes, content_type="application/json")
    assert limited.status_code == 429 and limited.json()["error"] == "rate"
    assert int(limited["Retry-After"]) >= 1
    check(schema, limited.json(), body_schema(schema, MATCH, "post", 429))


def test_the_signature_guide_example_body_is_a_feed_change_per_line(
    schema: dict[str, Any],
) -> None:
    text = (Path(openhotline.__file__).parent.parent / "docs/feed-signatures.md").read_text()
    body = re.search(r"```text body\n(.*?)\n```", text, re.S)
    assert body is not None
    for line in body.group(1).splitlines():
        check(schema, json.loads(line), "FeedChange")


# --- where people find it -------------------------------------------------------------------


def test_the_member_portal_links_the_api_documentation_and_guides(member) -> None:
    Licence.objects.create(organisation=member.organisation, feed="url-list")
    page = verified_client(member).get("/members/").content.decode()
    for href in ("/api/docs/", "/api/schema/?format=json", "/api/docs/hash-list-format.md",
                 "/api/docs/feed-signatures.md"):  # fmt: skip
        assert f'href="{href}"' in page, href


def test_the_guides_are_served_as_plain_text_and_nothing_else_is(client: Client) -> None:
    for page, heading in [("hash-list-format", "# Hash lists: CSV columns and grade codes"),
                          ("feed-signatures", "# Feed signatures")]:  # fmt: skip
        response = client.get(f"/api/docs/{page}.md")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode().startswith(heading)
    for other in ("architecture", "threat-model", "..%2fREADME", "README"):
        assert client.get(f"/api/docs/{other}.md").status_code == 404
    # The schema's own links to the guides point at these pages.
    schema = client.get("/api/schema/", {"format": "json"}).content.decode()
    assert "(/api/docs/hash-list-format.md)" in schema
    assert "(/api/docs/feed-signatures.md)" in schema
