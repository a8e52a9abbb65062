"""Someone between the hotline and a member (a proxy, a mirror, a captured connection)
cannot freeze the member's copy or roll it back with old, validly signed answers: every
answer is signed as it is served with the feed's head and the time, a refused cursor is
believed only when signed for the copy's cursor, and answers older than the newest one
accepted, or older than the copy may be, are refused."""

import email.message
import io
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openhotline.feeds import client, services
from openhotline.feeds.client import NotFresh, NotVerified
from tests.feeds.restore import restore_to
from tests.feeds.test_client import (
    FEED,
    Canned,
    Hook,
    Wiretap,
    listed,
    local,
    server_items,
    sync,
)

pytestmark = pytest.mark.django_db(transaction=True)


def recording(into: list[Canned]) -> Wiretap:
    def record(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = Canned.of(real())
        into.append(response)
        return Canned(response.headers, response.body.getvalue())

    return Wiretap(record)


def replaying(page: Canned, *, only: str = "") -> Hook:
    """Answers with a recorded page (every request, or those whose URL has `only`)."""

    def hook(_n: int, request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        if only and only not in request.full_url:
            return real()
        return Canned(page.headers, page.body.getvalue())

    return hook


def refusing_cursor(body: dict[str, Any], then: Hook | None = None) -> Hook:
    """A 400 "cursor" with `body` for each delta; other requests go to `then` (or on)."""

    def hook(n: int, request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        if "/delta?" in request.full_url:
            raw = io.BytesIO(json.dumps(body).encode())
            raise urllib.error.HTTPError(request.full_url, 400, "Bad Request",
                                         email.message.Message(), raw)  # fmt: skip
        return then(n, request, real) if then else real()

    return hook


def test_a_replayed_no_changes_page_is_refused_once_the_copy_has_seen_a_newer_one(
    live_server, api_key, state, hotline_pem, monkeypatch
) -> None:
    """GIVEN a copy at cursor 1, an empty page recorded then, and a later sync WHEN new
    changes are listed and the recorded "nothing new" page is served again THEN it is
    refused as signed before an answer already accepted, and the copy does not move."""
    monkeypatch.setattr(client, "CLOCK_SLACK", 0.0)  # one server: its clock only goes on
    services.add(FEED, listed(0))
    sync(live_server, api_key, state, hotline_pem)
    recorded: list[Canned] = []
    sync(live_server, api_key, state, hotline_pem, opener=recording(recorded))
    (nothing_new,) = recorded
    sync(live_server, api_key, state, hotline_pem)  # a later answer, also "nothing new"
    services.add(FEED, listed(1))
    services.add(FEED, listed(2))
    before = local(state)
    with pytest.raises(NotVerified, match=r"before one already accepted.*replayed old answer"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(replaying(nothing_new)))
    assert local(state) == before == (1, {listed(0): {}})
    assert sync(live_server, api_key, state, hotline_pem).cursor == 3


def test_the_newest_no_changes_page_served_forever_is_reported_not_fresh(
    live_server, api_key, state, hotline_pem
) -> None:
    """GIVEN the newest "nothing new" page, replayed for every request WHEN the member
    syncs a day later THEN the run fails with "feed not fresh" rather than reporting the
    copy up to date; with the limit lifted the same page is accepted (nothing to apply)."""
    services.add(FEED, listed(0))
    recorded: list[Canned] = []
    sync(live_server, api_key, state, hotline_pem, opener=recording(recorded))
    nothing_new = recorded[-1]
    services.add(FEED, listed(1))
    frozen = Wiretap(replaying(nothing_new))
    tomorrow = lambda: datetime.now(UTC) + timedelta(hours=25)  # noqa: E731
    with pytest.raises(NotFresh, match=r"feed not fresh: .* signed 25\.0 hours ago"):
        sync(live_server, api_key, state, hotline_pem, opener=frozen, now=tomorrow)
    with pytest.raises(NotFresh):
        sync(live_server, api_key, state, hotline_pem, opener=frozen, now=tomorrow,
             max_age_hours=24)  # fmt: skip
    result = sync(live_server, api_key, state, hotline_pem, opener=frozen, now=tomorrow,
                  max_age_hours=0)  # fmt: skip
    assert result.cursor == 1
    assert sync(live_server, api_key, state, hotline_pem).cursor == 2  # the real hotline


def test_an_unsigned_cursor_refusal_cannot_roll_the_copy_back_to_an_old_snapshot(
    live_server, api_key, state, hotline_pem
) -> None:
    """GIVEN a snapshot recorded at cursor 2 and a copy now at cursor 5 WHEN someone
    answers the delta with an unsigned 400 "cursor" and the old snapshot THEN the copy
    is kept at 5 (the old client took the snapshot and went back to 2)."""
    services.add(FEED, listed(0))
    services.add(FEED, listed(1))
    recorded: list[Canned] = []
    sync(live_server, api_key, state, hotline_pem, opener=recording(recorded))
    old_snapshot = next(r for r in recorded if '"snapshot"' in _manifest_text(r))
    for n in range(2, 5):
        services.add(FEED, listed(n))
    sync(live_server, api_key, state, hotline_pem)
    before = local(state)
    assert before[0] == 5
    unsigned = {"error": "cursor", "detail": "cursor 5 belongs to another history"}
    attack = Wiretap(refusing_cursor(unsigned, replaying(old_snapshot)))
    with pytest.raises(NotVerified, match="refusal of cursor 5 is not signed; the copy is kept"):
        sync(live_server, api_key, state, hotline_pem, opener=attack)
    assert attack.asked("snapshot") == [] and local(state) == before
    # A reset the hotline really signed, but for another cursor, is no better.
    other = Wiretap().real
    with pytest.raises(urllib.error.HTTPError) as refused:
        other.open(urllib.request.Request(
            f"{live_server.url}/api/v1/feeds/{FEED}/delta?cursor=99",
            headers={"Authorization": f"Bearer {api_key}"},
        ))  # fmt: skip
    signed_elsewhere = json.loads(refused.value.read())
    assert signed_elsewhere["reset"]["cursor"] == "99"
    attack = Wiretap(refusing_cursor(signed_elsewhere, replaying(old_snapshot)))
    with pytest.raises(NotVerified, match="signed refusal is not for this copy's cursor"):
        sync(live_server, api_key, state, hotline_pem, opener=attack)
    forged = {**signed_elsewhere, "reset": {**signed_elsewhere["reset"], "cursor": "5"}}
    with pytest.raises(NotVerified, match="does not verify with the pinned key"):
        sync(live_server, api_key, state, hotline_pem,
             opener=Wiretap(refusing_cursor(forged, replaying(old_snapshot))))  # fmt: skip
    assert local(state) == before


def test_after_a_real_reset_a_snapshot_from_before_it_is_refused(
    live_server, api_key, state, hotline_pem, monkeypatch
) -> None:
    """GIVEN a copy at cursor 4 and a snapshot recorded before the hotline restored a
    backup WHEN the hotline (truly, signed) refuses the cursor and someone serves the old
    snapshot THEN it is refused as older than the reset; the real snapshot is taken."""
    monkeypatch.setattr(client, "CLOCK_SLACK", 0.0)
    for n in range(4):
        services.add(FEED, listed(n))
    recorded: list[Canned] = []
    sync(live_server, api_key, state, hotline_pem, opener=recording(recorded))
    old_snapshot = next(r for r in recorded if '"snapshot"' in _manifest_text(r))
    restore_to(FEED, 2)
    services.add(FEED, listed(10))
    services.add(FEED, listed(11))
    attack = Wiretap(replaying(old_snapshot, only="/snapshot?"))
    with pytest.raises(NotVerified, match="before one already accepted"):
        sync(live_server, api_key, state, hotline_pem, opener=attack)
    assert sorted(local(state)[1]) == [listed(n) for n in range(4)]
    rebuilt = sync(live_server, api_key, state, hotline_pem)
    assert rebuilt.snapshots == 1 and local(state) == (4, server_items())


def test_every_answer_is_signed_as_served_with_the_head_and_the_time(
    live_server, api_key, state, hotline_pem
) -> None:
    """The fields the client relies on are signed: from_tag, head_seq, head_tag,
    signed_at, and the key id; a delta stopping without "more" ends at the head."""
    for n in range(3):
        services.add(FEED, listed(n))
    recorded: list[Canned] = []
    sync(live_server, api_key, state, hotline_pem, opener=recording(recorded), limit=2)
    pages = [json.loads(_manifest_text(r)) for r in recorded]
    assert [(p["kind"], p["from_seq"], p["to_seq"], p["head_seq"]) for p in pages] == [
        ("snapshot", 0, 3, 3), ("delta", 3, 3, 3),
    ]  # fmt: skip
    snapshot, delta = pages
    assert delta["from_tag"] == snapshot["to_tag"] == delta["head_tag"] != ""
    assert all(datetime.fromisoformat(p["signed_at"]).tzinfo is not None for p in pages)
    assert {p["key_id"] for p in pages} == {client.key_id(client.load_public_key(
        hotline_pem.read_bytes()))}  # fmt: skip


def _manifest_text(response: Canned) -> str:
    import base64

    return base64.b64decode(response.headers["X-Feed-Manifest"]).decode()
