"""Staff pages for hash lists: every staff role reads; only managers change lists,
retire entries or add allow-list hashes; bad input gets a clear error and an audit row
where it matters; text from imported files is escaped."""

import pytest
from django.test import Client

from openhotline.accounts.models import User
from openhotline.audit.models import AuditEvent
from openhotline.evidence import store
from openhotline.evidence.models import Media
from openhotline.signals.lists import import_records
from openhotline.signals.models import AllowedHash, HashList, ListEntry, Match
from openhotline.signals.records import build_record
from openhotline.simnet.images import make_png
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

PDQ_VALUE = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def caid() -> HashList:
    hash_list = HashList.objects.create(name="caid", source="police")
    import_records(
        hash_list,
        iter([("line 2", build_record({"pdq": PDQ_VALUE, "grade": "non_penetrative",
                                       "external_id": "V-1", "series": HOSTILE}), [])]),
        source="import:caid.csv",
    )  # fmt: skip
    return hash_list


@pytest.fixture
def manager_client(manager: User) -> Client:
    return verified_client(manager)


def test_staff_see_lists_entries_and_their_history(analyst_client: Client, caid: HashList) -> None:
    page = analyst_client.get("/staff/lists/").content.decode()
    assert "caid" in page and "Police / CAID import" in page
    assert "New hash list" not in page  # analysts read, managers change
    detail = analyst_client.get("/staff/lists/caid/").content.decode()
    assert "V-1" in detail and HOSTILE not in detail and "&lt;script&gt;" in detail
    entry = ListEntry.objects.get()
    page = analyst_client.get(f"/staff/entries/{entry.pk}/").content.decode()
    assert "Non-penetrative sexual activity" in page and "Category B" in page
    assert "import:caid.csv line 2" in page


def test_entries_are_found_by_any_spelling_of_their_hash(
    analyst_client: Client, caid: HashList
) -> None:
    found = analyst_client.get("/staff/lists/caid/", {"q": "  " + PDQ_VALUE.upper()})
    assert "V-1" in found.content.decode()
    missing = analyst_client.get("/staff/lists/caid/", {"q": "0" * 64}).content.decode()
    assert "No entries found" in missing


