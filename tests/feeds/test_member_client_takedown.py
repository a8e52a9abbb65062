"""The issue's acceptance test: a member client syncs the URL List through a full
takedown cycle on simnet — the URL appears after the decision and disappears after
removal."""

import base64
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from openhotline.accounts.models import Organisation, OrganisationKind
from openhotline.cases.models import CaseState
from openhotline.feeds import client, signing
from openhotline.feeds.client import FeedCopy
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import Licence
from openhotline.simnet.runner import Simnet
from tests.feeds.test_client import Canned
from tests.takedown.test_takedown_flow import FAST, _gone, decided_criminal, until
from tests.tasks import run_due_tasks

pytestmark = [pytest.mark.django_db(transaction=True)]


class Recorder:
    """The client's own opener, checking every page it is given with the hotline's own
    `signing.verify` (not the client's) and keeping the signed fields."""

    def __init__(self) -> None:
        self.real = urllib.request.build_opener(client._NoRedirects)
        self.pages: list[dict[str, Any]] = []

    def open(self, request: urllib.request.Request, /, *, timeout: float) -> Any:
        response = Canned.of(self.real.open(request, timeout=timeout))
        manifest = json.loads(base64.b64decode(response.headers["X-Feed-Manifest"]))
        body = response.body.getvalue()
        self.pages.append(signing.verify(body, manifest, signing.public_key_pem()))
        return Canned(response.headers, body)


@override_settings(**FAST)
def test_a_member_client_follows_the_url_list_through_a_takedown(
    on_simnet: Simnet, analyst, live_server, tmp_path: Path
) -> None:
    """GIVEN a member with a key for the URL List and a local copy synced over HTTP
    WHEN a reported simnet page is decided criminal, and later taken down by its host
    after the notice, and the rechecks confirm the removal
    THEN the member's copy lists the URL after the decision and not after the removal;
    its cursor only moved forward, and every page it applied verified."""
    company = Organisation.objects.create(name="Example Social", kind=OrganisationKind.MEMBER)
    Licence.objects.create(organisation=company, feed="url-list")
    key = issue_key(company, feeds=["url-list"]).plaintext
    pem = tmp_path / "hotline-feed-key.pem"
    pem.write_bytes(signing.public_key_pem())
    state = tmp_path / "member-copy"
    tap = Recorder()

    def member_syncs() -> client.Result:
        return client.sync(live_server.url, key, "url-list", state, public_key=pem, opener=tap)

    def member_lists(url: str) -> Any:
        with FeedCopy(state, "url-list") as copy:
            return copy.get(url) if copy.contains(url) else None

    cursors = [member_syncs().cursor]
    case = decided_criminal(on_simnet, analyst, "photos-gb.test", "/gallery/beach")
    assert case.url is not None
    cursors.append(member_syncs().cursor)
    assert member_lists(case.url) == {"added": case.created_at.date().isoformat(),
                                      "category": "A"}  # fmt: skip

    # The notice goes out, the host takes the page down, two rechecks confirm it.
    assert run_due_tasks("act_on_task") == [f"case {case.pk}: home, 2 action(s)"]
    run_due_tasks("send_task", rounds=1)
    abuse = on_simnet.facts("photos-gb.test").abuse_email
    on_simnet.mail.wait_for(lambda m: abuse in m.rcpt_tos)
    until(lambda: _gone(on_simnet, case.url or ""))
    run_due_tasks("recheck_task", rounds=1)
    cursors.append(member_syncs().cursor)
    assert member_lists(case.url) is not None  # one "gone" recheck does not confirm removal
    run_due_tasks("recheck_task", rounds=1)
    case.refresh_from_db()
    assert case.state == CaseState.REMOVED
    assert member_lists(case.url) is not None  # a copy changes only when the member syncs

    last = member_syncs()
    cursors.append(last.cursor)
    assert member_lists(case.url) is None and last.count == 0
    assert cursors == [0, 1, 1, 2]
    # Every page verified, and each delta began where the copy's cursor stood.
    pages = [(m["feed"], m["kind"], m["from_seq"], m["to_seq"]) for m in tap.pages]
    assert {p[0] for p in pages} == {"url-list"}
    assert [p[1:] for p in pages] == [
        ("snapshot", 0, 0), ("delta", 0, 0), ("delta", 0, 1), ("delta", 1, 1), ("delta", 1, 2),
    ]  # fmt: skip
