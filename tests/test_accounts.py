"""Staff sign in with a password and a TOTP code; failures of either lead to lockout."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from openhotline.accounts.models import ApiToken, Role, User
from openhotline.accounts.tokens import check_token, issue_token, revoke_token
from openhotline.audit.models import AuditEvent
from tests.conftest import totp_now

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def sign_in(client: Client, username: str, password: str, code: str, next_url: str = ""):
    return client.post(
        "/staff/sign-in/",
        {"username": username, "password": password, "otp_token": code, "next": next_url},
    )


def test_it_signs_in_with_password_and_code(client: Client, analyst: User) -> None:
    response = sign_in(client, analyst.username, PASSWORD, totp_now(analyst))
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.signed_in", actor=analyst.username).exists()


def test_a_password_alone_is_not_enough(client: Client, analyst: User) -> None:
    response = sign_in(client, analyst.username, PASSWORD, "000000")
    assert response.status_code == 200
    assert "not right" in response.content.decode()
    assert client.get("/staff/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 1


def test_a_failed_sign_in_keeps_no_trace_of_what_was_typed(client: Client, analyst: User) -> None:
    """A password typed into the user-name field must not enter the (immutable) audit
    chain; a real user's failures are still attributed to them."""
    typed = "Correct-Horse-Battery-9917"
    for _ in range(2):
        assert sign_in(Client(), typed, "whatever", "123456").status_code == 200
    sign_in(Client(), "someone-else", "whatever", "123456")
    sign_in(Client(), analyst.username, "wrong password", "123456")
    failures = list(AuditEvent.objects.filter(action="auth.sign_in_failed").order_by("seq"))
    assert len(failures) == 4
    everything = serializers.serialize("json", AuditEvent.objects.all())
    assert typed not in everything and typed.lower() not in everything.lower()
    digests = [event.data.get("unknown_name_digest") for event in failures[:3]]
    assert digests[0] == digests[1] != digests[2]  # one name tried twice, then another
    assert all(len(d or "") == 32 for d in digests)
    mine = failures[3]
    assert (mine.object_type, mine.object_id, mine.data) == ("accounts.user", str(analyst.pk), {})


def test_the_lockout_keeps_no_trace_of_what_was_typed_either(client: Client, analyst: User) -> None:
    """django-axes keeps attempts (and a failure log) for the lockout: a string typed into
    the user-name field is kept only as a keyed digest there too; a real user's name as it
    is, so locking and unlocking by name keeps working."""
    typed = "Correct-Horse-Battery-9917"
    sign_in(Client(), typed, "whatever", "123456")
    sign_in(Client(), analyst.username, "wrong password", "123456")
    kept = serializers.serialize(
        "json", [*AccessAttempt.objects.all(), *AccessFailureLog.objects.all()]
    )
    assert AccessAttempt.objects.count() >= 2
    assert typed not in kept and typed.lower() not in kept.lower()
    assert AccessAttempt.objects.filter(username=analyst.username).exists()
    assert AccessAttempt.objects.filter(username__startswith="unknown:").exists()


def test_a_used_code_cannot_be_replayed(client: Client, analyst: User) -> None:
    code = totp_now(analyst)
    assert sign_in(client, analyst.username, PASSWORD, code).status_code == 302
    assert sign_in(Client(), analyst.username, PASSWORD, code).status_code == 200


def test_it_redirects_only_to_local_pages_after_sign_in(client: Client, analyst: User) -> None:
    response = sign_in(
        client, analyst.username, PASSWORD, totp_now(analyst), "https://evil.example/"
    )
    assert response["Location"] == "/staff/"


def test_repeated_failures_lock_the_account(client: Client, analyst: User, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, analyst.username, "wrong password", "123456")
    response = sign_in(client, analyst.username, PASSWORD, totp_now(analyst))
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/staff/").status_code == 302


def test_wrong_codes_count_towards_lockout_too(client: Client, analyst: User, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, analyst.username, PASSWORD, "000000")
    response = sign_in(client, analyst.username, PASSWORD, totp_now(analyst))
    assert response.status_code == 429


