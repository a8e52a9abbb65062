"""The staff inbox: newest reports first, filters, htmx partials, keyset pages."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openhotline.cases.models import Case, CaseKind
from openhotline.intake.models import Portal

pytestmark = pytest.mark.django_db


def report(*urls: str, description: str = "", path: str = "/report/") -> None:
    response = Client().post(path, {"urls": "\n".join(urls), "description": description})
    assert response.status_code == 302


def test_it_lists_cases_with_their_newest_report_and_count(analyst_client: Client) -> None:
    report("http://first.test/a")
    report("http://second.test/b")
    report("http://first.test/a", description="again")
    html = analyst_client.get("/staff/").content.decode()
    assert html.index("http://first.test/a") < html.index("http://second.test/b")
    first = Case.objects.get(url="http://first.test/a")
    assert f'<a href="/staff/cases/{first.pk}/">#{first.pk}</a>' in html
    assert '<td class="num">2</td>' in html
    assert "Public web form" in html


def test_it_filters_and_answers_htmx_with_rows_only(analyst_client: Client) -> None:
    Portal.objects.create(slug="zambia", name="Zambia portal", country="ZM", languages=["en"])
    report("http://via-portal.test/", path="/portal/zambia/")
    report("http://via-web.test/")
    report(description="an app, no address")
    partial = analyst_client.get("/staff/?portal=zambia", headers={"HX-Request": "true"})
    text = partial.content.decode()
    assert "<html" not in text and "http://via-portal.test/" in text
    assert "http://via-web.test/" not in text
    other = analyst_client.get(f"/staff/?kind={CaseKind.OTHER}").content.decode()
    assert "Other (no web address)" in other and "via-web" not in other
    search = analyst_client.get("/staff/?q=via-web").content.decode()
    assert "http://via-web.test/" in search and "via-portal" not in search


def test_it_pages_by_keyset_without_skipping_or_repeating(analyst_client: Client) -> None:
    base = timezone.now()
    Case.objects.bulk_create(
        [
            Case(
                kind=CaseKind.URL,
                url=f"http://page.test/{n}",
                host="page.test",
                last_reported_at=base - timedelta(seconds=n // 3),
                report_count=1,
            )
            for n in range(120)
        ]
    )
    seen: list[str] = []
    url = "/staff/"
    while url:
        response = analyst_client.get(url)
        html = response.content.decode()
        seen += [
            line.split("http://page.test/")[1].split("<")[0]
            for line in html.splitlines()
            if "http://page.test/" in line
        ]
        marker = 'href="?before='
        url = "/staff/?before=" + html.split(marker)[1].split('"')[0] if marker in html else ""
        url = url.replace("&amp;", "&")
    assert sorted(seen, key=int) == [str(n) for n in range(120)]
    assert len(seen) == len(set(seen))


def test_a_garbage_cursor_shows_the_first_page(analyst_client: Client) -> None:
    report("http://x.test/")
    response = analyst_client.get("/staff/?before=not-a-cursor")
    assert response.status_code == 200 and "http://x.test/" in response.content.decode()


def test_the_inbox_query_count_does_not_grow_with_cases(analyst_client: Client) -> None:
    for n in range(5):
        report(f"http://q.test/{n}")
    with CaptureQueriesContext(connection) as few:
        analyst_client.get("/staff/")
    for n in range(5, 40):
        report(f"http://q.test/{n}")
    with CaptureQueriesContext(connection) as many:
        analyst_client.get("/staff/")
    assert len(many) == len(few) <= 8


def test_the_case_page_shows_reports_and_history(analyst_client: Client) -> None:
    report("http://detail.test/", description="<b>bold</b> claim")
    case = Case.objects.get()
    html = analyst_client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "http://detail.test/" in html and "&lt;b&gt;bold&lt;/b&gt; claim" in html
    assert "— → Received" in html
    assert analyst_client.get("/staff/cases/999999/").status_code == 404


def test_the_inbox_marks_possibly_disguised_sites(analyst_client: Client) -> None:
    report("http://disguise.test/")
    Case.objects.update(possibly_disguised=True)
    assert "possibly disguised" in analyst_client.get("/staff/").content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "q=' OR 1=1 --",
        "q=%3Cscript%3Ealert(1)%3C/script%3E",
        "q=" + "x" * 5000,
        "q=%00%01",
        "state=nonsense&kind=%27&channel=%22&portal=../../etc",
        "host=EXAMPLE.TEST%00",
        "before=2026-13-45T99:99:99_abc",
        "before=_",
    ],
)
def test_hostile_filters_give_a_page_not_an_error(analyst_client: Client, query: str) -> None:
    report("http://filters.test/")
    response = analyst_client.get(f"/staff/?{query}")
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_hostile_api_filters_give_answers_not_errors(analyst: Any) -> None:
    from openhotline.accounts.tokens import issue_token

    headers = {"Authorization": f"Bearer {issue_token(analyst).plaintext}"}
    for query in ["q=%27%22", "case=abc", "portal=%00", "cursor=garbage", "state=x"]:
        for path in ("/api/v1/cases", "/api/v1/reports"):
            response = Client().get(f"{path}?{query}", headers=headers)
            assert response.status_code in (200, 400, 404), (path, query, response.status_code)