def test_a_manager_creates_a_list_and_bad_names_are_refused_next_to_the_field(
    manager_client: Client,
) -> None:
    response = manager_client.post("/staff/lists/", {"name": "partner-nl", "source": "partner"})
    assert response.status_code == 302 and HashList.objects.filter(name="partner-nl").exists()
    assert AuditEvent.objects.filter(action="signals.list_created").count() == 1
    bad = manager_client.post("/staff/lists/", {"name": "<b>bad name</b>", "source": "nope"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'id="name-error"' in page and 'id="source-error"' in page
    assert "&lt;b&gt;bad name&lt;/b&gt;" in page  # what was typed comes back, escaped
    assert HashList.objects.count() == 1


def test_analysts_cannot_change_lists_and_the_refusal_is_audited(
    analyst_client: Client, caid: HashList
) -> None:
    entry = ListEntry.objects.get()
    attempts = [
        ("/staff/lists/", {"name": "mine", "source": "own"}),
        ("/staff/lists/caid/settings/", {"pdq_threshold": "60"}),
        ("/staff/lists/caid/allow/", {"hash_type": "pdq", "value": PDQ_VALUE, "reason": "x"}),
        (f"/staff/entries/{entry.pk}/retire/", {"reason": "x"}),
        (f"/staff/entries/{entry.pk}/restore/", {"reason": "x"}),
    ]
    for path, data in attempts:
        assert analyst_client.post(path, data).status_code == 403, path
    assert AuditEvent.objects.filter(action="signals.refused").count() == len(attempts)
    caid.refresh_from_db()
    entry.refresh_from_db()
    assert caid.pdq_threshold == 31 and not entry.retired and not AllowedHash.objects.exists()


def test_a_manager_changes_settings_with_checks(manager_client: Client, caid: HashList) -> None:
    manager_client.post("/staff/lists/caid/settings/", {"pdq_threshold": "20"})
    caid.refresh_from_db()
    assert caid.pdq_threshold == 20 and not caid.enabled
    event = AuditEvent.objects.get(action="signals.list_changed")
    assert event.data["before"]["pdq_threshold"] == 31 and event.data["after"]["enabled"] is False
    for bad in ({"pdq_threshold": "99", "enabled": "on"}, {"pdq_threshold": "x", "enabled": "on"},
                {"pdq_threshold": "10", "photodna_threshold": "-1", "enabled": "on"}):  # fmt: skip
        response = manager_client.post("/staff/lists/caid/settings/", bad, follow=True)
        assert "Not saved" in response.content.decode()
    caid.refresh_from_db()
    assert caid.pdq_threshold == 20


def test_allow_listing_checks_the_hash_and_needs_a_reason(
    manager_client: Client, caid: HashList
) -> None:
    def allow(**data: str) -> str:
        response = manager_client.post("/staff/lists/caid/allow/", data, follow=True)
        return response.content.decode()

    assert "not hex" in allow(hash_type="pdq", value="zz" * 32, reason="logo")
    assert "say why" in allow(hash_type="pdq", value=PDQ_VALUE, reason=" ")
    assert "unknown hash type" in allow(hash_type="crc32", value="00", reason="logo")
    assert "Added to the allow-list" in allow(
        hash_type="pdq", value=PDQ_VALUE.upper(), reason="logo"
    )
    assert "already" in allow(hash_type="pdq", value=PDQ_VALUE, reason="again")
    allowed = AllowedHash.objects.get()
    assert allowed.value == PDQ_VALUE and allowed.added_by is not None


def test_a_manager_retires_and_restores_an_entry(manager_client: Client, caid: HashList) -> None:
    entry = ListEntry.objects.get()
    refused = manager_client.post(f"/staff/entries/{entry.pk}/retire/", {"reason": ""}, follow=True)
    assert "a reason is needed" in refused.content.decode()
    manager_client.post(f"/staff/entries/{entry.pk}/retire/", {"reason": "a meme"})
    entry.refresh_from_db()
    assert entry.retired and entry.retired_reason == "a meme"
    manager_client.post(f"/staff/entries/{entry.pk}/restore/", {"reason": "wrong entry"})
    entry.refresh_from_db()
    assert not entry.retired


def test_why_did_this_match_shows_distance_threshold_list_and_provenance(
    analyst_client: Client, caid: HashList
) -> None:
    entry = ListEntry.objects.get()
    entry.provenance = "CAID 2026-10 release"
    entry.save()
    media = Media.objects.create(blob=store.put(make_png("why")), kind="image", status="ok")
    near = f"{int(PDQ_VALUE, 16) ^ 0b111:064x}"
    match = Match.objects.create(
        media=media, entry=entry, hash_list=caid, hash_type="pdq", distance=3, threshold=31,
        media_value=near, entry_value=PDQ_VALUE, near_exact=True,
    )  # fmt: skip
    page = analyst_client.get(f"/staff/matches/{match.pk}/").content.decode()
    assert "distance <strong>3</strong>" in page and "within 31" in page
    assert "CAID 2026-10 release" in page and "caid" in page
    assert page.count('class="differs"') == 3
    assert "no reveal" in page.lower() or "without revealing" in page
    listing = analyst_client.get("/staff/matches/", {"list": "caid"}).content.decode()
    assert f"/staff/matches/{match.pk}/" in listing


def test_entries_are_paged_by_id(analyst_client: Client) -> None:
    hash_list = HashList.objects.create(name="big", source="police")
    entries = ListEntry.objects.bulk_create(
        ListEntry(hash_list=hash_list, external_id=f"E-{n}") for n in range(55)
    )
    first = analyst_client.get("/staff/lists/big/").content.decode()
    assert "E-54" in first and "E-4<" not in first and "Older entries" in first
    cursor = sorted(e.pk for e in entries)[5]
    second = analyst_client.get("/staff/lists/big/", {"before": cursor}).content.decode()
    assert "E-4<" in second and "Older entries" not in second
    # A cursor that is not a number starts from the first page.
    assert "E-54" in analyst_client.get("/staff/lists/big/", {"before": "junk"}).content.decode()
