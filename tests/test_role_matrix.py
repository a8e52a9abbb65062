"""Every route refuses anonymous people, members, outsiders and half-signed-in staff,
unless it is listed here as public. New routes are picked up automatically."""

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from openhotline.accounts.models import Organisation, User
from openhotline.accounts.tokens import issue_token
from openhotline.assessment.models import Decision, Review
from openhotline.audit.models import AuditEvent
from openhotline.cases.models import Case
from openhotline.evidence import store
from openhotline.evidence.models import Media
from openhotline.feeds.keys import issue_key
from openhotline.signals.models import HashList, ListEntry, Match
from openhotline.simnet.images import make_png
from openhotline.takedown.models import Action
from openhotline.tracing.models import PartnerHotline, RoutingRule
from tests.conftest import verified_client

PUBLIC = {
    "",  # redirects to the report form
    "report/",
    "report/status/<str:reference>/<str:secret>/",
    "portal/<slug:slug>/",
    "staff/sign-in/",
    "staff/sign-out/",  # POST only; signs nobody in
    "staff/admin/login/",  # redirects to staff/sign-in/
    "staff/admin/logout/",  # POST only
    "api/v1/reports",  # POST is public; GET is checked below
    "api/schema/",
    "api/docs/",
    "api/docs/<slug:page>.md",  # the member API's guides: two named docs/ pages as text
    "notice/<str:reference>/removed/<str:secret>/",  # the host's link; the secret is the key
    ".well-known/openhotline-feed-key.pem",  # the public key that signs feed manifests
}
# Public routes whose GET is nevertheless for staff only.
STAFF_GET_ON_PUBLIC = {"api/v1/reports"}


def walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(route as written, an example path) for every URL pattern."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + _text(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + _text(entry.pattern)
            yield route, "/" + _example(route)


def _text(pattern: object) -> str:
    if isinstance(pattern, RoutePattern | RegexPattern):
        return str(pattern)
    raise AssertionError(f"the matrix cannot read {pattern!r}")


