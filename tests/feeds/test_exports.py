"""Pre-generated snapshot files: complete, signed, per tier and format, served from disk
for big feeds; a snapshot plus the deltas after it is always the server's list, even when
the list changed while the file was written."""

import base64
import csv
import gzip
import io
import json

import pytest
from django.test import Client

from openhotline.accounts.models import Organisation
from openhotline.feeds import exports, hash_list, services, signing
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import AccessLog, FeedItem, Licence, Tier
from openhotline.signals.formats import vics
from openhotline.signals.lists import import_records
from openhotline.signals.models import HashList, ListSource
from openhotline.signals.records import build_record
from tests.feeds.restore import restore_to
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db
URL = "/api/v1/feeds/hash-list"


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path) -> None:
    settings.FEED_EXPORT_DIR = tmp_path / "feeds"


def own_list(n: int) -> HashList:
    own = HashList.objects.create(name="own-grading", source=ListSource.OWN)
    rows: list = []
    for i in range(n):
        record = build_record({
            "md5": f"{i:032x}", "sha1": f"{i:040x}", "grade": "sexual_posing",
            "age_band": "7-10", "victim_identified": "true" if i % 2 else "false",
            "series": "=cmd|' /C calc'!A0" if i == 0 else "",
        })  # fmt: skip
        rows.append((f"row {i}", record, []))
    import_records(own, rows, source="test")
    return own


def live(name: str = "hash-list") -> dict[str, dict]:
    return {i.key: i.data for i in FeedItem.objects.filter(feed__name=name, removed_seq=None)}


def read_jsonl(path) -> dict[str, dict]:
    with gzip.open(path) as f:
        return {row["key"]: row["data"] for row in map(json.loads, f)}


def member_client(tier: str) -> Client:
    org = Organisation.objects.create(name=f"Member {tier}", kind="member")
    Licence.objects.create(organisation=org, feed="hash-list", tier=tier)
    key = issue_key(org, feeds=["hash-list"]).plaintext
    return Client(headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"})


def test_an_export_holds_every_live_item_and_its_manifest_verifies() -> None:
    own_list(25)
    made = exports.export("hash-list", Tier.FULL, "jsonl")
    assert read_jsonl(made.path) == live()
    assert (
        made.manifest["count"] == 25
        and made.manifest["to_seq"] == services.feed("hash-list").last_seq
    )
    fields = signing.verify(made.path.read_bytes(), made.manifest, signing.public_key_pem())
    assert fields["tier"] == "full" and fields["encoding"] == "gzip"
    # Asked again with nothing changed, the same file comes back; no temporary files stay.
    assert exports.export("hash-list", Tier.FULL, "jsonl").path == made.path
    assert not list(made.path.parent.glob(".*partial"))


def test_changes_during_the_export_are_put_right_by_the_delta_after_it(monkeypatch) -> None:
    own_list(12)
    monkeypatch.setattr(exports, "BATCH", 3)
    keys = sorted(live())
    real_rows = exports._live_rows

    def rows_while_changing(feed_id, fields, as_stored):
        for n, row in enumerate(real_rows(feed_id, fields, as_stored)):
            if n == 4:  # mid-scan: remove one already written, one still to come; add one
                services.remove("hash-list", keys[1])
                services.remove("hash-list", keys[10])
                services.add("hash-list", "999999999999", {"hashes": {"md5": "f" * 32}})
            yield row

    monkeypatch.setattr(exports, "_live_rows", rows_while_changing)
    made = exports.export("hash-list", Tier.FULL, "jsonl")
    copy = read_jsonl(made.path)
    changes, _, more = services.delta("hash-list", str(made.seq))
    assert not more
    for change in changes:
        if change.op == "add":
            copy[change.key] = change.data
        else:
            copy.pop(change.key, None)
    assert copy == live()


def test_each_tier_and_format_carries_what_the_tier_allows_and_nothing_else() -> None:
    # The full tier's JSON Lines writes the stored JSON as it is; the others decode it.
    own_list(6)
    services.add("hash-list", "000000000077", {"hashes": {"md5": "e" * 32}, "grade": "x"})
    everything = live()
    assert read_jsonl(exports.export("hash-list", Tier.FULL, "jsonl").path) == everything
    for tier in (Tier.BASIC, Tier.CATEGORY):
        shown = read_jsonl(exports.export("hash-list", tier, "jsonl").path)
        assert shown == {k: hash_list.for_tier(d, tier) for k, d in everything.items()}
        assert all(set(d) <= set(hash_list.TIER_FIELDS[tier]) for d in shown.values())
    with gzip.open(exports.export("hash-list", Tier.BASIC, "csv").path, "rt") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and not any(row["grade"] or row["age_band"] for row in rows)


def test_a_feed_other_than_the_hash_list_exports_as_stored_and_as_csv() -> None:
    services.add("keyword-list", "k1", {"term": "=SUM(A1)", "added": "2026-12-01"})
    services.add("keyword-list", "k2", {"term": "plain words"})
    everything = live("keyword-list")
    assert read_jsonl(exports.export("keyword-list", exports.ALL, "jsonl").path) == everything
    with gzip.open(exports.export("keyword-list", exports.ALL, "csv").path, "rt") as f:
        rows = {row["key"]: row["data"] for row in csv.DictReader(f)}
    assert {key: json.loads(data) for key, data in rows.items()} == everything


def test_a_failed_write_leaves_no_file_and_says_why(monkeypatch) -> None:
    own_list(30)
    monkeypatch.setattr(exports._Packer, "CHUNK", 256)  # many chunks through the thread
    real_write = exports._Hashing.write

    def disk_fills(self, data):
        if self.size + len(data) > 1000:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(exports._Hashing, "write", disk_fills)
    with pytest.raises(OSError, match="No space left"):
        exports.export("hash-list", Tier.FULL, "jsonl")
    folder = exports._folder("hash-list", Tier.FULL)
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".lock")] == []
    monkeypatch.setattr(exports._Hashing, "write", real_write)
    assert read_jsonl(exports.export("hash-list", Tier.FULL, "jsonl").path) == live()


