"""Sharing a hash list with members is off unless a manager chose it: lists start unshared
(but the hotline's own grading), only managers and administrators share or stop sharing,
after typing the list's name, audited; `import-hashes --create` shares only when told."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openhotline.assessment.followups import own_list
from openhotline.audit.models import AuditEvent
from openhotline.feeds.models import FeedItem
from openhotline.signals.models import HashList, ListEntry, ListSource
from tests.conftest import verified_client
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db


def live() -> set[str]:
    return set(FeedItem.objects.filter(feed__name="hash-list", removed_seq=None).values_list(
        "key", flat=True))  # fmt: skip


def test_lists_start_unshared_but_the_hotlines_own_grading() -> None:
    for source in (ListSource.POLICE, ListSource.PARTNER, ListSource.MEMBER):
        made = HashList.objects.create(name=f"l-{source}", source=source)
        assert made.share_with_members is False
        assert HashList(name=f"m-{source}", source=source).share_with_members is False
    # The list confirmed grades go into, made by the system: members get the hotline's own.
    assert own_list().share_with_members is True
    assert HashList.objects.create(name="x", source=ListSource.OWN, share_with_members=False)


@pytest.fixture
def caid() -> HashList:
    return HashList.objects.create(name="caid", source=ListSource.POLICE)


@pytest.mark.parametrize("who", ["analyst", "qa_reviewer", "police_liaison"])
def test_only_managers_share_a_list_and_others_are_refused_and_audited(
    request: pytest.FixtureRequest, caid: HashList, who: str
) -> None:
    client = verified_client(request.getfixturevalue(who))
    assert client.get("/staff/lists/caid/sharing/").status_code == 403
    posted = client.post("/staff/lists/caid/sharing/", {"share": "yes", "confirm": "caid"})
    assert posted.status_code == 403
    caid.refresh_from_db()
    assert caid.share_with_members is False
    assert AuditEvent.objects.filter(action="signals.refused").count() == 2
    assert not AuditEvent.objects.filter(action="signals.list_shared").exists()


@pytest.mark.parametrize("confirm", ["", "CAID", "other-list"])
def test_sharing_needs_the_lists_name_typed_and_changes_nothing_without_it(
    manager, caid: HashList, confirm: str
) -> None:
    client = verified_client(manager)
    page = client.get("/staff/lists/caid/sharing/")
    assert page.status_code == 200 and b"Type the list" in page.content
    assert b"This is a police list" in page.content
    refused = client.post("/staff/lists/caid/sharing/", {"share": "yes", "confirm": confirm})
    assert refused.status_code == 400 and b"to confirm" in refused.content
    caid.refresh_from_db()
    assert caid.share_with_members is False
    assert not AuditEvent.objects.filter(action="signals.list_shared").exists()


@pytest.mark.parametrize("who", ["manager", "administrator"])
def test_a_manager_shares_and_unshares_with_an_audit_event_naming_list_and_person(
    request: pytest.FixtureRequest, caid: HashList, who: str, django_capture_on_commit_callbacks
) -> None:
    person = request.getfixturevalue(who)
    client = verified_client(person)
    with django_capture_on_commit_callbacks(execute=True):
        shared = client.post("/staff/lists/caid/sharing/", {"share": "yes", "confirm": "caid"})
    assert shared.status_code == 302
    caid.refresh_from_db()
    assert caid.share_with_members is True
    event = AuditEvent.objects.get(action="signals.list_shared")
    assert (event.actor, event.data["list"], event.object_id) == (person.username, "caid",
                                                                   str(caid.pk))  # fmt: skip
    # Asking for what is so already changes and records nothing.
    client.post("/staff/lists/caid/sharing/", {"share": "yes", "confirm": "caid"})
    assert AuditEvent.objects.filter(action="signals.list_shared").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/staff/lists/caid/sharing/", {"share": "no", "confirm": "caid"})
    caid.refresh_from_db()
    assert caid.share_with_members is False
    assert AuditEvent.objects.get(action="signals.list_unshared").actor == person.username


def test_the_settings_form_no_longer_shares_a_list(manager, caid: HashList) -> None:
    response = verified_client(manager).post(
        "/staff/lists/caid/settings/",
        {"enabled": "on", "share_with_members": "on", "pdq_threshold": "20"},
    )
    assert response.status_code == 302
    caid.refresh_from_db()
    assert caid.pdq_threshold == 20 and caid.share_with_members is False


def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "caid.csv"
    path.write_text("md5,grade,victim_identified\n" + "a" * 32 + ",sexual_posing,true\n")
    return path


def test_import_hashes_creates_an_unshared_list_unless_told(tmp_path: Path) -> None:
    call_command("import_hashes", str(csv_file(tmp_path)), "--list", "caid",
                 "--create", "police", "--quiet", stdout=io.StringIO())  # fmt: skip
    assert HashList.objects.get(name="caid").share_with_members is False
    assert ListEntry.objects.count() == 1 and live() == set()
    created = AuditEvent.objects.get(action="signals.list_created")
    assert created.data["via"] == "import-hashes"


def test_import_hashes_shares_a_new_list_when_told_and_says_so_in_the_audit_log(
    tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_hashes", str(csv_file(tmp_path)), "--list", "partner",
                     "--create", "partner", "--share-with-members", "--quiet",
                     stdout=io.StringIO())  # fmt: skip
    run_due_tasks("sync_list")
    assert HashList.objects.get(name="partner").share_with_members is True
    assert len(live()) == 1
    event = AuditEvent.objects.get(action="signals.list_shared")
    assert event.actor == "" and event.data == {"list": "partner", "source": "partner",
                                                "via": "import-hashes"}  # fmt: skip


def test_import_hashes_will_not_share_an_existing_list(tmp_path: Path, caid: HashList) -> None:
    with pytest.raises(CommandError, match="manager shares an existing list"):
        call_command("import_hashes", str(csv_file(tmp_path)), "--list", "caid",
                     "--share-with-members", "--quiet", stdout=io.StringIO())  # fmt: skip
    caid.refresh_from_db()
    assert caid.share_with_members is False and not ListEntry.objects.exists()
