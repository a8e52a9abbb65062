"""Staff keep the Keyword List, Domain Alerts, Virtual Currency Alerts and the NPI URL List
by hand: what they add reaches members in the next delta, removing takes a reason, every
change is an audit event, and only the roles that may change a feed can."""

import pytest
from django.test import Client

from openhotline.accounts.models import User
from openhotline.audit.chain import verify_chain
from openhotline.audit.models import AuditEvent
from openhotline.feeds import services
from openhotline.feeds.models import FeedItem
from tests.conftest import verified_client

pytestmark = [pytest.mark.django_db]

KEYWORDS = "/staff/feeds/keyword-list/"
VC = "/staff/feeds/vc-alerts/"
DOMAINS = "/staff/feeds/domain-alerts/"
SEGWIT = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def test_the_index_lists_the_four_feeds_with_live_counts(analyst_client: Client) -> None:
    services.add("keyword-list", "one", {"term": "one"})
    services.add("keyword-list", "two", {"term": "two"})
    services.remove("keyword-list", "two")
    services.add("url-list", "http://not-hand-kept.test/")
    response = analyst_client.get("/staff/feeds/")
    assert response.status_code == 200
    feeds = {row["name"]: row for row in response.context["feeds"]}
    assert list(feeds) == ["keyword-list", "domain-alerts", "vc-alerts", "npi-url-list"]
    assert feeds["keyword-list"]["live"] == 1 and feeds["keyword-list"]["changed_at"]
    assert feeds["vc-alerts"]["live"] == 0 and feeds["vc-alerts"]["changed_at"] is None
    page = response.content.decode()
    assert "Non-Photographic Imagery URL List" in page and "never" in page


def test_an_analyst_adds_a_keyword_and_members_get_it_in_the_next_delta(
    analyst: User, analyst_client: Client
) -> None:
    """GIVEN an analyst on the Keyword List
    WHEN they add a term
    THEN it is listed, a member's delta carries it, and the audit log says who added it."""
    response = analyst_client.post(
        f"{KEYWORDS}add/", {"term": " Cheese  Pizza ", "language": "EN", "note": "seen 2024"}
    )
    assert response.status_code == 302 and response["Location"] == KEYWORDS
    page = analyst_client.get(KEYWORDS)
    assert "“cheese pizza” is added to the Keyword List." in page.content.decode()
    assert [row["key"] for row in page.context["rows"]] == ["cheese pizza"]
    changes, _, more = services.delta("keyword-list", "0")
    assert [(c.op, c.key, c.data) for c in changes] == [
        ("add", "cheese pizza",
         {"term": "Cheese  Pizza", "language": "en", "kind": "phrase", "note": "seen 2024"}),
    ]  # fmt: skip
    assert changes[0].reason == "staff alice-analyst: added by hand" and not more
    event = AuditEvent.objects.get(action="feeds.entry_added")
    assert event.actor_id == analyst.pk
    assert event.data == {"feed": "keyword-list", "key": "cheese pizza", "updated": False}
    assert verify_chain()[1] is None


def test_adding_an_entry_again_says_it_was_listed_or_updated(analyst_client: Client) -> None:
    entry = {"currency": "BTC", "address": SEGWIT.upper(), "note": "paywall"}
    analyst_client.post(f"{VC}add/", entry)
    again = analyst_client.post(f"{VC}add/", {**entry, "address": SEGWIT}, follow=True)
    assert "was already listed as it is: nothing changed" in again.content.decode()
    changed = analyst_client.post(f"{VC}add/", {**entry, "note": "second site"}, follow=True)
    assert "was already listed: its details are updated" in changed.content.decode()
    changes, _, _ = services.delta("vc-alerts", "0")
    assert [(c.op, c.key, c.data["note"]) for c in changes] == [
        ("add", f"BTC:{SEGWIT}", "paywall"), ("add", f"BTC:{SEGWIT}", "second site"),
    ]  # fmt: skip
    updated = AuditEvent.objects.filter(action="feeds.entry_added").order_by("seq")
    assert [e.data["updated"] for e in updated] == [False, True]


