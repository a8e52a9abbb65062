"""The matching API: mixed batches of hashes (or an image held only in memory) matched
against what members may have, with clear errors, per-key rate limits, and a log that
never keeps what was asked."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from openhotline.accounts.models import Organisation
from openhotline.evidence.models import Media
from openhotline.feeds import hash_list
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import AccessLog, FeedItem, Licence, Membership, Tier
from openhotline.signals.lists import import_records, retire_entry
from openhotline.signals.models import AllowedHash, HashList, ListEntry, ListSource
from openhotline.signals.records import build_record
from openhotline.signals.types import PDQ, compute_all
from tests.assessment.factory import picture
from tests.evidence.media_samples import huge_png_header

pytestmark = pytest.mark.django_db
URL = "/api/v1/match"
LISTED_PDQ = "f" * 16 + "0" * 48
NEAR_PDQ = "e" + "f" * 15 + "0" * 48  # one hex digit: 1 bit away
FAR_PDQ = "0" * 16 + "f" * 48


def md5(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture
def lists() -> dict[str, HashList]:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    caid = HashList.objects.create(name="caid", source=ListSource.POLICE, share_with_members=False)
    rows: list = [
        ("row 1", build_record({"md5": md5(1), "pdq": LISTED_PDQ, "grade": "sexual_posing",
                                "age_band": "7-10", "pdq_quality": "100"}), []),
        ("row 2", build_record({"md5": md5(2), "sha1": "a" * 40, "grade": "penetrative",
                                "age_band": "0-2"}), []),
        ("row 3", build_record({"md5": md5(3)}), []),
    ]  # fmt: skip
    import_records(own, rows, source="test")
    import_records(caid, [("row 1", build_record({"md5": md5(9)}), [])], source="test")
    return {"own": own, "caid": caid}


def member(tier: str | None = Tier.FULL, *, images: bool = False, per_minute: int | None = None,
           can_match: bool = True, **key_options) -> Client:  # fmt: skip
    org = Organisation.objects.create(name=f"Platform {Organisation.objects.count()}",
                                      kind="member")  # fmt: skip
    Membership.objects.create(organisation=org, can_match=True, can_send_images=images,
                              calls_per_minute=per_minute)  # fmt: skip
    if tier is not None:
        Licence.objects.create(organisation=org, feed="hash-list", tier=tier)
    key = issue_key(org, feeds=[], can_match=can_match, **key_options).plaintext
    return Client(headers={"Authorization": f"Bearer {key}"})


def ask(client: Client, hashes: list, **extra):
    return client.post(URL, json.dumps({"hashes": hashes}), content_type="application/json",
                       **extra)  # fmt: skip


def test_a_mixed_batch_answers_each_hash_in_order(lists) -> None:
    response = ask(member(Tier.FULL), [
        {"type": "md5", "value": md5(2).upper()},
        {"type": "pdq", "value": NEAR_PDQ},
        {"type": "sha1", "value": "b" * 40},
        {"type": "pdq", "value": FAR_PDQ},
        {"type": "md5", "value": md5(9)},  # only in the police list, not shared
    ])  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checked"] == 5 and body["matched"] == 2
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    (exact,) = results[0]["matches"]
    assert exact["distance"] == 0 and exact["grade"] == "penetrative"
    assert exact["uk_category"] == "A" and exact["hashes"]["sha1"] == "a" * 40
    (near,) = results[1]["matches"]
    assert near["distance"] == 1 and near["threshold"] == 31
    assert near["entry"] == f"{ListEntry.objects.get(hashes__value=LISTED_PDQ).pk:012d}"
    assert results[2]["matches"] == results[3]["matches"] == results[4]["matches"] == []


def test_what_a_match_shows_follows_the_licence_tier(lists) -> None:
    for tier, expected in (
        (None, {"entry", "distance", "threshold", "hashes"}),
        (Tier.BASIC, {"entry", "distance", "threshold", "hashes"}),
        (Tier.CATEGORY, {"entry", "distance", "threshold", "hashes", "uk_category",
                         "interpol_baseline", "non_photographic", "vics_category"}),
    ):  # fmt: skip
        body = ask(member(tier), [{"type": "md5", "value": md5(2)}]).json()
        assert set(body["results"][0]["matches"][0]) == expected, tier


def test_retired_and_allow_listed_entries_do_not_match(lists, manager) -> None:
    retire_entry(ListEntry.objects.get(hashes__value=md5(3)), "wrong", actor=manager)
    AllowedHash.objects.create(hash_list=lists["own"], hash_type="md5", value=md5(2),
                               lookup_key=md5(2), reason="a logo")  # fmt: skip
    body = ask(member(), [{"type": "md5", "value": md5(3)}, {"type": "md5", "value": md5(2)},
                          {"type": "md5", "value": md5(1)}]).json()  # fmt: skip
    assert [bool(r["matches"]) for r in body["results"]] == [False, False, True]


def test_a_list_withdrawn_from_members_stops_matching_though_its_entries_stay(lists) -> None:
    # Its feed items are kept as removed rows: they must not show.
    lists["own"].share_with_members = False
    lists["own"].save()
    hash_list.sync_list(lists["own"])
    assert FeedItem.objects.filter(feed__name="hash-list", removed_seq__isnull=False).count() == 3
    body = ask(member(), [{"type": "md5", "value": md5(2)}, {"type": "pdq", "value": NEAR_PDQ}])
    assert body.json()["results"] == [
        {"index": 0, "type": "md5", "matches": []},
        {"index": 1, "type": "pdq", "matches": []},
    ]
    lists["own"].share_with_members = True
    lists["own"].save()
    hash_list.sync_list(lists["own"])
    assert ask(member(), [{"type": "md5", "value": md5(2)}]).json()["matched"] == 1


def test_an_unshared_list_stops_matching_before_its_items_are_withdrawn(lists) -> None:
    """Un-sharing withdraws the list's feed items in a background walk (big lists take a
    while); the matching API hides its entries from the moment the flag is off."""
    HashList.objects.filter(pk=lists["own"].pk).update(share_with_members=False)
    assert FeedItem.objects.filter(feed__name="hash-list", removed_seq__isnull=True).count() == 3
    body = ask(member(), [{"type": "md5", "value": md5(2)}, {"type": "pdq", "value": NEAR_PDQ}])
    assert body.json()["matched"] == 0


def test_bad_hashes_are_refused_with_their_positions_and_reasons(lists) -> None:
    response = ask(member(), [
        {"type": "md5", "value": md5(1)},
        {"type": "pdq", "value": "z" + LISTED_PDQ[1:]},
        {"type": "sha256", "value": "ab"},
        {"type": "crc32", "value": "abcd"},
        "md5:abc",
    ])  # fmt: skip
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "hashes" and body["detail"] == "4 of 5 hashes are not valid."
    errors = {e["index"]: e for e in body["errors"]}
    assert set(errors) == {1, 2, 3, 4}
    assert errors[1]["field"] == "value" and errors[1]["position"] == 1
    assert "not hex" in errors[1]["reason"]
    assert "wrong length" in errors[2]["reason"]
    assert errors[3]["field"] == "type" and "md5" in errors[3]["reason"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"not json", 400, "json"),
        (b'{"hashes": []}', 400, "hashes"),
        (b'{"hashes": "md5"}', 400, "hashes"),
        (b"[1, 2]", 400, "hashes"),
    ],
)
def test_malformed_bodies_get_a_clear_error(lists, body: bytes, status: int, error: str) -> None:
    response = member().post(URL, body, content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_more_than_a_thousand_hashes_or_a_huge_body_is_413(lists) -> None:
    client = member()
    over = ask(client, [{"type": "md5", "value": md5(n)} for n in range(1001)])
    assert over.status_code == 413 and over.json()["error"] == "too_many"
    exactly = ask(client, [{"type": "md5", "value": md5(n)} for n in range(1000)])
    assert exactly.status_code == 200 and exactly.json()["checked"] == 1000
    huge = client.post(URL, b'{"hashes": ["' + b"a" * 600_000 + b'"]}',
                       content_type="application/json")  # fmt: skip
    assert huge.status_code == 413 and huge.json()["error"] == "too_big"
    plain = client.post(URL, "md5=" + md5(1), content_type="text/plain")
    assert plain.status_code == 415


def test_keys_and_members_not_allowed_to_match_are_refused(lists) -> None:
    hashes = [{"type": "md5", "value": md5(1)}]
    assert ask(member(can_match=False), hashes).status_code == 403
    org = Organisation.objects.create(name="No membership", kind="member")
    key = issue_key(org, feeds=[], can_match=True).plaintext
    refused = ask(Client(headers={"Authorization": f"Bearer {key}"}), hashes)
    assert refused.status_code == 403 and refused.json()["error"] == "licence"
    expired = member(expires_at=timezone.now() - timedelta(minutes=1))
    assert ask(expired, hashes).json()["error"] == "expired"
    assert ask(Client(), hashes).status_code == 401
    assert Client().get(URL).status_code == 405


def test_each_key_is_rate_limited_per_minute(lists) -> None:
    client = member(per_minute=3)
    hashes = [{"type": "md5", "value": md5(1)}]
    assert [ask(client, hashes).status_code for _ in range(3)] == [200, 200, 200]
    refused = ask(client, hashes)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    # Another key has its own allowance.
    assert ask(member(per_minute=3), hashes).status_code == 200
    assert AccessLog.objects.filter(endpoint="match", status=429).count() == 1


def test_the_log_keeps_counts_and_never_the_hashes_asked(lists) -> None:
    secret = "5" * 32
    ask(member(), [{"type": "md5", "value": secret}, {"type": "md5", "value": md5(1)}])
    row = AccessLog.objects.get(endpoint="match")
    assert (row.status, row.items, row.matched) == (200, 2, 1)
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    assert secret not in out.getvalue()


def test_an_image_is_hashed_in_memory_matched_and_dropped(
    lists, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:
    # With the default handlers, anything over one byte would go to a temporary file here.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    image = picture(seed=5)
    values = {v.hash_type: v.value for v in compute_all(image, "image").values}
    import_records(lists["own"], [("row", build_record({"pdq": values["pdq"]}), [])],
                   source="test")  # fmt: skip
    media_before = Media.objects.count()
    response = member(images=True).post(URL, {"image": io.BytesIO(image)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["image"]["hashes"]["md5"] == values["md5"]
    pdq_result = next(r for r in body["results"] if r["type"] == "pdq")
    assert pdq_result["matches"][0]["distance"] == 0
    assert list(tmp_path.iterdir()) == [] and Media.objects.count() == media_before
    assert PDQ.normalize(values["pdq"]) not in str(list(AccessLog.objects.values()))


def test_images_need_the_members_permission_and_are_checked(lists, settings) -> None:
    image = picture(seed=6)
    refused = member(images=False).post(URL, {"image": io.BytesIO(image)})
    assert refused.status_code == 403 and refused.json()["error"] == "images"
    client = member(images=True)
    assert client.post(URL, {"other": "x"}).json()["error"] == "image"
    # A file that is no picture still has file hashes; the answer says what was not made.
    corrupt = client.post(URL, {"image": io.BytesIO(image[:200])}).json()["image"]
    assert set(corrupt["hashes"]) == {"md5", "sha1", "sha256"} and "pdq" in corrupt["not_hashed"]
    bomb = client.post(URL, {"image": io.BytesIO(huge_png_header(60_000, 60_000))}).json()
    assert "pixels" in bomb["image"]["not_hashed"]["pdq"] and "pdq" not in bomb["image"]["hashes"]
    settings.MATCH_MAX_IMAGE_BYTES = 2048
    big = client.post(URL, {"image": io.BytesIO(image + b"\0" * 4096)})
    assert big.status_code == 413 and big.json()["error"] == "too_big"


def test_photodna_batches_are_compared_at_once_with_the_right_distances(lists) -> None:
    import base64
    import math

    listed = bytes((i * 7) % 256 for i in range(144))
    near = bytes([listed[0] ^ 3, *listed[1:]])
    far = bytes(255 if b < 128 else 0 for b in listed)
    assert math.dist(listed, far) > 1800  # beyond the default threshold
    value = base64.b64encode(listed).decode()
    import_records(lists["own"], [("row", build_record({"photodna": value}), [])],
                   source="test")  # fmt: skip
    queries = [base64.b64encode(q).decode() for q in (listed, near, far)] * 300
    response = ask(member(), [{"type": "photodna", "value": q} for q in queries])
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 900
    assert [len(r["matches"]) for r in results[:3]] == [1, 1, 0]
    assert results[1]["matches"][0]["distance"] == pytest.approx(math.dist(listed, near))


def test_an_expired_hash_list_licence_shows_only_hashes(lists) -> None:
    client = member(Tier.FULL)
    Licence.objects.filter(feed="hash-list").update(
        valid_until=timezone.now().date() - timedelta(days=1)
    )
    (match,) = ask(client, [{"type": "md5", "value": md5(2)}]).json()["results"][0]["matches"]
    assert set(match) == {"entry", "distance", "threshold", "hashes"}


def test_one_image_only_and_deep_json_get_clear_errors(lists) -> None:
    client = member(images=True)
    two = client.post(URL, {"image": io.BytesIO(picture(seed=7)), "zzz": io.BytesIO(b"X" * 9)})
    assert two.status_code == 400 and "one file" in two.json()["detail"]
    deep = client.post(URL, b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    assert deep.status_code in (400, 413) and deep.json()["error"] in ("json", "too_big")
    nested = client.post(URL, b'{"hashes":' + b"[" * 5000 + b"]" * 5000 + b"}",
                         content_type="application/json")  # fmt: skip
    assert nested.status_code == 400 and nested.json()["error"] in ("json", "hashes")


def test_an_image_is_decoded_within_the_budget_outside_the_web_process(lists, settings) -> None:
    """A member's picture is decoded in the budgeted worker (evidence.decoding): one that
    takes longer than DECODE_SECONDS is stopped and answered with a clear 400."""
    settings.DECODE_SECONDS = 0.01
    out = io.BytesIO()
    Image.effect_noise((3000, 3000), 64).convert("RGB").save(out, format="JPEG")
    settings.MATCH_MAX_IMAGE_BYTES = len(out.getvalue()) + 1
    response = member(images=True).post(URL, {"image": io.BytesIO(out.getvalue())})
    assert response.status_code == 400
    assert "decode budget exceeded" in response.json()["detail"]


def test_a_member_with_no_calls_a_minute_is_suspended(lists) -> None:
    response = ask(member(per_minute=0), [{"type": "md5", "value": md5(1)}])
    assert response.status_code == 429


def test_images_of_one_organisation_are_hashed_a_few_at_a_time(lists, settings) -> None:
    """GIVEN an organisation whose MATCH_IMAGE_CONCURRENCY slots (2) are held by images
    being hashed WHEN it sends one more THEN 429 "busy" with Retry-After, nothing decoded;
    hashes still match, another organisation's images go through, and a freed slot
    takes the next image."""
    from openhotline.feeds import match_api
    from openhotline.feeds.models import MemberKey

    settings.MATCH_IMAGE_CONCURRENCY = 2
    busy = member(images=True)
    other = member(images=True)
    organisation = MemberKey.objects.order_by("pk").first().organisation_id  # type: ignore[union-attr]
    image = picture(seed=7)
    with match_api.image_slot(organisation), match_api.image_slot(organisation) as _held:
        refused = busy.post(URL, {"image": io.BytesIO(image)})
        assert refused.status_code == 429 and refused.json()["error"] == "busy"
        assert int(refused["Retry-After"]) >= 1
        assert ask(busy, [{"type": "md5", "value": md5(1)}]).status_code == 200
        assert other.post(URL, {"image": io.BytesIO(image)}).status_code == 200
    assert busy.post(URL, {"image": io.BytesIO(image)}).status_code == 200
    assert AccessLog.objects.filter(endpoint="match", status=429).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_image_calls_beyond_the_cap_are_refused_while_the_others_run(
    settings, monkeypatch
) -> None:
    """Three images of one organisation at once, each held inside the decoder until all
    have arrived: two are hashed, the third is told to wait (429)."""
    import threading

    from openhotline.feeds import match_api

    settings.MATCH_IMAGE_CONCURRENCY = 2
    client = member(images=True)
    inside = threading.Semaphore(0)
    release = threading.Event()
    real = match_api.examine

    def slow_decoder(data: bytes, **options):
        inside.release()
        assert release.wait(30)
        return real(data, **options)

    monkeypatch.setattr(match_api, "examine", slow_decoder)
    statuses: list[int] = []

    def send() -> None:
        statuses.append(client.post(URL, {"image": io.BytesIO(picture(seed=8))}).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert inside.acquire(timeout=30) and inside.acquire(timeout=30)  # two are decoding
    send()  # the third, meanwhile
    release.set()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 200, 429]