def _example(route: str) -> str:
    # Named parameters become {name}, filled from the world fixture (or "x").
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    # Regex routes (the admin's): first alternative of a choice, "1" for an open group.
    path = re.sub(r"\(\?P<\w+>([\w-]+)(?:\|[^)]*)?\)", r"\1", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    return path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")


ROUTES = sorted(set(walk(get_resolver().url_patterns)))
PRIVATE = [(route, path) for route, path in ROUTES if route not in PUBLIC]
CHECKED = PRIVATE + [(r, p) for r, p in ROUTES if r in STAFF_GET_ON_PUBLIC]
# The member portal: for member organisations' users, and nobody else.
PORTAL = {r for r, _ in ROUTES if r.startswith("members/")}


def test_the_matrix_sees_the_routes_it_should() -> None:
    routes = {route for route, _ in ROUTES}
    assert {"staff/", "staff/cases/<int:case_id>/", "api/v1/cases"} <= routes
    assert any(route.startswith("staff/admin/") for route in routes)
    assert routes >= PUBLIC, f"stale PUBLIC entries: {PUBLIC - routes}"


def refused(response) -> bool:
    if response.status_code in (401, 403, 405):
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and ("sign-in" in location or "/admin/login" in location)


class Params(dict[str, str]):
    """Route parameters: known objects of the world, or "x" for anything else."""

    def __missing__(self, key: str) -> str:
        return "x"


@pytest.fixture
def world(db: None, analyst: User) -> Params:
    """A case with a captured image and a decision waiting for QA, whose ids fill the
    routes' parameters."""
    Client().post("/report/", {"urls": "http://matrix.test/1"})
    case = Case.objects.get()
    blob = store.put(make_png("matrix"))
    media = Media.objects.create(blob=blob, kind="image", mime="image/png", status="ok")
    hash_list = HashList.objects.create(name="matrix-list", source="police")
    entry = ListEntry.objects.create(hash_list=hash_list, grade="sexual_posing")
    match = Match.objects.create(
        media=media, entry=entry, hash_list=hash_list, hash_type="md5", distance=0, threshold=0,
        media_value="0" * 32, entry_value="0" * 32,
    )  # fmt: skip
    decision = Decision.objects.create(
        case=case, analyst=analyst, criminal=True, mapping="uk", site_type="website",
        qa="sampled",
    )  # fmt: skip
    review = Review.objects.create(decision=decision)
    org = Organisation.objects.create(name="Matrix Member", kind="member")
    key = issue_key(org, feeds=[]).key
    action = Action.objects.create(
        case=case, kind="notice", state="waiting", reference="NMATRIX", recipient="a@b.test"
    )
    return Params(
        case_id=str(case.pk), pk=str(case.pk), media_id=str(media.pk), variant="blurred",
        name=hash_list.name, entry_id=str(entry.pk), match_id=str(match.pk),
        review_id=str(review.pk), user_id=str(analyst.pk), action_id=str(action.pk),
        reference=action.reference,
        rule_id=str(RoutingRule.objects.create(country="GB", route="home").pk),
        partner_id=str(PartnerHotline.objects.create(country="ZZ", name="Matrix").pk),
        org_id=str(org.pk), key_id=key.key_id, feed="keyword-list",
    )  # fmt: skip


@pytest.mark.parametrize(("route", "path"), CHECKED)
@pytest.mark.parametrize("who", ["anonymous", "member", "outsider", "unverified_staff"])
def test_it_refuses_everyone_but_signed_in_staff(
    request: pytest.FixtureRequest, world: Params, who: str, route: str, path: str
) -> None:
    if route in PORTAL and who == "member":
        return  # the portal is theirs: test_the_member_portal_is_for_members_only
    if who == "anonymous":
        client = Client()
    elif who == "unverified_staff":
        client = Client()
        client.force_login(request.getfixturevalue("analyst"))
    else:
        client = verified_client(request.getfixturevalue(who))
    response = client.get(path.format_map(world))
    assert refused(response), f"{who} got {response.status_code} from {path}"


@pytest.mark.parametrize(("route", "path"), CHECKED)
@pytest.mark.parametrize("who", ["member", "outsider"])
def test_tokens_of_non_staff_open_nothing(
    request: pytest.FixtureRequest, world: Params, who: str, route: str, path: str
) -> None:
    token = issue_token(request.getfixturevalue(who)).plaintext
    response = Client().get(path.format_map(world), headers={"Authorization": f"Bearer {token}"})
    assert refused(response), f"{who}'s token got {response.status_code} from {path}"


STAFF_ROLES = ["analyst", "qa_reviewer", "manager", "administrator", "police_liaison"]


def roles_for(route: str) -> list[str]:
    """Which staff roles a route is for: assessment is for the people who grade, QA for
    reviewers, agreement and resolution for managers; everything else for all staff."""
    if route.startswith("staff/qa/"):
        if route.endswith(("agreement/", "analysts/<int:user_id>/", "resolve/")):
            return ["manager"]
        return ["qa_reviewer", "manager"]
    if route.startswith("staff/actions/"):
        return ["manager"]
    if route.endswith("intelligence-package/"):
        return ["police_liaison"]
    if route.startswith("staff/assess/"):
        return ["analyst", "qa_reviewer", "manager"]
    if route.startswith("staff/members/"):
        return ["manager", "administrator"]
    if route == "staff/lists/<slug:name>/sharing/":  # its confirmation page too
        return ["manager", "administrator"]
    return STAFF_ROLES


# Routes for member organisations' API keys (tests/feeds covers them with keys); a staff
# session opens none of them.
MEMBER_ROUTES = {r for r, _ in ROUTES if r.startswith("api/v1/feeds/")} | {"api/v1/match"}


@pytest.mark.parametrize(("route", "path"), [(r, p) for r, p in CHECKED if r in MEMBER_ROUTES])
def test_member_routes_want_a_member_key_even_from_staff(
    world: Params, analyst: User, route: str, path: str
) -> None:
    client = verified_client(analyst)
    method = client.post if route == "api/v1/match" else client.get
    response = method(path.format_map(world))
    assert response.status_code == 401 and response.json()["error"] == "no_key"


@pytest.mark.parametrize(("route", "path"), [(r, p) for r, p in CHECKED if r in PORTAL])
def test_the_member_portal_is_for_members_only(
    request: pytest.FixtureRequest, world: Params, member: User, route: str, path: str
) -> None:
    for who in STAFF_ROLES:
        client = verified_client(request.getfixturevalue(who))
        assert client.get(path.format_map(world)).status_code == 403, who
        assert client.post(path.format_map(world)).status_code == 403, who
    assert AuditEvent.objects.filter(action="members.refused").count() == 2 * len(STAFF_ROLES)
    response = verified_client(member).get(path.format_map(world))
    assert response.status_code in (200, 404, 405), f"member got {response.status_code}"


@pytest.mark.parametrize(
    ("route", "path"),
    [
        (r, p) for r, p in CHECKED
        if not r.startswith("staff/admin/") and r not in MEMBER_ROUTES | PORTAL
    ],
)  # fmt: skip
def test_signed_in_staff_are_let_in(
    request: pytest.FixtureRequest, world: Params, route: str, path: str
) -> None:
    who = roles_for(route)[0]
    response = verified_client(request.getfixturevalue(who)).get(path.format_map(world))
    # 405: a POST-only action, reached past the door; 409: a case or review that is not
    # this person's to work on now, said on a page of its own.
    assert response.status_code in (200, 405, 409), f"{who} got {response.status_code} from {path}"


@pytest.mark.parametrize(
    ("route", "path"), [(r, p) for r, p in PRIVATE if roles_for(r) != STAFF_ROLES]
)
def test_staff_roles_outside_a_routes_roles_are_refused_and_audited(
    request: pytest.FixtureRequest, world: Params, route: str, path: str
) -> None:
    for who in sorted(set(STAFF_ROLES) - set(roles_for(route))):
        client = verified_client(request.getfixturevalue(who))
        for method in (client.get, client.post):
            response = method(path.format_map(world))
            assert response.status_code == 403, f"{who} got {response.status_code} from {path}"
    refusals = AuditEvent.objects.filter(action__endswith=".refused").count()
    assert refusals == 2 * len(set(STAFF_ROLES) - set(roles_for(route)))


def test_only_administrators_reach_the_admin(
    world: Params, analyst: User, administrator: User
) -> None:
    assert refused(verified_client(analyst).get("/staff/admin/"))
    assert verified_client(administrator).get("/staff/admin/").status_code == 200


@pytest.mark.parametrize(("route", "path"), PRIVATE)
@pytest.mark.parametrize("who", ["anonymous", "member", "outsider"])
def test_posting_to_any_private_route_is_refused_too(
    request: pytest.FixtureRequest, world: Params, who: str, route: str, path: str
) -> None:
    if route in PORTAL and who == "member":
        return  # the portal is theirs
    client = Client() if who == "anonymous" else verified_client(request.getfixturevalue(who))
    response = client.post(path.format_map(world), {})
    assert refused(response), f"{who} got {response.status_code} from POST {path}"