@pytest.mark.django_db(transaction=True)  # the export runs in a thread of its own
def test_a_disk_that_fills_as_the_file_is_closed_fails_the_export_without_hanging(
    monkeypatch,
) -> None:
    import threading

    from django.db import connection

    own_list(30)
    real_write = exports._Hashing.write
    raw_writes = []

    def full_at_close(self, data):
        if isinstance(self.raw, io.BufferedWriter):  # the file itself, not gzip's input
            raw_writes.append(len(data))
            # gzip's header (a few bytes at a time) goes; the data, flushed as the file
            # is closed, after the last chunk, does not.
            if len(data) > 16:
                raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(exports._Hashing, "write", full_at_close)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            exports.export("hash-list", Tier.FULL, "jsonl")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the export hung"
    assert isinstance(outcome[0], OSError) and max(raw_writes) > 16
    folder = exports._folder("hash-list", Tier.FULL)
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".lock")] == []


def test_after_a_restore_the_new_file_is_kept_and_the_other_historys_files_go() -> None:
    own_list(6)
    services.add("hash-list", "000000000070", {"hashes": {"md5": "7" * 32}})
    old = [exports.export("hash-list", Tier.BASIC, "jsonl").path]
    services.add("hash-list", "000000000071", {"hashes": {"md5": "8" * 32}})
    old.append(exports.export("hash-list", Tier.BASIC, "jsonl").path)
    assert [p.name for p in old] == ["7.jsonl.gz", "8.jsonl.gz"]
    restore_to("hash-list", 4)
    services.add("hash-list", "000000000090", {"hashes": {"md5": "9" * 32}})  # seq 5
    made = exports.export("hash-list", Tier.BASIC, "jsonl")
    assert made.path.exists() and made.seq == 5
    newest = exports.newest("hash-list", Tier.BASIC, "jsonl")
    assert newest is not None and newest.path == made.path
    assert not any(p.exists() for p in old)
    assert "000000000090" in read_jsonl(made.path)


def test_only_the_newest_files_are_kept() -> None:
    own = own_list(3)
    paths = []
    for i in range(4):
        import_records(own, [("row", build_record({"md5": f"{100 + i:032x}"}), [])], source="t")
        paths.append(exports.export("hash-list", Tier.BASIC, "jsonl").path)
    assert [p.exists() for p in paths] == [False, False, True, True]
    newest = exports.newest("hash-list", Tier.BASIC, "jsonl")
    assert newest is not None and newest.path == paths[-1]