def test_create_staff_prints_a_password_and_a_totp_uri() -> None:
    out = StringIO()
    call_command("create_staff", "new-analyst", "--role", "analyst", stdout=out)
    text = out.getvalue()
    password = re.findall(r"password:\s+(\S+)", text)[0]
    uri = re.findall(r"totp-uri:\s+(\S+)", text)[0]
    assert uri.startswith("otpauth://totp/")
    user = User.objects.get(username="new-analyst")
    assert user.role == Role.ANALYST and user.check_password(password)
    assert user.password.startswith("argon2$") or user.password.startswith("md5$")
    device = TOTPDevice.objects.get(user=user)
    code = f"{TOTP(device.bin_key).token():06d}"
    assert sign_in(Client(), "new-analyst", password, code).status_code == 302
    with pytest.raises(CommandError, match="exists"):
        call_command("create_staff", "new-analyst", "--role", "analyst", stdout=StringIO())


def test_passwords_are_hashed_with_argon2_in_production() -> None:
    from django.conf import settings as django_settings

    from openhotline import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert django_settings.AUTH_USER_MODEL == "accounts.User"


def test_create_staff_refuses_unknown_roles() -> None:
    with pytest.raises(CommandError):
        call_command("create_staff", "x", "--role", "emperor", stdout=StringIO())


def test_api_tokens_are_prefixed_digested_and_revocable(client: Client, analyst: User) -> None:
    out = StringIO()
    call_command("create_api_token", analyst.username, "--name", "scripts", stdout=out)
    plaintext = out.getvalue().strip()
    assert plaintext.startswith("oht_")
    token = ApiToken.objects.get()
    secret = plaintext.removeprefix("oht_").partition("_")[2]
    assert token.token_id in plaintext and secret not in token.digest
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    call_command("revoke_api_token", token.token_id, stdout=StringIO())
    response = client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_and_forged_tokens_are_refused(analyst: User) -> None:
    expired = issue_token(analyst, expires_at=timezone.now() - timedelta(seconds=1))
    assert check_token(expired.plaintext) is None
    good = issue_token(analyst)
    assert check_token(good.plaintext) is not None
    assert check_token(good.plaintext[:-1] + ("A" if good.plaintext[-1] != "A" else "B")) is None
    assert check_token("oht_nosuchid_secret") is None
    assert check_token("garbage") is None
    assert revoke_token(good.plaintext).revoked_at is not None
    assert check_token(good.plaintext) is None


def test_a_member_token_does_not_open_staff_endpoints(client: Client, member: User) -> None:
    headers = {"Authorization": f"Bearer {issue_token(member).plaintext}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 403


def test_admin_access_follows_the_role_and_admin_edits_are_audited(administrator: User) -> None:
    from tests.conftest import verified_client

    client = verified_client(administrator)
    assert client.get("/staff/admin/").status_code == 200
    target = User.objects.create_user("to-edit", password="x" * 20, role=Role.ANALYST)
    response = client.post(
        f"/staff/admin/accounts/user/{target.pk}/change/",
        {"username": "to-edit", "email": "", "role": "qa_reviewer", "organisation": "",
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert User.objects.get(pk=target.pk).role == Role.QA_REVIEWER
    event = AuditEvent.objects.get(action="admin.changed")
    assert event.actor == administrator.username and event.data == {"fields": ["role"]}
    administrator.role = Role.MEMBER
    administrator.save()
    administrator.refresh_from_db()
    assert not administrator.is_staff and not administrator.is_superuser
    assert client.get("/staff/admin/").status_code == 302


def test_the_admin_cannot_bring_a_revoked_token_back(administrator: User, analyst: User) -> None:
    from tests.conftest import verified_client

    issued = issue_token(analyst)
    revoke_token(issued.plaintext)
    client = verified_client(administrator)
    client.post(
        f"/staff/admin/accounts/apitoken/{issued.token.pk}/change/",
        {"name": "renamed", "revoked_at_0": "", "revoked_at_1": ""},
    )
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.revoked_at is not None
    assert check_token(issued.plaintext) is None
