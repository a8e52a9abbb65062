"""The public reporting API and the staff reading API."""

import json

import pytest
from django.test import Client

from openhotline.accounts.models import User
from openhotline.accounts.tokens import issue_token
from openhotline.cases.models import Case
from openhotline.intake.models import Channel, Portal, Report

pytestmark = pytest.mark.django_db


def post(client: Client, body: object):
    return client.post("/api/v1/reports", json.dumps(body), content_type="application/json")


def test_it_accepts_a_report_and_returns_its_status_url(client: Client) -> None:
    response = post(client, {"urls": ["http://gallery-one.test/a"], "description": "seen"})
    assert response.status_code == 201
    body = response.json()
    assert body["reference"].startswith("R-") and body["cases"] == 1
    assert body["status_url"].startswith("http://testserver/report/status/" + body["reference"])
    assert Report.objects.get().channel == Channel.API
    status_page = client.get(body["status_url"].removeprefix("http://testserver"))
    assert "one of our analysts will assess it" in status_page.content.decode()


def test_it_dedups_and_remembers_the_portal(client: Client) -> None:
    Portal.objects.create(slug="zambia", name="Zambia", country="ZM", languages=["en"])
    post(client, {"urls": ["HTTP://Example.TEST:80/a#x"], "portal": "zambia"})
    post(client, {"urls": ["http://example.test/a"]})
    case = Case.objects.get()
    assert case.report_count == 2
    assert Report.objects.filter(portal__slug="zambia").count() == 1


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"urls": ["ftp://x.test/"]}, "urls", "Address 1 (ftp://x.test/): only web addresses"),
        ({"urls": "http://x.test/"}, "urls", "Expected a list"),
        ({"urls": [f"http://x.test/{n}" for n in range(51)]}, "urls", "at most 50"),
        ({"urls": []}, "urls", "at least one web address"),
        ({"urls": ["http://x.test/"], "contact": "nope"}, "contact", "e-mail address"),
        ({"urls": ["http://x.test/"], "portal": "atlantis"}, "portal", "no portal"),
        ({"urls": ["http://x.test/\x00"]}, "urls", "Null characters are not allowed"),
        ({"urls": ["http://x.test/"], "language": "xx"}, "language", "not a valid choice"),
    ],
)
def test_it_names_the_field_and_item_of_each_rejection(
    client: Client, body: dict, field: str, fragment: str
) -> None:
    response = post(client, body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert fragment in json.dumps(errors)
    assert field in errors
    assert Report.objects.count() == 0


def test_malformed_json_is_a_clear_400(client: Client) -> None:
    response = client.post("/api/v1/reports", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_an_oversized_body_is_refused_with_413_without_being_read(client: Client) -> None:
    huge = json.dumps({"urls": ["http://x.test/"], "description": "x" * 2_000_000})
    response = client.post("/api/v1/reports", huge, content_type="application/json")
    assert response.status_code == 413
    assert Report.objects.count() == 0


def test_it_is_throttled_per_client(client: Client, settings) -> None:
    settings.REPORT_RATE = "2/min"
    assert post(client, {"urls": ["http://x.test/1"]}).status_code == 201
    assert post(client, {"urls": ["http://x.test/2"]}).status_code == 201
    response = post(client, {"urls": ["http://x.test/3"]})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Report.objects.count() == 2


def test_the_form_and_the_api_share_one_budget(client: Client, settings) -> None:
    settings.REPORT_RATE = "1/min"
    form = client.post("/report/", {"urls": "http://x.test/1"})
    assert form.status_code == 302
    assert post(client, {"urls": ["http://x.test/2"]}).status_code == 429


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user).plaintext}"}


def test_staff_list_reports_and_cases_with_a_token(client: Client, analyst: User) -> None:
    post(client, {"urls": ["http://a.test/1", "http://b.test/2"], "description": "d"})
    headers = bearer(analyst)
    reports = client.get("/api/v1/reports", headers=headers).json()["results"]
    assert len(reports) == 1 and len(reports[0]["cases"]) == 2
    assert "contact" not in reports[0]
    cases = client.get("/api/v1/cases?host=b.test", headers=headers).json()["results"]
    assert [c["url"] for c in cases] == ["http://b.test/2"]
    detail = client.get(f"/api/v1/cases/{cases[0]['id']}", headers=headers).json()
    assert detail["reports"] == [reports[0]["reference"]]
    assert detail["transitions"][0]["to_state"] == "received"


def test_cases_can_be_filtered_by_state_channel_and_portal(client: Client, analyst: User) -> None:
    Portal.objects.create(slug="zambia", name="Zambia", country="ZM", languages=["en"])
    post(client, {"urls": ["http://a.test/1"], "portal": "zambia"})
    client.post("/report/", {"urls": "http://b.test/1"})
    headers = bearer(analyst)

    def urls(query: str) -> list[str]:
        return [
            c["url"]
            for c in client.get(f"/api/v1/cases?{query}", headers=headers).json()["results"]
        ]

    assert urls("channel=web") == ["http://b.test/1"]
    assert urls("portal=zambia") == ["http://a.test/1"]
    assert sorted(urls("state=received")) == ["http://a.test/1", "http://b.test/1"]


def test_the_openapi_schema_documents_the_reports_endpoint(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/reports" in schema and "/api/v1/cases" in schema
    assert "bearer" in schema
    docs = client.get("/api/docs/")
    assert docs.status_code == 200


def test_the_staff_api_is_throttled_per_user(
    client: Client, analyst: User, manager: User, settings
) -> None:
    """OPENHOTLINE_STAFF_API_RATE holds for every staff endpoint together, per user: a
    second token or another address does not reset it, another person has their own."""
    settings.STAFF_API_RATE = "3/min"
    post(client, {"urls": ["http://throttled.test/1"]})
    case = Case.objects.get()
    headers = bearer(analyst)
    for path in ("/api/v1/cases", "/api/v1/reports", f"/api/v1/cases/{case.pk}"):
        assert client.get(path, headers=headers).status_code == 200
    refused = client.get("/api/v1/cases", headers=headers)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    other_address = Client(REMOTE_ADDR="127.0.0.99")
    assert other_address.get("/api/v1/reports", headers=bearer(analyst)).status_code == 429
    assert client.get("/api/v1/cases", headers=bearer(manager)).status_code == 200
    # Reporting is a budget of its own, per client, not the staff's.
    assert post(client, {"urls": ["http://throttled.test/2"]}).status_code == 201


def test_the_staff_rate_does_not_count_refused_strangers(client: Client, settings) -> None:
    settings.STAFF_API_RATE = "1/min"
    for _ in range(3):
        assert client.get("/api/v1/cases").status_code in (401, 403)