def test_a_big_feeds_snapshot_is_prepared_then_streamed_per_tier(
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.FEED_INLINE_SNAPSHOT_LIMIT = 5
    own_list(8)
    basic, full = member_client(Tier.BASIC), member_client(Tier.FULL)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = basic.get(f"{URL}/snapshot")
    assert waiting.status_code == 503 and waiting["Retry-After"] == "120"
    assert waiting.json()["error"] == "preparing"
    assert run_due_tasks("export_task") == ["8.jsonl.gz: 8 items"]
    for client, tier, fields in (
        (basic, "basic", {"hashes"}),
        (full, "full", {"hashes", "grade", "age_band", "list", "uk_category"}),
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = client.get(f"{URL}/snapshot")
        if first.status_code == 503:  # the full tier's file is made on its first request
            run_due_tasks("export_task")
            first = client.get(f"{URL}/snapshot")
        assert first.status_code == 200 and first["Content-Encoding"] == "gzip"
        body = b"".join(first.streaming_content)  # type: ignore[attr-defined]
        manifest = json.loads(base64.b64decode(first["X-Feed-Manifest"]))
        assert signing.verify(body, manifest, signing.public_key_pem())["tier"] == tier
        assert first["X-Feed-Cursor"] == "8"
        rows = [json.loads(line) for line in gzip.decompress(body).splitlines()]
        assert len(rows) == 8
        assert fields <= set(rows[0]["data"]) <= fields | {
            "interpol_baseline", "vics_category", "non_photographic", "victim_identified",
            "series",
        }  # fmt: skip
        again = client.get(f"{URL}/snapshot", headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304
    assert AccessLog.objects.filter(endpoint="snapshot", status=200, items=8).count() == 2
    assert AccessLog.objects.filter(endpoint="snapshot", status=304, bytes=0).count() == 2


def test_a_client_without_gzip_gets_the_signed_gz_file_as_an_attachment(settings) -> None:
    settings.FEED_INLINE_SNAPSHOT_LIMIT = 1
    own_list(3)
    exports.export("hash-list", Tier.BASIC, "csv")
    org = Organisation.objects.create(name="Plain", kind="member")
    Licence.objects.create(organisation=org, feed="hash-list")
    key = issue_key(org, feeds=["hash-list"]).plaintext
    response = Client(headers={"Authorization": f"Bearer {key}"}).get(
        f"{URL}/snapshot", {"format": "csv"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in response
    streamed = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    text = gzip.decompress(streamed).decode()
    header = next(csv.reader(io.StringIO(text)))
    assert header[:5] == ["seq", "op", "key", "md5", "sha1"]


def test_hash_list_csv_has_a_column_per_field_and_guards_formulas() -> None:
    own_list(2)
    made = exports.export("hash-list", Tier.FULL, "csv")
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(made.path.read_bytes()).decode())))
    assert {r["md5"] for r in rows} == {f"{0:032x}", f"{1:032x}"}
    assert {r["uk_category"] for r in rows} == {"C"}
    assert [r["series"] for r in rows if r["series"]] == ["'=cmd|' /C calc'!A0"]
    assert {r["victim_identified"] for r in rows} == {"true", "false"}


def test_hash_list_vics_reads_back_with_the_vics_reader(manager) -> None:
    own_list(3)
    made = exports.export("hash-list", Tier.FULL, "vics")
    results = list(vics.read(io.BytesIO(gzip.decompress(made.path.read_bytes()))))
    records = [r.record for r in results]
    assert all(r is not None for r in records) and len(records) == 3
    by_id = {int(r.external_id): r for r in records if r is not None}
    assert set(by_id) == {int(k) for k in live()}
    first = by_id[min(by_id)]
    assert first.hashes["md5"] == f"{0:032x}" and first.grade == "sexual_posing"


def test_a_vics_delta_marks_a_removal_as_retired(manager) -> None:
    own_list(2)
    org = Organisation.objects.create(name="VICS user", kind="member")
    Licence.objects.create(organisation=org, feed="hash-list", tier=Tier.CATEGORY)
    key = issue_key(org, feeds=["hash-list"]).plaintext
    cursor = services.feed("hash-list").last_seq
    (gone,) = [k for k in sorted(live())][:1]
    services.remove("hash-list", gone)
    response = Client(headers={"Authorization": f"Bearer {key}"}).get(
        f"{URL}/delta", {"cursor": str(cursor), "format": "vics"}
    )
    assert response.status_code == 200
    (result,) = list(vics.read(io.BytesIO(response.content)))
    assert result.record is not None and result.record.retired
    assert int(result.record.external_id) == int(gone)


def test_vics_is_only_for_the_hash_list(company_key: str) -> None:
    response = Client(headers={"Authorization": f"Bearer {company_key}"}).get(
        "/api/v1/feeds/url-list/delta", {"cursor": "0", "format": "vics"}
    )
    assert response.status_code == 400 and response.json()["error"] == "format"


@pytest.fixture
def company_key() -> str:
    org = Organisation.objects.create(name="URL taker", kind="member")
    Licence.objects.create(organisation=org, feed="url-list")
    return issue_key(org, feeds=["url-list"]).plaintext


def test_an_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="tiers"):
        exports.export("url-list", Tier.FULL, "jsonl")
    assert hash_list.key_of(7) == "000000000007"


def test_export_feeds_writes_files_verify_feed_accepts_and_if_stale_skips() -> None:
    from django.core.management import call_command

    own_list(3)
    out = io.StringIO()
    call_command("export_feeds", "--feed", "hash-list", "--tier", "basic", stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    assert out.getvalue().count("3 items at seq 3") == 3  # jsonl, csv, vics
    made = exports.newest("hash-list", Tier.BASIC, "vics")
    assert made is not None
    checked = io.StringIO()
    call_command("verify_feed", str(made.path), stdout=checked)
    assert "verified:" in checked.getvalue() and "count=3" in checked.getvalue()
    again = io.StringIO()
    call_command("export_feeds", "--feed", "hash-list", "--tier", "basic", "--if-stale",
                 stdout=again)  # fmt: skip
    assert again.getvalue() == ""


def test_a_download_verifies_as_served_or_as_decoded(company_key: str) -> None:
    services.add("url-list", "http://bad.test/", {"category": "A"})
    client = Client(headers={"Authorization": f"Bearer {company_key}"})
    zipped = client.get("/api/v1/feeds/url-list/delta", {"cursor": "0"},
                        headers={"Accept-Encoding": "gzip, br"})  # fmt: skip
    assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
    manifest = json.loads(base64.b64decode(zipped["X-Feed-Manifest"]))
    key = signing.public_key_pem()
    signing.verify(zipped.content, manifest, key)
    signing.verify(gzip.decompress(zipped.content), manifest, key)  # what requests hands over
    with pytest.raises(signing.NotVerified):
        signing.verify(gzip.decompress(zipped.content) + b" ", manifest, key)
    refused = client.get("/api/v1/feeds/url-list/delta", {"cursor": "0"},
                         headers={"Accept-Encoding": "gzip;q=0, identity"})  # fmt: skip
    assert "Content-Encoding" not in refused and refused.content.startswith(b"{")


def test_a_snapshot_file_verifies_decoded_too() -> None:
    own_list(3)
    made = exports.export("hash-list", Tier.BASIC, "jsonl")
    signing.verify(gzip.decompress(made.path.read_bytes()), made.manifest, signing.public_key_pem())


def test_a_file_ahead_of_a_restored_feed_is_not_served(settings) -> None:
    settings.FEED_INLINE_SNAPSHOT_LIMIT = 1
    own_list(3)
    exports.export("hash-list", Tier.BASIC, "jsonl")
    # The database comes back from a backup taken before the last change.
    from openhotline.feeds.models import Feed

    Feed.objects.filter(name="hash-list").update(last_seq=2)
    assert exports.newest("hash-list", Tier.BASIC, "jsonl") is None
    assert exports.stale("hash-list", Tier.BASIC, "jsonl")


def test_a_file_from_a_history_the_restored_feed_no_longer_has_is_not_served() -> None:
    own_list(3)
    made = exports.export("hash-list", Tier.BASIC, "jsonl")
    assert made.manifest["to_tag"] == services.tag_of(services.feed("hash-list").pk, 3)
    restore_to("hash-list", 2)
    services.add("hash-list", "000000000099", {"hashes": {"md5": "9" * 32}})  # seq 3 again
    assert exports.newest("hash-list", Tier.BASIC, "jsonl") is None
    again = exports.export("hash-list", Tier.BASIC, "jsonl")
    assert again.seq == 3 and "000000000099" in read_jsonl(again.path)


@pytest.mark.django_db(transaction=True)
def test_two_exports_at_once_leave_one_file_that_matches_its_manifest(settings, tmp_path) -> None:
    import threading

    from django.db import connection

    own_list(30)
    made: list = []

    def run() -> None:
        made.append(exports.export("hash-list", Tier.FULL, "csv"))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(made) == 2 and made[0].path == made[1].path
    newest = exports.newest("hash-list", Tier.FULL, "csv")
    assert newest is not None
    signing.verify(newest.path.read_bytes(), newest.manifest, signing.public_key_pem())
    assert len(list(newest.path.parent.glob("*.csv.gz"))) == 1
