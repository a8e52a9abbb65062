"""Member organisations in the browser: a member's user signs in to the portal, makes an
API key that is shown once, uses it, sees it listed with its usage, is told what is wrong
with a bad request (with what they typed kept) and revokes the key; a hotline manager
adds a member, licenses it and issues a sign-in that works; an analyst is kept out."""

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from openhotline.accounts.models import Organisation, OrganisationKind, Role, User
from openhotline.audit.models import AuditEvent
from openhotline.feeds import services
from openhotline.feeds.models import AccessLog, Licence, MemberKey, Membership
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTED = "http://listed.test/gallery/1"
# No proxy from the environment: the API is asked on loopback, directly.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def company(member: User) -> Organisation:
    org = member.organisation
    assert org is not None
    Licence.objects.create(organisation=org, feed="url-list")
    Licence.objects.create(organisation=org, feed="hash-list", tier="category")
    Membership.objects.create(organisation=org, can_match=True)
    return org


def api_get(url: str, key: str) -> tuple[int, dict[str, str], bytes]:
    """GET `url` with the member key as bearer token: status, headers and body."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with DIRECT.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, dict(refused.headers), refused.read()


@contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a new browser context (no cookies), failing on script errors and on
    404 or server errors, as the `page` fixture does."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}") if r.status == 404 or r.status >= 500 else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert problems == []


def totp_from_uri(uri: str) -> tuple[bytes, str]:
    """The secret in an otpauth:// URI, and the code an authenticator app shows now."""
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    secret = query["secret"]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digits = int(query.get("digits", "6"))
    step = int(query.get("period", "30"))
    return key, f"{totp(key, step=step, digits=digits):0{digits}d}"


