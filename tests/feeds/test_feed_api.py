"""Members download feeds with API keys: signed, resumable, cacheable — and every bad
request gets a clear JSON error."""

import base64
import gzip
import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from openhotline.accounts.models import Organisation
from openhotline.feeds import render, services, signing
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import AccessLog, Licence, MemberKey
from tests.feeds.restore import restore_to

pytestmark = pytest.mark.django_db
URL = "/api/v1/feeds/url-list"


@pytest.fixture
def company() -> Organisation:
    org = Organisation.objects.create(name="Example Social", kind="member")
    Licence.objects.create(organisation=org, feed="url-list")
    return org


def described(response) -> dict:
    """What a response's manifest says of its bytes, without what is signed as it is served."""
    manifest = json.loads(base64.b64decode(response["X-Feed-Manifest"]))
    served = ("signature", "signed_at")
    return {k: v for k, v in manifest.items() if k not in served}


def client_with(plaintext: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {plaintext}"})


def test_a_member_syncs_the_url_list_by_deltas_and_each_page_verifies(company) -> None:
    key = issue_key(company, feeds=["url-list"]).plaintext
    for n in range(5):
        services.add("url-list", f"http://bad-{n}.test/", {"category": "A"})
    services.remove("url-list", "http://bad-1.test/")
    member = client_with(key)
    copy: dict[str, dict] = {}
    cursor = "0"
    pages = 0
    while True:
        response = member.get(f"{URL}/delta", {"cursor": cursor, "limit": "2"})
        assert response.status_code == 200
        manifest = json.loads(base64.b64decode(response["X-Feed-Manifest"]))
        signing.verify(response.content, manifest, Client().get(
            "/.well-known/openhotline-feed-key.pem").content)  # fmt: skip
        for line in response.content.splitlines():
            change = json.loads(line)
            if change["op"] == "add":
                copy[change["key"]] = change["data"]
            else:
                copy.pop(change["key"], None)
        cursor = response["X-Feed-Cursor"]
        pages += 1
        if response["X-Feed-More"] == "false":
            break
    assert pages == 3 and cursor == "6"
    assert sorted(copy) == [f"http://bad-{n}.test/" for n in (0, 2, 3, 4)]
    assert AccessLog.objects.filter(endpoint="delta", status=200).count() == 3
    assert MemberKey.objects.get().last_used_at is not None


def test_snapshots_are_signed_gzipped_on_request_and_cacheable(company) -> None:
    key = issue_key(company, feeds=["url-list"]).plaintext
    services.add("url-list", "http://bad.test/", {"category": "B"})
    member = client_with(key)
    first = member.get(f"{URL}/snapshot", headers={"Accept-Encoding": "gzip"})
    assert first["Content-Encoding"] == "gzip"
    rows = [json.loads(line) for line in gzip.decompress(first.content).splitlines()]
    assert rows == [{"data": {"category": "B"}, "key": "http://bad.test/", "op": "add", "seq": 1}]
    again = member.get(
        f"{URL}/snapshot", headers={"Accept-Encoding": "gzip", "If-None-Match": first["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""
    as_csv = member.get(f"{URL}/snapshot", {"format": "csv"})
    assert as_csv.content.decode().splitlines()[0] == "seq,op,key,data"


def test_a_snapshot_poll_with_a_known_etag_is_answered_without_building_it(
    company, monkeypatch
) -> None:
    member = client_with(issue_key(company, feeds=["url-list"]).plaintext)
    services.add("url-list", "http://bad.test/", {"category": "B"})
    gzip_ok = {"Accept-Encoding": "gzip"}
    first = member.get(f"{URL}/snapshot", headers=gzip_ok)
    built = render.to_bytes

    def not_again(*args, **kwargs):
        raise AssertionError("the snapshot was built again for a poll")

    monkeypatch.setattr(render, "to_bytes", not_again)
    poll = member.get(f"{URL}/snapshot", headers={**gzip_ok, "If-None-Match": first["ETag"]})
    # The same manifest, signed again as it is served (a new signing time).
    assert poll.status_code == 304 and described(poll) == described(first)
    assert AccessLog.objects.filter(endpoint="snapshot", status=304).count() == 1
    monkeypatch.setattr(render, "to_bytes", built)
    # Without gzip the bytes differ: no 304 from the gzip answer's ETag.
    plain = member.get(f"{URL}/snapshot", headers={"If-None-Match": first["ETag"]})
    assert plain.status_code == 200
    services.add("url-list", "http://worse.test/", {"category": "A"})
    changed = member.get(f"{URL}/snapshot", headers={**gzip_ok, "If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert b"worse.test" in gzip.decompress(changed.content)


@pytest.mark.parametrize(
    ("query", "code"),
    [({"cursor": "99"}, "cursor"), ({"cursor": "x'--"}, "cursor"), ({"cursor": "0", "limit": "0"},
     "limit"), ({"cursor": "0", "format": "xml"}, "format")],
)  # fmt: skip
def test_bad_requests_get_400_with_a_reason(company, query: dict, code: str) -> None:
    key = issue_key(company, feeds=["url-list"]).plaintext
    response = client_with(key).get(f"{URL}/delta", query)
    assert response.status_code == 400 and response.json()["error"] == code


def test_a_cursor_from_another_history_of_the_feed_is_refused_by_its_tag(company) -> None:
    """GIVEN a member at cursor 4 WHEN the hotline restores a backup taken at change 2
    and makes two other changes THEN cursor 4 exists again, but its tag tells the
    histories apart: the member is told to take a new snapshot, not given nothing."""
    member = client_with(issue_key(company, feeds=["url-list"]).plaintext)
    for n in range(4):
        services.add("url-list", f"http://bad-{n}.test/")
    page = member.get(f"{URL}/delta", {"cursor": "0"})
    tag = page["X-Feed-Tag"]
    manifest = json.loads(base64.b64decode(page["X-Feed-Manifest"]))
    assert re.fullmatch(r"[0-9a-f]{16}", tag) and manifest["to_tag"] == tag
    assert member.get(f"{URL}/delta", {"cursor": "4", "tag": tag}).status_code == 200
    restore_to("url-list", 2)
    services.add("url-list", "http://other-3.test/")
    services.add("url-list", "http://other-4.test/")
    refused = member.get(f"{URL}/delta", {"cursor": "4", "tag": tag})
    assert refused.status_code == 400 and refused.json()["error"] == "cursor"
    assert "another history" in refused.json()["detail"]
    bad = member.get(f"{URL}/delta", {"cursor": "4", "tag": "<script>"})
    assert bad.status_code == 400 and "16 hex digits" in bad.json()["detail"]
    # Change 4 of the new history has a tag of its own; without a tag, the number alone
    # is followed (clients that keep none).
    again = member.get(f"{URL}/delta", {"cursor": "2"})
    assert again["X-Feed-Cursor"] == "4" and again["X-Feed-Tag"] not in ("", tag)
    assert member.get(f"{URL}/delta", {"cursor": "4"}).status_code == 200


def test_keys_that_cannot_open_a_feed_are_refused_clearly(company) -> None:
    assert Client().get(f"{URL}/delta", {"cursor": "0"}).json()["error"] == "no_key"
    assert client_with("ohk_nope_nope").get(f"{URL}/delta").status_code == 401
    revoked = issue_key(company, feeds=["url-list"])
    MemberKey.objects.filter(pk=revoked.key.pk).update(revoked_at=timezone.now())
    assert client_with(revoked.plaintext).get(f"{URL}/delta").json()["error"] == "revoked"
    expired = issue_key(company, feeds=["url-list"], expires_at=timezone.now() - timedelta(1))
    assert client_with(expired.plaintext).get(f"{URL}/delta").status_code == 401
    other_feed = issue_key(company, feeds=["keyword-list"]).plaintext
    response = client_with(other_feed).get(f"{URL}/delta", {"cursor": "0"})
    assert response.status_code == 403 and response.json()["error"] == "scope"
    unlicensed = issue_key(company, feeds=["keyword-list"]).plaintext
    response = client_with(unlicensed).get("/api/v1/feeds/keyword-list/delta", {"cursor": "0"})
    assert response.status_code == 403 and response.json()["error"] == "licence"
    fenced = issue_key(company, feeds=["url-list"], allowed_networks=["192.0.2.0/24"]).plaintext
    response = client_with(fenced).get(f"{URL}/delta", {"cursor": "0"})
    assert response.status_code == 403 and response.json()["error"] == "network"
    nonsense = client_with(other_feed).get("/api/v1/feeds/nonsense/delta")
    assert nonsense.status_code == 404 and nonsense.json()["error"] == "no_feed"


def test_the_create_member_key_command(company, capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("create_member_key", "Example Social", "--feed", "keyword-list", "--licence")
    plaintext = capsys.readouterr().out.strip()
    assert plaintext.startswith("ohk_")
    assert Licence.objects.filter(organisation=company, feed="keyword-list").exists()
    ok = client_with(plaintext).get("/api/v1/feeds/keyword-list/delta", {"cursor": "0"})
    assert ok.status_code == 200
    with pytest.raises(CommandError, match="no organisation"):
        call_command("create_member_key", "Nobody", "--feed", "url-list")
    with pytest.raises(CommandError, match="bad --network"):
        call_command("create_member_key", "Example Social", "--feed", "url-list",
                     "--network", "not-a-net")  # fmt: skip
