"""Staff search (issue 15, item 11): the inbox's one box finds a case by report reference,
notice reference, host or domain, hosting address or network, hash in any spelling and a
date range; it says what it understood; hostile input gets a clear answer.

GIVEN cases reported through the public form, with a notice, traces and captured media
WHEN  staff type what a caller, a host or the police would give them
THEN  the inbox shows exactly the cases it names, and "Searching by …" what it understood.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from openhotline.accounts.models import User
from openhotline.accounts.tokens import issue_token
from openhotline.casefile.search import SearchError, apply, interpret
from openhotline.cases.models import Case, CaseKind
from openhotline.evidence import store
from openhotline.evidence.models import Capture, CaptureItem, Media
from openhotline.intake.models import Report
from openhotline.signals.models import MediaHash
from openhotline.signals.types import PDQ
from openhotline.simnet.images import make_png
from openhotline.takedown.models import Action
from openhotline.tracing.models import Trace

pytestmark = pytest.mark.django_db

IMAGE = make_png("search-me")
MD5 = hashlib.md5(IMAGE, usedforsecurity=False).hexdigest()
SHA1 = hashlib.sha1(IMAGE, usedforsecurity=False).hexdigest()
SHA256 = hashlib.sha256(IMAGE).hexdigest()
PDQ_VALUE = PDQ.examples[0]


def report(url: str) -> Case:
    assert Client().post("/report/", {"urls": url}).status_code == 302
    return Case.objects.get(url=url)


def trace(case: Case, address: str, network: str) -> None:
    Trace.objects.create(
        case=case, host=case.host, country="GB", network=network,
        addresses=[{"address": address, "country": "GB", "network": network}],
    )  # fmt: skip


@pytest.fixture
def world(db: None) -> dict[str, Case]:
    gallery = report("http://www.gallery-a.test/1")
    apex = report("http://gallery-a.test/2")
    lookalike = report("http://notgallery-a.test/3")
    suffix_trick = report("http://gallery-a.test.evil.test/4")
    other = report("http://other-b.test/x")
    trace(gallery, "203.0.113.7", "203.0.113.0/24")
    trace(other, "2001:db8::5", "2001:db8::/48")
    trace(lookalike, "198.51.100.9", "198.51.100.0/24")
    Action.objects.create(case=gallery, kind="notice", reference="N0123456789ABCDEF")
    capture = Capture.objects.create(case=other, requested_url=other.url or "")
    media = Media.objects.create(blob=store.put(IMAGE), kind="image", status="ok")
    CaptureItem.objects.create(capture=capture, url="http://other-b.test/i.png",
                               found_in="img", state="stored", media=media)  # fmt: skip
    for hash_type, value in (("md5", MD5), ("sha1", SHA1), ("sha256", SHA256),
                             ("pdq", PDQ_VALUE)):  # fmt: skip
        MediaHash.objects.create(media=media, hash_type=hash_type, value=value, lookup_key=value)
    return {"gallery": gallery, "apex": apex, "lookalike": lookalike,
            "suffix_trick": suffix_trick, "other": other}  # fmt: skip


def found(client: Client, **params: str) -> tuple[set[str], str]:
    response = client.get("/staff/", params)
    assert response.status_code == 200
    html = response.content.decode()
    urls = {c.url for c in Case.objects.all() if c.url and f">{c.url}<" in html}
    return urls, html


def test_a_report_reference_finds_its_case_however_it_was_read_out(
    analyst_client: Client, world: dict[str, Case]
) -> None:
    reference = Report.objects.get(items__case=world["apex"]).reference
    for spelled in (reference, reference.lower(), reference.replace("-", " "),
                    reference.replace("-", "")):  # fmt: skip
        urls, html = found(analyst_client, q=spelled)
        assert urls == {"http://gallery-a.test/2"}, spelled
        assert f"Searching by report reference {reference}" in html
    assert found(analyst_client, q="R-2222-3333-4444")[0] == set()


def test_a_notice_reference_finds_the_case_it_was_sent_for(
    analyst_client: Client, world: dict[str, Case]
) -> None:
    urls, html = found(analyst_client, q="n0123456789abcdef")
    assert urls == {"http://www.gallery-a.test/1"}
    assert "Searching by notice or referral reference N0123456789ABCDEF" in html


def test_a_domain_finds_its_hosts_and_subdomains_not_lookalikes(
    analyst_client: Client, world: dict[str, Case]
) -> None:
    urls, html = found(analyst_client, q="GALLERY-A.test.")
    assert urls == {"http://www.gallery-a.test/1", "http://gallery-a.test/2"}
    assert "Searching by host or domain gallery-a.test" in html
    assert found(analyst_client, q="www.gallery-a.test")[0] == {"http://www.gallery-a.test/1"}


def test_a_hosting_address_or_network_finds_the_cases_traced_there(
    analyst_client: Client, world: dict[str, Case]
) -> None:
    assert found(analyst_client, q="203.0.113.7")[0] == {"http://www.gallery-a.test/1"}
    urls, html = found(analyst_client, q="203.0.113.0/24")
    assert urls == {"http://www.gallery-a.test/1"}
    assert "Searching by hosting network 203.0.113.0/24" in html
    assert found(analyst_client, q="203.0.0.0/16")[0] == {"http://www.gallery-a.test/1"}
    assert found(analyst_client, q="2001:db8::/32")[0] == {"http://other-b.test/x"}
    assert found(analyst_client, q="2001:0DB8:0:0:0:0:0:5")[0] == {"http://other-b.test/x"}
    assert found(analyst_client, q="203.0.113.8")[0] == set()
    assert found(analyst_client, q="10.0.0.0/8")[0] == set()


@pytest.mark.parametrize(
    "spelled",
    [
        MD5.upper(),
        f"md5:{MD5}",
        f"MD5: {MD5.upper()}",
        ":".join(SHA1[i : i + 2] for i in range(0, 40, 2)),
        f"sha-1={SHA1}",
        f"0x{SHA256}",
        f"SHA256:{SHA256.upper()}",
        f"pdq:{PDQ_VALUE.upper()}",
        PDQ_VALUE,  # 64 digits: SHA-256 or PDQ, both looked up
    ],
)
def test_a_hash_in_any_spelling_finds_the_case_holding_that_media(
    analyst_client: Client, world: dict[str, Case], spelled: str
) -> None:
    urls, html = found(analyst_client, q=spelled)
    assert urls == {"http://other-b.test/x"}
    assert "hash" in html.split("Searching by ")[1].split("<")[0]


def test_a_date_range_finds_cases_with_a_report_on_those_days(
    analyst_client: Client, world: dict[str, Case]
) -> None:
    zone = timezone.get_current_timezone()
    january = datetime(2025, 1, 10, 12, tzinfo=zone)
    march = datetime(2025, 3, 1, 12, tzinfo=zone)
    old = report("http://old.test/")
    old_report = Report.objects.get(items__case=old)
    Report.objects.filter(pk=old_report.pk).update(created_at=january)
    again = report("http://old.test/")  # reported again in March
    Report.objects.filter(items__case=again).exclude(pk=old_report.pk).update(created_at=march)
    Case.objects.filter(pk=old.pk).update(last_reported_at=march, created_at=january)
    assert found(analyst_client, **{"from": "2025-01-10", "to": "2025-01-10"})[0] == {
        "http://old.test/"
    }
    assert found(analyst_client, **{"from": "2025-02-01", "to": "2025-02-20"})[0] == set()
    assert found(analyst_client, **{"from": "2025-03-01", "to": "2025-03-01"})[0] == {
        "http://old.test/"
    }
    assert "http://old.test/" in found(analyst_client, **{"from": "2025-03-01"})[0]
    assert "http://old.test/" not in found(analyst_client, to="2024-12-31")[0]
    _, html = found(analyst_client, **{"from": "2025-02-30"})
    assert "&#x27;2025-02-30&#x27; is not a date: write it as YYYY-MM-DD." in html
    assert (
        "http://old.test/" in found(analyst_client, **{"from": "0001-01-01", "to": "9999-12-31"})[0]
    )
    _, html = found(analyst_client, **{"from": "2025-03-01", "to": "2025-01-01"})
    assert "The first date is after the last one." in html


def test_hostile_input_is_searched_as_text_or_refused_clearly(
    analyst_client: Client, world: dict[str, Case]
) -> None:
    before = Case.objects.count()
    for hostile in ("' OR 1=1 --", "%", "_", "x'); DROP TABLE cases_case; --", "\\"):
        urls, html = found(analyst_client, q=hostile)
        assert urls == set(), hostile
        assert "Searching for addresses containing" in html
    urls, html = found(analyst_client, q="gallery\x00-a.test")  # NUL out, then a domain
    assert urls == {"http://www.gallery-a.test/1", "http://gallery-a.test/2"}
    urls, html = found(analyst_client, q="A" * 100_000)
    assert urls == set()
    assert "The search is too long (100,000 characters; at most 200)." in html
    assert 'role="alert"' in html
    assert Case.objects.count() == before


def test_the_search_keeps_keyset_pages_whole(analyst_client: Client) -> None:
    base = timezone.now()
    Case.objects.bulk_create(
        Case(kind=CaseKind.URL, url=f"http://{host}/{n}", host=host, report_count=1,
             last_reported_at=base - timedelta(seconds=n // 3))
        for n in range(120) for host in ("www.paged.test", "elsewhere.test")
    )  # fmt: skip
    seen: list[str] = []
    url, params = "/staff/", {"q": "paged.test"}
    while url:
        html = analyst_client.get(url, params).content.decode()
        seen += [part.split("<")[0] for part in html.split("http://www.paged.test/")[1:]]
        assert "elsewhere.test" not in html
        marker = 'href="?'
        if marker not in html:
            break
        query = html.split(marker)[1].split('"')[0].replace("&amp;", "&")
        url, params = "/staff/?" + query, {}
        assert "q=paged.test" in query
    assert sorted(seen, key=int) == [str(n) for n in range(120)]


def test_reference_and_hash_searches_use_indexes_not_scans(world: dict[str, Case]) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the plan is read from SQLite's EXPLAIN QUERY PLAN")
    reference = Report.objects.values_list("reference", flat=True)[0]
    for text in (reference, f"md5:{MD5}", PDQ_VALUE, "N0123456789ABCDEF"):
        understood = interpret(text)
        assert understood is not None
        queryset = apply(Case.objects.all(), understood)
        sql, params = queryset.order_by("-last_reported_at", "-id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = [str(row[-1]) for row in cursor.fetchall()]
        assert not [step for step in plan if step.startswith("SCAN")], (text, plan)
        assert any("USING INDEX" in step or "USING COVERING INDEX" in step for step in plan)


def test_interpret_names_what_it_understood() -> None:
    assert interpret("  ") is None
    assert interpret("http://x.test/path")
    assert interpret("x.test:8080").kind == "url"  # type: ignore[union-attr]
    with pytest.raises(SearchError, match="too long"):
        interpret("x" * 201)


def test_only_staff_who_see_the_inbox_can_search(
    client: Client, member: User, world: dict[str, Case]
) -> None:
    from tests.conftest import verified_client

    assert client.get("/staff/", {"q": "gallery-a.test"}).status_code in {302, 403}
    response = verified_client(member).get("/staff/", {"q": "gallery-a.test"})
    assert response.status_code in {302, 403}
    assert b"gallery-a.test" not in response.content


def test_the_staff_api_takes_the_same_search(
    client: Client, analyst: User, world: dict[str, Case]
) -> None:
    headers: dict[str, Any] = {"Authorization": f"Bearer {issue_token(analyst).plaintext}"}
    answer = client.get("/api/v1/cases", {"q": "203.0.113.0/24"}, headers=headers)
    assert answer.status_code == 200
    assert [c["url"] for c in answer.json()["results"]] == ["http://www.gallery-a.test/1"]
    refused = client.get("/api/v1/cases", {"q": "x" * 5000}, headers=headers)
    assert refused.status_code == 400
    assert "too long" in refused.content.decode()
