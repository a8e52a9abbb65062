"""Member organisations: staff licence them and issue their users' sign-ins; their users
sign in to their own portal, make and revoke keys within their licences, and see usage."""

import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import Organisation, Role, User
from openhotline.audit.models import AuditEvent
from openhotline.feeds import services
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import AccessLog, Licence, MemberKey, Membership
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


def once(client: Client, page: str) -> str:
    """The one-use token of the form on `page`."""
    found = re.search(r'name="once" value="([^"]+)"', client.get(page).content.decode())
    assert found is not None
    return found.group(1)


@pytest.fixture
def company(member: User) -> Organisation:
    org = member.organisation
    assert org is not None
    Licence.objects.create(organisation=org, feed="url-list")
    Licence.objects.create(organisation=org, feed="hash-list", tier="category")
    Membership.objects.create(organisation=org, can_match=True)
    return org


def test_a_member_makes_a_key_sees_it_once_and_it_works(member: User, company) -> None:
    client = verified_client(member)
    page = client.get("/members/")
    assert page.status_code == 200
    assert b"Hashes with category" in page.content and b"Matching API: yes" in page.content
    form = {"name": "blocklist sync", "feeds": ["url-list"], "expires_days": "90",
            "once": once(client, "/members/")}  # fmt: skip
    made = client.post("/members/keys/", form)
    assert made["Cache-Control"].startswith("max-age=0") and "no-store" in made["Cache-Control"]
    # The answer re-posted (a reload) issues nothing more.
    assert client.post("/members/keys/", form).status_code == 302
    assert made.status_code == 200
    found = re.search(rb'id="new-key">(ohk_[^<]+)<', made.content)
    assert found is not None
    plaintext = found.group(1).decode()
    key = MemberKey.objects.get(organisation=company)
    assert key.feeds == ["url-list"] and key.name == "blocklist sync" and not key.can_match
    assert plaintext not in str(MemberKey.objects.values())  # only a digest is kept
    services.add("url-list", "http://listed.test/", {})
    api = Client(headers={"Authorization": f"Bearer {plaintext}"})
    assert api.get("/api/v1/feeds/url-list/delta", {"cursor": "0"}).status_code == 200
    # Shown once: the portal never shows it again.
    assert plaintext.encode() not in client.get("/members/").content
    usage = client.get("/members/").content.decode()
    assert re.search(r"<td>delta</td><td>url-list</td><td>1</td><td>1</td>", usage)
    assert AuditEvent.objects.filter(action="feeds.key_created").count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"feeds": ["vc-alerts"]}, "feeds", "licence"),
        ({"feeds": []}, "feeds", "at least one"),
        ({"feeds": ["url-list"], "expires_days": "9999"}, "expires_days", "1 to 730"),
        ({"feeds": ["url-list"], "expires_days": "-1"}, "expires_days", "1 to 730"),
        ({"feeds": ["url-list"], "networks": "10.0.0.0/33"}, "networks", "Not a network"),
        ({"feeds": ["url-list"], "name": "x\x00y"}, "name", "printable"),
    ],
)
def test_bad_key_requests_are_refused_and_keep_what_was_typed(
    member: User, company, fields: dict, field: str, message: str
) -> None:
    client = verified_client(member)
    response = client.post("/members/keys/", {"name": "mine", "once": once(client, "/members/"),
                                              **fields})  # fmt: skip
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MemberKey.objects.exists()


def test_a_key_form_posted_without_its_token_issues_nothing(member: User, company) -> None:
    client = verified_client(member)
    for token in ("", "forged"):
        response = client.post("/members/keys/", {"feeds": ["url-list"], "once": token})
        assert response.status_code == 302
    assert not MemberKey.objects.exists()