def test_a_member_makes_uses_and_revokes_an_api_key(
    page: Page, live_server: Any, member: User, company: Organisation
) -> None:
    services.add("url-list", LISTED, {})
    page.goto(f"{live_server.url}/staff/sign-in/")
    sign_in(page, member)
    # A member's user lands on the portal, not on the staff inbox.
    expect(page).to_have_url(f"{live_server.url}/members/")
    expect(page.get_by_role("heading", name="Example Social")).to_be_visible()
    licences = page.locator("table.licences")
    expect(licences.locator("tbody tr", has_text="URL List")).to_contain_text("no end date")
    expect(licences.locator("tbody tr", has_text="Hash List")).to_contain_text(
        "Hashes with category"
    )
    expect(page.get_by_text("Matching API: yes")).to_be_visible()
    expect(page.locator("table.keys")).to_contain_text("No keys yet.")
    expect(page.locator("table.usage")).to_contain_text("No use yet.")
    assert page.get_by_role("link", name="Inbox").count() == 0  # nothing of casework

    page.get_by_label("Name (for your records)").fill("nightly sync")
    page.get_by_label("url-list").check()
    page.get_by_label("Expires after (days").fill("30")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    plaintext = page.locator("#new-key").inner_text().strip()
    key = MemberKey.objects.get(organisation=company)
    assert re.fullmatch(rf"ohk_{key.key_id}_[A-Za-z0-9_-]{{40,}}", plaintext)
    secret = plaintext.removeprefix(f"ohk_{key.key_id}_")
    assert key.name == "nightly sync" and key.feeds == ["url-list"] and not key.can_match
    assert key.allowed_networks == [] and key.revoked_at is None
    assert key.expires_at is not None
    assert abs(key.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=5)
    assert secret not in str(list(MemberKey.objects.values()))  # only its digest is kept
    assert AuditEvent.objects.filter(action="feeds.key_created").count() == 1

    status, headers, body = api_get(
        f"{live_server.url}/api/v1/feeds/url-list/delta?cursor=0", plaintext
    )
    assert status == 200
    rows = [json.loads(line) for line in body.splitlines()]
    assert [(row["op"], row["key"]) for row in rows] == [("add", LISTED)]
    assert headers["X-Feed-Cursor"] == "1"
    call = AccessLog.objects.get(key=key)
    assert (call.endpoint, call.feed, call.status, call.items) == ("delta", "url-list", 200, 1)

    # The portal again (a fresh GET): the key is listed, its secret is not shown again.
    page.goto(f"{live_server.url}/members/")
    expect(page.locator("#new-key")).to_have_count(0)
    assert secret not in page.content()
    row = page.locator(f"#key-{key.key_id}")
    expires = timezone.localtime(key.expires_at).strftime("%Y-%m-%d")
    for text in (f"ohk_{key.key_id}_…", "nightly sync", "url-list", "any", expires):
        expect(row).to_contain_text(text)
    expect(row.locator("td").nth(7)).not_to_have_text("never")  # last used: just now
    usage = page.locator("table.usage tbody tr")
    expect(usage).to_have_count(1)
    expect(usage.locator("td")).to_have_text(["delta", "url-list", "1", "1", "0", str(call.bytes)])
    page.get_by_text("Latest 50 requests").click()
    expect(page.locator("table.recent tbody tr")).to_have_count(1)
    expect(page.locator("table.recent tbody tr").locator("td")).to_have_text(
        [re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"), f"ohk_{key.key_id}", "delta",
         "url-list", "200", "1"]
    )  # fmt: skip

    # A network that is not one: refused, with the reason and what was typed kept.
    page.get_by_label("Name (for your records)").fill("office only")
    page.get_by_label("url-list").check()
    page.get_by_label("Only from these networks").fill("10.0.0.0/33")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("p.error")).to_have_count(1)
    expect(page.locator("p.error")).to_contain_text("Not a network: '10.0.0.0/33'")
    expect(page.get_by_label("Only from these networks")).to_have_value("10.0.0.0/33")
    expect(page.get_by_label("Name (for your records)")).to_have_value("office only")
    expect(page.get_by_label("url-list")).to_be_checked()
    expect(page.get_by_label("hash-list")).not_to_be_checked()
    expect(page.locator("#new-key")).to_have_count(0)
    assert MemberKey.objects.filter(organisation=company).count() == 1

    # A feed the organisation holds no licence for is not offered; a crafted form that
    # asks for it anyway is refused just the same.
    expect(page.get_by_label("vc-alerts")).to_have_count(0)
    page.get_by_label("Only from these networks").fill("")
    page.locator("form.new-key fieldset fieldset").evaluate(
        """fieldset => fieldset.insertAdjacentHTML("beforeend", '<label><input type="checkbox"'
            + ' name="feeds" value="vc-alerts" checked> vc-alerts</label>')"""
    )
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("p.error")).to_have_text(
        "Choose only feeds your organisation holds a licence for."
    )
    expect(page.get_by_label("Name (for your records)")).to_have_value("office only")
    assert MemberKey.objects.filter(organisation=company).count() == 1

    # Revoked with its own button: the page says so and the API refuses the key.
    page.goto(f"{live_server.url}/members/")
    row.get_by_role("button", name=f"Revoke ohk_{key.key_id}").click()
    expect(page).to_have_url(f"{live_server.url}/members/")
    today = timezone.localdate().strftime("%Y-%m-%d")
    expect(row.locator("td").last).to_have_text(f"revoked {today}")
    expect(row.get_by_role("button")).to_have_count(0)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="feeds.key_revoked").count() == 1
    status, _, body = api_get(f"{live_server.url}/api/v1/feeds/url-list/delta?cursor=0", plaintext)
    assert status == 401 and json.loads(body)["error"] == "revoked"