def test_bad_input_is_shown_again_with_its_error_and_what_was_typed(
    analyst_client: Client,
) -> None:
    corrupted = SEGWIT[:-1] + "5"
    response = analyst_client.post(
        f"{VC}add/", {"currency": "BTC", "address": corrupted, "note": "my note"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "The checksum does not match: a character is wrong or missing." in page
    assert f'value="{corrupted}"' in page and 'value="my note"' in page
    assert 'aria-invalid="true"' in page and 'id="id_address_error"' in page
    assert '<option value="BTC" selected>' in page
    assert not FeedItem.objects.exists()
    assert not AuditEvent.objects.filter(action="feeds.entry_added").exists()


def test_removing_needs_a_reason_and_then_removes(analyst: User, analyst_client: Client) -> None:
    analyst_client.post(f"{DOMAINS}add/", {"domain": "hop.example", "reason": "domain-hopping"})
    _, cursor, _ = services.delta("domain-alerts", "0")

    refused = analyst_client.post(f"{DOMAINS}remove/", {"key": "hop.example", "reason": "  "})
    assert refused.status_code == 422
    assert "The reason is required." in refused.content.decode()
    assert FeedItem.objects.get(key="hop.example").removed_seq is None

    done = analyst_client.post(
        f"{DOMAINS}remove/", {"key": "hop.example", "reason": "site gone for good"}, follow=True
    )
    assert "“hop.example” is removed from the Domain Alerts." in done.content.decode()
    assert done.context["rows"] == []
    changes, _, _ = services.delta("domain-alerts", str(cursor))
    assert [(c.op, c.key, c.reason) for c in changes] == [
        ("remove", "hop.example", "staff alice-analyst: site gone for good")
    ]
    event = AuditEvent.objects.get(action="feeds.entry_removed")
    assert event.actor_id == analyst.pk
    assert event.data == {"feed": "domain-alerts", "key": "hop.example",
                          "reason": "site gone for good"}  # fmt: skip


def test_removing_what_is_not_listed_says_so(analyst_client: Client) -> None:
    response = analyst_client.post(
        f"{KEYWORDS}remove/", {"key": "never listed", "reason": "tidy"}, follow=True
    )
    assert "“never listed” was not listed (removed already?)." in response.content.decode()
    assert not AuditEvent.objects.filter(action="feeds.entry_removed").exists()


def test_injection_text_in_a_note_is_shown_escaped(analyst_client: Client) -> None:
    note = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    analyst_client.post(f"{KEYWORDS}add/", {"term": "<b>term</b>", "note": note})
    page = analyst_client.get(KEYWORDS).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;img src=x" in page
    assert "&lt;b&gt;term&lt;/b&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>term" not in page


def test_search_finds_entries_by_substring_and_pages_go_newest_first(
    analyst_client: Client,
) -> None:
    for n in range(55):
        services.add("keyword-list", f"term {n:02d}", {"term": f"Term {n:02d}", "note": ""})
    services.add("keyword-list", "elsewhere", {"term": "elsewhere", "note": "from a forum"})
    first = analyst_client.get(KEYWORDS)
    keys = [row["key"] for row in first.context["rows"]]
    assert len(keys) == 50 and keys[:2] == ["elsewhere", "term 54"]
    assert first.context["live"] == 56
    second = analyst_client.get(KEYWORDS, {"before": first.context["next"]})
    assert [row["key"] for row in second.context["rows"]][-1] == "term 00"
    assert second.context["next"] is None
    found = analyst_client.get(KEYWORDS, {"q": "TERM 4"})  # the folded key matches
    assert sorted(row["key"] for row in found.context["rows"]) == [f"term 4{n}" for n in range(10)]
    assert [r["key"] for r in analyst_client.get(KEYWORDS, {"q": "forum"}).context["rows"]] == [
        "elsewhere"
    ]


def test_a_domain_is_found_by_its_unicode_name(analyst_client: Client) -> None:
    analyst_client.post(f"{DOMAINS}add/", {"domain": "bücher.example", "reason": "disguised"})
    found = analyst_client.get(DOMAINS, {"q": "BÜCHER"})
    assert [row["key"] for row in found.context["rows"]] == ["xn--bcher-kva.example"]
    assert "bücher.example" in found.content.decode()


def test_the_page_of_a_feed_takes_a_fixed_number_of_queries(
    analyst_client: Client, django_assert_max_num_queries
) -> None:
    for n in range(60):
        services.add("npi-url-list", f"http://drawings.test/{n}.png", {"url": "x", "note": ""})
    analyst_client.get("/staff/feeds/npi-url-list/")  # sessions and the like, warmed up
    with django_assert_max_num_queries(8):
        assert analyst_client.get("/staff/feeds/npi-url-list/").status_code == 200


def test_unknown_feeds_and_feeds_not_kept_by_hand_are_not_found(analyst_client: Client) -> None:
    assert analyst_client.get("/staff/feeds/no-such-feed/").status_code == 404
    assert analyst_client.get("/staff/feeds/url-list/").status_code == 404
    assert analyst_client.post("/staff/feeds/url-list/add/", {"url": "x"}).status_code == 404


# --- Who may do what --------------------------------------------------------------------

READERS = ["analyst", "qa_reviewer", "manager", "administrator", "police_liaison"]
EDITORS = ["analyst", "qa_reviewer", "manager"]


@pytest.mark.parametrize("role", READERS)
def test_every_staff_role_reads_the_feeds(request: pytest.FixtureRequest, role: str) -> None:
    client = verified_client(request.getfixturevalue(role))
    services.add("vc-alerts", f"BTC:{SEGWIT}", {"currency": "BTC", "address": SEGWIT})
    assert client.get("/staff/feeds/").status_code == 200
    page = client.get(VC)
    assert page.status_code == 200 and SEGWIT in page.content.decode()
    shows_forms = "Add an entry" in page.content.decode()
    assert shows_forms == (role in EDITORS)


@pytest.mark.parametrize("role", EDITORS)
def test_analysts_qa_reviewers_and_managers_change_the_feeds(
    request: pytest.FixtureRequest, role: str
) -> None:
    client = verified_client(request.getfixturevalue(role))
    added = client.post("/staff/feeds/npi-url-list/add/", {"url": "http://drawn.test/a.png"})
    assert added.status_code == 302
    removed = client.post(
        "/staff/feeds/npi-url-list/remove/", {"key": "http://drawn.test/a.png", "reason": "done"}
    )
    assert removed.status_code == 302
    assert FeedItem.objects.get().removed_seq is not None


@pytest.mark.parametrize("role", ["police_liaison", "administrator"])
def test_police_liaisons_and_administrators_may_not_change_a_feed(
    request: pytest.FixtureRequest, role: str
) -> None:
    user = request.getfixturevalue(role)
    client = verified_client(user)
    services.add("keyword-list", "kept", {"term": "kept"})
    add = client.post(f"{KEYWORDS}add/", {"term": "sneaky"})
    remove = client.post(f"{KEYWORDS}remove/", {"key": "kept", "reason": "because"})
    assert add.status_code == remove.status_code == 403
    refusals = AuditEvent.objects.filter(action="feeds.entries_refused", actor_id=user.pk)
    assert sorted(e.data["path"] for e in refusals) == [f"{KEYWORDS}add/", f"{KEYWORDS}remove/"]
    assert list(FeedItem.objects.values_list("key", "removed_seq")) == [("kept", None)]


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_members_and_outsiders_cannot_read_or_change_the_feeds(
    request: pytest.FixtureRequest, who: str
) -> None:
    client = verified_client(request.getfixturevalue(who))
    for path in ["/staff/feeds/", KEYWORDS]:
        assert client.get(path).status_code == 403
    assert client.post(f"{KEYWORDS}add/", {"term": "x"}).status_code == 403
    assert not FeedItem.objects.exists()


def test_anonymous_people_are_sent_to_sign_in() -> None:
    for response in [Client().get("/staff/feeds/"), Client().post(f"{KEYWORDS}add/", {})]:
        assert response.status_code == 302 and "sign-in" in response["Location"]


def test_a_refused_removal_of_an_entry_not_on_the_page_still_says_why(
    analyst_client: Client,
) -> None:
    response = analyst_client.post(f"{KEYWORDS}remove/", {"key": "", "reason": ""})
    assert response.status_code == 422
    assert "Not removed: " in response.content.decode()