def test_injection_in_a_key_name_is_shown_as_text(member: User, company) -> None:
    client = verified_client(member)
    client.post("/members/keys/", {"name": "<script>alert(1)</script>", "feeds": ["url-list"],
                                   "once": once(client, "/members/")})  # fmt: skip
    page = client.get("/members/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_member_revokes_its_own_key_but_not_anothers(member: User, company) -> None:
    mine = issue_key(company, feeds=["url-list"])
    other_org = Organisation.objects.create(name="Other", kind="member")
    theirs = issue_key(other_org, feeds=["url-list"])
    client = verified_client(member)
    assert client.post(f"/members/keys/{theirs.key.key_id}/revoke/").status_code == 404
    assert client.post(f"/members/keys/{mine.key.key_id}/revoke/").status_code == 302
    api = Client(headers={"Authorization": f"Bearer {mine.plaintext}"})
    assert api.get("/api/v1/feeds/url-list/delta", {"cursor": "0"}).json()["error"] == "revoked"
    theirs.key.refresh_from_db()
    assert theirs.key.revoked_at is None
    assert b"revoked" in client.get("/members/").content


def test_a_manager_sets_up_a_member_whose_user_signs_in_to_the_portal(manager: User) -> None:
    staff = verified_client(manager)
    created = staff.post("/staff/members/", {"name": "Tiny Forum", "country": "nl"})
    org = Organisation.objects.get(name="Tiny Forum")
    assert created.status_code == 302 and org.country == "NL" and org.kind == "member"
    staff.post(f"/staff/members/{org.pk}/licences/", {"feed": "hash-list", "tier": "full"})
    staff.post(f"/staff/members/{org.pk}/membership/",
               {"can_match": "on", "calls_per_minute": "30"})  # fmt: skip
    assert Licence.objects.get(organisation=org).tier == "full"
    assert Membership.objects.get(organisation=org).calls_per_minute == 30
    token = once(staff, f"/staff/members/{org.pk}/")
    page = staff.post(f"/staff/members/{org.pk}/users/", {"username": "forum-admin", "once": token})
    assert "no-store" in page["Cache-Control"]
    found = re.search(rb'id="issued-password">([^<]+)<', page.content)
    assert found is not None
    password = found.group(1).decode()
    user = User.objects.get(username="forum-admin")
    assert user.role == Role.MEMBER and user.organisation == org and not user.is_staff
    device = TOTPDevice.objects.get(user=user)
    code = f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"
    form = {"username": "forum-admin", "password": password, "otp_token": code}
    signed_in = Client().post("/staff/sign-in/", form)
    assert signed_in.status_code == 302 and signed_in["Location"] == "/members/"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"members.created", "members.licence_set", "members.membership_set",
            "members.user_created"} <= actions  # fmt: skip


def test_staff_see_usage_and_revoke_any_members_key(manager: User, company) -> None:
    key = issue_key(company, feeds=["url-list"])
    AccessLog.objects.create(key=key.key, organisation=company, endpoint="match", status=200,
                             items=100, matched=3)  # fmt: skip
    staff = verified_client(manager)
    page = staff.get(f"/staff/members/{company.pk}/").content.decode()
    assert re.search(r"<td>match</td><td>—</td><td>1</td><td>100</td><td>3</td>", page)
    staff.post(f"/staff/members/{company.pk}/keys/{key.key.key_id}/revoke/")
    key.key.refresh_from_db()
    assert key.key.revoked_at is not None
    staff.post(f"/staff/members/{company.pk}/licences/url-list/end/")
    assert not Licence.objects.filter(organisation=company, feed="url-list").exists()


def test_bad_staff_input_is_refused_with_the_reason(manager: User, company) -> None:
    staff = verified_client(manager)
    assert staff.post("/staff/members/", {"name": "", "country": "GBR"}).status_code == 400
    bad = staff.post(f"/staff/members/{company.pk}/licences/", {"feed": "nope"})
    assert bad.status_code == 400 and b"Select a valid choice" in bad.content
    token = once(staff, f"/staff/members/{company.pk}/")
    taken = staff.post(f"/staff/members/{company.pk}/users/", {"username": "mem-member",
                                                               "once": token})  # fmt: skip
    assert taken.status_code == 400 and b"taken" in taken.content


def test_the_demo_member_gets_a_working_key_each_run_and_the_old_one_stops() -> None:
    from openhotline.demo.seed import seed_member

    first, second = seed_member(), seed_member()
    keys = MemberKey.objects.filter(organisation__name="Demo Platform")
    assert keys.count() == 2 and keys.filter(revoked_at=None).count() == 1
    old = Client(headers={"Authorization": f"Bearer {first.api_key}"})
    new = Client(headers={"Authorization": f"Bearer {second.api_key}"})
    assert old.get("/api/v1/feeds/hash-list/delta", {"cursor": "0"}).status_code == 401
    assert new.get("/api/v1/feeds/hash-list/delta", {"cursor": "0"}).status_code == 200
    assert User.objects.get(username="demo-member").role == Role.MEMBER


def test_a_member_holds_at_most_ten_keys_in_use(member: User, company) -> None:
    for _ in range(10):
        issue_key(company, feeds=["url-list"])
    client = verified_client(member)
    refused = client.post("/members/keys/", {"feeds": ["url-list"],
                                             "once": once(client, "/members/")})  # fmt: skip
    assert refused.status_code == 400 and b"revoke one first" in refused.content
    assert MemberKey.objects.filter(organisation=company).count() == 10