def test_a_manager_sets_up_a_member_whose_user_signs_in_to_the_portal(
    page: Page, browser: Browser, live_server: Any, manager: User
) -> None:
    page.goto(f"{live_server.url}/staff/members/")
    sign_in(page, manager)
    expect(page.get_by_role("heading", name="Member organisations")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Staff").get_by_role("link", name="Members")
    ).to_be_visible()
    expect(page.locator("table.members")).to_contain_text("No members yet.")

    page.get_by_label("Name").fill("Tiny Forum")
    page.get_by_label("Country").fill("nl")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("heading", name="Tiny Forum")).to_be_visible()
    org = Organisation.objects.get(name="Tiny Forum")
    assert org.kind == OrganisationKind.MEMBER and org.country == "NL"
    expect(page).to_have_url(f"{live_server.url}/staff/members/{org.pk}/")
    expect(page.locator("table.licences")).to_contain_text("No licences.")

    page.get_by_label("Feed").select_option("hash-list")
    page.get_by_label("Tier").select_option("full")
    page.get_by_role("button", name="Save licence").click()
    expect(page.locator("table.licences tbody tr")).to_have_count(1)
    expect(page.locator("table.licences tbody tr").locator("td").nth(1)).to_have_text(
        "Hashes with grading metadata"
    )
    licence = Licence.objects.get(organisation=org)
    assert (licence.feed, licence.tier, licence.valid_until) == ("hash-list", "full", None)

    page.get_by_label("Can match").check()
    page.get_by_label("Calls per minute").fill("30")
    page.get_by_role("button", name="Save matching settings").click()
    expect(page.get_by_label("Can match")).to_be_checked()
    expect(page.get_by_label("Calls per minute")).to_have_value("30")
    membership = Membership.objects.get(organisation=org)
    assert membership.can_match and not membership.can_send_images
    assert membership.calls_per_minute == 30

    page.get_by_label("Username").fill("forum-admin")
    page.get_by_label("Email").fill("admin@forum.test")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="Sign-in for forum-admin")).to_be_visible()
    password = page.locator("#issued-password").inner_text().strip()
    uri = page.locator("#issued-totp").inner_text().strip()
    expect(page.get_by_role("listitem").filter(has_text="forum-admin")).to_contain_text(
        "admin@forum.test"
    )
    user = User.objects.get(username="forum-admin")
    assert user.role == Role.MEMBER and user.organisation == org
    assert not user.is_staff and not user.is_hotline_staff and user.check_password(password)
    key, code = totp_from_uri(uri)
    assert key == TOTPDevice.objects.get(user=user, confirmed=True).bin_key
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"members.created", "members.licence_set", "members.membership_set",
            "members.user_created"} <= actions  # fmt: skip

    # Shown once: the page does not show the password or the secret again.
    page.goto(f"{live_server.url}/staff/members/{org.pk}/")
    expect(page.locator("#issued-password")).to_have_count(0)
    assert password not in page.content() and uri.split("secret=")[1][:16] not in page.content()
    page.get_by_role("link", name="All members").click()
    expect(page.locator("table.members tbody tr")).to_have_text(
        re.compile(r"Tiny Forum\s*NL\s*hash-list \(full\)")
    )

    # The member's user, in a browser of their own, signs in with what they were given.
    with fresh_page(browser) as theirs:
        theirs.goto(f"{live_server.url}/staff/sign-in/")
        theirs.get_by_label("User name").fill("forum-admin")
        theirs.get_by_label("Password").fill(password)
        theirs.get_by_label("Code from your authenticator app").fill(code)
        theirs.get_by_role("button", name="Sign in").click()
        expect(theirs).to_have_url(f"{live_server.url}/members/")
        expect(theirs.get_by_role("heading", name="Tiny Forum")).to_be_visible()
        expect(theirs.locator("table.licences tbody tr")).to_have_text(
            re.compile(r"Hash List\s*Hashes with grading metadata\s*no end date")
        )
        expect(theirs.get_by_text("Matching API: yes")).to_be_visible()
        expect(theirs.get_by_label("hash-list")).to_be_visible()
        expect(theirs.get_by_label("Matching API")).to_be_visible()
        expect(theirs.get_by_role("navigation", name="Members")).to_contain_text(
            "forum-admin (Tiny Forum)"
        )
    assert AuditEvent.objects.filter(action="auth.signed_in", actor_id=user.pk).count() == 1


def test_an_analyst_sees_no_members_link_and_is_refused(
    page: Page, live_server: Any, analyst: User
) -> None:
    page.goto(f"{live_server.url}/staff/")
    sign_in(page, analyst)
    navigation = page.get_by_role("navigation", name="Staff")
    expect(navigation.get_by_role("link", name="Inbox")).to_be_visible()
    expect(navigation.get_by_role("link", name="Feeds")).to_be_visible()
    expect(navigation.get_by_role("link", name="Members")).to_have_count(0)
    response = page.goto(f"{live_server.url}/staff/members/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Member organisations")).to_have_count(0)
    refused = AuditEvent.objects.filter(action="member_admin.refused", actor_id=analyst.pk)
    assert [event.data["path"] for event in refused] == ["/staff/members/"]
