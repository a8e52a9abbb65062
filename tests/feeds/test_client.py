"""The member client keeps a local copy of a feed in sync with the real server over
loopback: first a snapshot, then deltas; every page verified before it is applied; an
interrupted or tampered download changes nothing, and the next run converges."""

import email.message
import http.client
import io
import os
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from openhotline.feeds import client, services, signing
from openhotline.feeds.client import FeedCopy, NotVerified, Refused, SyncError
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import (
    AccessLog,
    Feed,
    FeedChange,
    FeedItem,
    Licence,
    MemberKey,
    Tier,
)
from tests.feeds.restore import restore_to

pytestmark = pytest.mark.django_db(transaction=True)
FEED = "url-list"
REPO = Path(__file__).resolve().parents[2]


class Canned:
    """A response as the client reads it: headers, a body read in chunks, close()."""

    def __init__(self, headers: email.message.Message, body: bytes, *, fail_after: int = -1):
        self.headers, self.body, self.fail_after = headers, io.BytesIO(body), fail_after

    @classmethod
    def of(cls, response: Any, **kwargs: Any) -> "Canned":
        with response:
            return cls(response.headers, response.read(), **kwargs)

    def read(self, size: int = -1) -> bytes:
        if self.fail_after >= 0 and self.body.tell() >= self.fail_after:
            raise http.client.IncompleteRead(b"", 1)  # the connection went away
        limit = size if self.fail_after < 0 else min(size, self.fail_after - self.body.tell())
        return self.body.read(limit)

    def close(self) -> None:
        pass


Hook = Callable[[int, urllib.request.Request, Callable[[], Any]], Any]


class Wiretap:
    """The client's real opener, watched: every URL asked for, and an optional hook that
    sees (request number, request, a function that does the real request) and answers."""

    def __init__(self, hook: Hook | None = None) -> None:
        self.real = urllib.request.build_opener(client._NoRedirects)
        self.urls: list[str] = []
        self.hook = hook

    def open(self, request: urllib.request.Request, /, *, timeout: float) -> Any:
        self.urls.append(request.full_url)
        real = lambda: self.real.open(request, timeout=timeout)  # noqa: E731
        return self.hook(len(self.urls), request, real) if self.hook else real()

    def asked(self, kind: str) -> list[str]:
        return [u for u in self.urls if f"/{kind}?" in u]

    def cursors(self) -> list[int]:
        return [int(u.split("cursor=")[1].split("&")[0]) for u in self.asked("delta")]


def sync(live_server: Any, key: str, directory: Path, pem: Path | None, **kwargs: Any) -> Any:
    kwargs.setdefault("warn", lambda message: None)
    return client.sync(live_server.url, key, FEED, directory, public_key=pem, **kwargs)


def server_items() -> dict[str, Any]:
    _at, items = services.snapshot(FEED)
    return {i.key: i.data for i in items}


def local(directory: Path) -> tuple[int | None, dict[str, Any]]:
    with FeedCopy(directory, FEED) as copy:
        return copy.cursor, dict(copy.items())


def listed(n: int) -> str:
    return f"http://bad-{n}.test/page"


def test_the_first_sync_takes_a_snapshot_and_later_ones_only_deltas(
    live_server, api_key, state, hotline_pem
) -> None:
    for n in range(3):
        services.add(FEED, listed(n), {"category": "A"})
    tap = Wiretap()
    first = sync(live_server, api_key, state, hotline_pem, opener=tap)
    assert (first.count, first.cursor, first.pages, first.snapshots) == (3, 3, 2, 1)
    assert str(first) == "url-list: 3 items at cursor 3 (2 pages)"
    assert len(tap.asked("snapshot")) == 1 and tap.cursors() == [3]
    services.add(FEED, listed(3), {"category": "B"})
    services.add(FEED, listed(0), {"category": "C"})  # a change of data replaces it
    services.remove(FEED, listed(1))
    services.remove(FEED, "http://never-listed.test/")  # not in the feed: no change
    tap = Wiretap()
    later = sync(live_server, api_key, state, hotline_pem, opener=tap, limit=1)
    assert (later.count, later.cursor, later.pages, later.snapshots) == (3, 6, 3, 0)
    assert tap.asked("snapshot") == [] and tap.cursors() == [3, 4, 5]
    assert local(state) == (6, server_items())
    with FeedCopy(state, FEED) as copy:
        assert copy.contains(listed(3)) and not copy.contains(listed(1))
        assert copy.get(listed(0)) == {"category": "C"} and copy.get(listed(1)) is None
        assert [k for k, _data in copy.items()] == sorted(server_items())
    logged = AccessLog.objects.filter(status=200).values_list("endpoint", flat=True)
    assert sorted(logged) == ["delta"] * 4 + ["snapshot"]


def test_many_changes_page_by_page_gzipped_or_not(
    live_server, api_key, state, hotline_pem, tmp_path
) -> None:
    for n in range(25):
        services.add(FEED, listed(n), {"n": n})
    sync(live_server, api_key, state, hotline_pem)
    for n in range(0, 25, 2):
        services.remove(FEED, listed(n))
    for n in range(25, 30):
        services.add(FEED, listed(n), {"n": n})
    encodings: list[str | None] = []

    def watch(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = real()
        encodings.append(response.headers.get("Content-Encoding"))
        return response

    result = sync(live_server, api_key, state, hotline_pem, opener=Wiretap(watch), limit=4)
    assert result.pages == 5 and result.cursor == 43 and encodings == ["gzip"] * 5
    assert local(state) == (43, server_items())
    plain: list[str | None] = []

    def watch_plain(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = real()
        plain.append(response.headers.get("Content-Encoding"))
        return response

    elsewhere = tmp_path / "plain-copy"
    again = sync(live_server, api_key, elsewhere, hotline_pem, opener=Wiretap(watch_plain),
                 accept_gzip=False)  # fmt: skip
    assert plain == [None, None] and local(elsewhere) == local(state) and again.count == 17


def test_a_snapshot_file_behind_the_feed_is_caught_up_by_deltas(
    live_server, api_key, state, hotline_pem, settings, tmp_path
) -> None:
    """GIVEN a feed served from a pre-generated file written at change 4, and three changes
    since WHEN a member syncs (gzip or not: without, the .gz file itself is sent) THEN its
    copy starts at the file's cursor and the deltas bring it to the server's list."""
    from openhotline.feeds import exports

    settings.FEED_EXPORT_DIR = tmp_path / "exports"
    settings.FEED_INLINE_SNAPSHOT_LIMIT = 0
    for n in range(4):
        services.add(FEED, listed(n), {"n": n})
    exports.export(FEED)
    services.remove(FEED, listed(0))
    services.add(FEED, listed(1), {"n": 10})
    services.add(FEED, listed(9), {"n": 9})
    for gzipped in (True, False):
        tap = Wiretap()
        directory = state / ("gzip" if gzipped else "plain")
        result = sync(live_server, api_key, directory, hotline_pem, opener=tap,
                      accept_gzip=gzipped)  # fmt: skip
        assert tap.cursors() == [4] and (result.cursor, result.count) == (7, 4)
        assert local(directory) == (7, server_items())


def test_an_interrupted_run_keeps_the_last_page_and_the_next_run_resumes_there(
    live_server, api_key, state, hotline_pem
) -> None:
    """GIVEN a copy at cursor 2 and ten changes since WHEN the connection drops on the
    third page of three changes THEN the copy holds the first two pages (cursor 8), and
    the next run asks from 8 and ends equal to the server's list."""
    for n in range(2):
        services.add(FEED, listed(n))
    sync(live_server, api_key, state, hotline_pem)
    for n in range(2, 10):
        services.add(FEED, listed(n))
    services.remove(FEED, listed(0))
    services.remove(FEED, listed(2))

    def drop_third(n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        if n == 3:
            raise urllib.error.URLError(ConnectionResetError("connection reset by peer"))
        return real()

    tap = Wiretap(drop_third)
    with pytest.raises(SyncError, match=r"cannot reach .* connection reset"):
        sync(live_server, api_key, state, hotline_pem, opener=tap, limit=3)
    assert tap.cursors() == [2, 5, 8]
    cursor, _items = local(state)
    assert cursor == 8
    resumed = Wiretap()
    sync(live_server, api_key, state, hotline_pem, opener=resumed, limit=3)
    assert resumed.cursors()[0] == 8
    assert local(state) == (Feed.objects.get(name=FEED).last_seq, server_items())


@pytest.mark.parametrize(
    ("fail_after", "reason"),
    [(40, "cut short"), (0, "cut short"), (None, "does not match its manifest")],
)
def test_a_cut_short_body_changes_nothing(
    live_server, api_key, state, hotline_pem, fail_after: int | None, reason: str
) -> None:
    services.add(FEED, listed(0))
    sync(live_server, api_key, state, hotline_pem)
    before = local(state)
    services.add(FEED, listed(1))
    services.remove(FEED, listed(0))

    def cut(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        if fail_after is None:  # the body just stops, with no error
            whole = Canned.of(real())
            return Canned(whole.headers, whole.body.getvalue()[:-7])
        return Canned.of(real(), fail_after=fail_after)

    with pytest.raises(SyncError, match=reason):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(cut))
    assert local(state) == before
    sync(live_server, api_key, state, hotline_pem)
    assert local(state) == (3, {listed(1): {}})


def test_a_crash_while_applying_a_page_leaves_the_page_out(
    live_server, api_key, state, hotline_pem, monkeypatch
) -> None:
    sync(live_server, api_key, state, hotline_pem)
    for n in range(4):
        services.add(FEED, listed(n))
    real_changes = client._changes

    def dies_after_two(body: Any, page: Any) -> Any:
        for done, change in enumerate(real_changes(body, page)):
            if done == 2:
                raise KeyboardInterrupt  # the process is stopped mid-page
            yield change

    monkeypatch.setattr(client, "_changes", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        sync(live_server, api_key, state, hotline_pem)
    assert local(state) == (0, {})
    monkeypatch.undo()
    assert sync(live_server, api_key, state, hotline_pem).count == 4


def test_an_interrupted_first_snapshot_leaves_no_copy_and_the_next_run_starts_again(
    live_server, api_key, state, hotline_pem
) -> None:
    services.add(FEED, listed(0))

    def cut(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        return Canned.of(real(), fail_after=10)

    with pytest.raises(SyncError, match="cut short"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(cut))
    assert local(state) == (None, {})
    assert sync(live_server, api_key, state, hotline_pem).count == 1


def test_a_tampered_page_is_rejected_and_changes_nothing(
    live_server, api_key, state, hotline_pem
) -> None:
    services.add(FEED, listed(0))
    sync(live_server, api_key, state, hotline_pem)
    before = local(state)
    services.add(FEED, listed(1))

    def flip(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = Canned.of(real())
        body = bytearray(response.body.getvalue())
        body[len(body) // 2] ^= 0x01
        return Canned(response.headers, bytes(body))

    for gzipped in (True, False):
        with pytest.raises(NotVerified, match="does not match its manifest"):
            sync(live_server, api_key, state, hotline_pem, opener=Wiretap(flip),
                 accept_gzip=gzipped)  # fmt: skip
        assert local(state) == before


def test_a_replayed_mismatched_or_unsigned_page_is_rejected(
    live_server, api_key, state, hotline_pem
) -> None:
    """Old pages, signed and intact, served again for a later cursor: their from_seq
    or kind is not what was asked for."""
    services.add(FEED, listed(0))
    sync(live_server, api_key, state, hotline_pem)
    services.add(FEED, listed(1))
    recorded: list[Canned] = []

    def record(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = Canned.of(real())
        recorded.append(response)
        return Canned(response.headers, response.body.getvalue())

    sync(live_server, api_key, state, hotline_pem, opener=Wiretap(record))
    services.add(FEED, listed(2))
    before = local(state)
    (old_delta,) = recorded
    snapshot = Canned.of(Wiretap().real.open(urllib.request.Request(
        f"{live_server.url}/api/v1/feeds/{FEED}/snapshot",
        headers={"Authorization": f"Bearer {api_key}"},
    )))  # fmt: skip

    def replay(page: Canned) -> Hook:
        return lambda _n, _request, _real: Canned(page.headers, page.body.getvalue())

    with pytest.raises(NotVerified, match="sent url-list delta jsonl from 1, not the delta from 2"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(replay(old_delta)))
    with pytest.raises(NotVerified, match="sent url-list snapshot jsonl from 0, not the delta"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(replay(snapshot)))

    def unsigned(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = Canned.of(real())
        del response.headers["X-Feed-Manifest"]
        return response

    with pytest.raises(NotVerified, match="no signed manifest"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(unsigned))

    def lying_cursor(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = Canned.of(real())
        response.headers.replace_header("X-Feed-Cursor", "99")
        return response

    with pytest.raises(NotVerified, match="X-Feed-Cursor header disagrees"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(lying_cursor))
    assert local(state) == before
    assert sync(live_server, api_key, state, hotline_pem).cursor == 3


def test_refused_keys_get_the_servers_explanation(
    live_server, company, api_key, state, hotline_pem, tmp_path, capsys
) -> None:
    sync(live_server, api_key, state, hotline_pem)
    MemberKey.objects.update(revoked_at=timezone.now())
    revoked = re.escape("refused this API key (401 revoked: This API key has been revoked.)")
    with pytest.raises(Refused, match=revoked):
        sync(live_server, api_key, state, hotline_pem)
    key_file = tmp_path / "key"
    key_file.write_text(api_key + "\n")
    argv = ["sync", "--url", live_server.url, "--key-file", str(key_file), "--feed", FEED,
            "--state", str(state), "--public-key", str(hotline_pem)]  # fmt: skip
    assert client.main(argv) == 1
    err = capsys.readouterr().err
    assert "url-list: error: the hotline refused this API key (401 revoked" in err
    assert "the copy stays at cursor 0 (0 items); run again to resume" in err
    other = issue_key(company, feeds=["keyword-list"]).plaintext
    with pytest.raises(Refused, match="403 scope: This API key is not for the url-list feed"):
        sync(live_server, other, state, hotline_pem)
    key_file.write_text("password123")
    assert client.main(argv) == 1
    assert "does not hold an API key (ohk_…)" in capsys.readouterr().err


def test_a_refused_cursor_rebuilds_the_copy_from_a_snapshot_keeping_the_old_one_meanwhile(
    live_server, api_key, state, hotline_pem
) -> None:
    """GIVEN a copy at cursor 6 WHEN the hotline restores an older database (its last
    change is now 2) THEN the delta is refused, a new snapshot replaces the copy — and
    while that snapshot is incomplete, the old copy stays whole."""
    for n in range(6):
        services.add(FEED, listed(n))
    sync(live_server, api_key, state, hotline_pem)
    FeedChange.objects.all().delete()
    FeedItem.objects.all().delete()
    Feed.objects.all().delete()
    services.add(FEED, listed(7), {"category": "A"})
    services.add(FEED, listed(8), {"category": "B"})

    def cut_snapshot(_n: int, request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        return Canned.of(real(), fail_after=20) if "/snapshot?" in request.full_url else real()

    warnings: list[str] = []
    with pytest.raises(SyncError, match="cut short"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(cut_snapshot),
             warn=warnings.append)  # fmt: skip
    assert "refused cursor 6" in warnings[0] and "old copy stays" in warnings[0]
    cursor, items = local(state)
    assert cursor == 6 and sorted(items) == [listed(n) for n in range(6)]
    tap = Wiretap()
    rebuilt = sync(live_server, api_key, state, hotline_pem, opener=tap)
    assert (rebuilt.snapshots, rebuilt.cursor, rebuilt.count) == (1, 2, 2)
    assert tap.cursors() == [6, 2]
    assert local(state) == (2, server_items())


def test_a_changed_tier_rebuilds_the_copy_with_what_the_licence_now_shows(
    live_server, company, state, hotline_pem
) -> None:
    """GIVEN a copy of the Hash List made under a basic licence WHEN the licence becomes
    full THEN the next run takes a new snapshot: a delta would leave the items that did
    not change with the basic fields."""
    licence = Licence.objects.create(organisation=company, feed="hash-list", tier=Tier.BASIC)
    key = issue_key(company, feeds=["hash-list"]).plaintext
    one = {"hashes": {"md5": "a" * 32}, "grade": "sexual_posing", "uk_category": "C"}
    services.add("hash-list", "000000000001", one)

    def run(**kwargs: Any) -> Any:
        return client.sync(live_server.url, key, "hash-list", state, public_key=hotline_pem,
                           **kwargs)  # fmt: skip

    run(warn=lambda message: None)
    with FeedCopy(state, "hash-list") as copy:
        assert copy.get("000000000001") == {"hashes": {"md5": "a" * 32}}
        assert copy.state is not None and copy.state.tier == "basic"
    licence.tier = Tier.FULL
    licence.save()
    services.add("hash-list", "000000000002", {"hashes": {"md5": "b" * 32}})
    warnings: list[str] = []
    again = run(warn=warnings.append)
    assert again.snapshots == 1 and again.count == 2
    assert "now shows the full tier" in warnings[0] and "holds basic" in warnings[0]
    with FeedCopy(state, "hash-list") as copy:
        assert copy.get("000000000001") == one and copy.state.tier == "full"  # type: ignore[union-attr]
    assert run(warn=warnings.append).snapshots == 0 and len(warnings) == 1
    # A Hash List copy whose tier is not known cannot be trusted: rebuilt once.
    with sqlite3.connect(state / "hash-list.sqlite3") as db:
        db.execute("UPDATE state SET tier = ''")
    assert run(warn=warnings.append).snapshots == 1 and "holds an unknown" in warnings[-1]


def test_a_copy_made_before_tiers_were_kept_carries_on(
    live_server, api_key, state, hotline_pem
) -> None:
    # The URL List shows every member the same ("all"): the copy is adopted, not rebuilt.
    services.add(FEED, listed(1))
    sync(live_server, api_key, state, hotline_pem)
    with sqlite3.connect(state / f"{FEED}.sqlite3") as db:
        db.execute("ALTER TABLE state DROP COLUMN tier")
    with FeedCopy(state, FEED) as copy:  # opening it adds the column back, tier unknown
        assert copy.state is not None and copy.state.tier == "" and copy.cursor == 1
    services.add(FEED, listed(2))
    assert sync(live_server, api_key, state, hotline_pem).snapshots == 0
    with FeedCopy(state, FEED) as copy:
        assert copy.state is not None and copy.state.tier == "all"
    assert local(state) == (2, server_items())


def test_a_restored_hotline_that_reuses_the_cursor_is_caught_by_the_tag(
    live_server, api_key, state, hotline_pem
) -> None:
    """GIVEN a copy at cursor 4 WHEN the hotline restores a backup taken at change 2 and
    lists two other URLs (changes 3 and 4 again) THEN the next run is not told "nothing
    new": the tag of cursor 4 differs, the copy is rebuilt and equals the server's."""
    for n in range(4):
        services.add(FEED, listed(n))
    sync(live_server, api_key, state, hotline_pem)
    restore_to(FEED, 2)
    services.add(FEED, listed(10))
    services.add(FEED, listed(11))
    warnings: list[str] = []
    tap = Wiretap()
    rebuilt = sync(live_server, api_key, state, hotline_pem, opener=tap, warn=warnings.append)
    assert "another history" in warnings[0] and rebuilt.snapshots == 1
    assert "tag=" in tap.asked("delta")[0]
    assert local(state) == (4, server_items())
    assert sorted(server_items()) == [listed(n) for n in (0, 1, 10, 11)]


def test_the_key_is_pinned_on_first_use_and_a_different_key_is_refused(
    live_server, api_key, state, tmp_path
) -> None:
    services.add(FEED, listed(0))
    warnings: list[str] = []
    sync(live_server, api_key, state, None, warn=warnings.append)
    pinned = state / "feed-key.pem"
    assert pinned.read_bytes() == signing.public_key_pem()
    fingerprint = client.fingerprint(client.load_public_key(signing.public_key_pem()))
    assert "no --public-key given" in warnings[0] and fingerprint in warnings[0]
    services.add(FEED, listed(1))
    tap = Wiretap()
    sync(live_server, api_key, state, None, opener=tap, warn=warnings.append)
    assert len(warnings) == 1 and not any("well-known" in u for u in tap.urls)
    # Someone else's key pinned (or given): the hotline's pages do not verify.
    stranger = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )  # fmt: skip
    before = local(state)
    services.add(FEED, listed(2))
    pinned.write_bytes(stranger)
    with pytest.raises(NotVerified, match="does not verify with the pinned key"):
        sync(live_server, api_key, state, None)
    other = tmp_path / "stranger.pem"
    other.write_bytes(stranger)
    pinned.write_bytes(signing.public_key_pem())
    with pytest.raises(NotVerified, match="does not verify with the pinned key"):
        sync(live_server, api_key, state, other)
    assert local(state) == before
    assert pinned.read_bytes() == stranger  # the given key is pinned from now on


def test_429_is_retried_after_retry_after_within_bounds(
    live_server, api_key, state, hotline_pem
) -> None:
    services.add(FEED, listed(0))
    slept: list[float] = []

    def busy(times: int, retry_after: str) -> Hook:
        def hook(n: int, request: urllib.request.Request, real: Callable[[], Any]) -> Any:
            if n <= times:
                headers = email.message.Message()
                headers["Retry-After"] = retry_after
                body = b'{"error": "throttled", "detail": "Too many downloads; slow down."}'
                raise urllib.error.HTTPError(request.full_url, 429, "Too Many Requests",
                                             headers, io.BytesIO(body))  # fmt: skip
            return real()

        return hook

    sync(live_server, api_key, state, hotline_pem, opener=Wiretap(busy(2, "3")),
         sleep=slept.append)  # fmt: skip
    assert slept == [3.0, 3.0] and local(state)[0] == 1
    slept.clear()
    with pytest.raises(Refused, match="429 throttled: Too many downloads"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(busy(99, "1")),
             sleep=slept.append)  # fmt: skip
    assert slept == [1.0] * client.RETRIES
    with pytest.raises(Refused, match="asks to wait 3600 s"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(busy(1, "3600")),
             sleep=slept.append)  # fmt: skip


def test_a_redirect_is_not_followed_and_the_key_goes_nowhere_else(
    live_server, api_key, state, hotline_pem
) -> None:
    def moved(_n: int, request: urllib.request.Request, _real: Callable[[], Any]) -> Any:
        assert request.unredirected_hdrs["Authorization"] == f"Bearer {api_key}"
        headers = email.message.Message()
        headers["Location"] = "https://elsewhere.test/feeds"
        raise urllib.error.HTTPError(request.full_url, 301, "Moved", headers, io.BytesIO())

    with pytest.raises(Refused, match=r"redirects to https://elsewhere\.test/feeds; use that"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(moved))


def test_a_copy_belongs_to_one_hotline_and_one_sync_at_a_time(
    live_server, api_key, state, hotline_pem, monkeypatch
) -> None:
    services.add(FEED, listed(0))
    sync(live_server, api_key, state, hotline_pem)
    with pytest.raises(SyncError, match="holds a copy of url-list from http://localhost"):
        client.sync("http://127.0.0.1:9", api_key, FEED, state, public_key=hotline_pem)
    services.add(FEED, listed(1))

    def second_sync_meanwhile(
        _n: int, _request: urllib.request.Request, real: Callable[[], Any]
    ) -> Any:
        response = real()
        with pytest.raises(SyncError, match="another sync is running on"):
            sync(live_server, api_key, state, hotline_pem)
        return response

    sync(live_server, api_key, state, hotline_pem, opener=Wiretap(second_sync_meanwhile))
    assert local(state) == (2, server_items())
    # Where locks do nothing (some network filesystems), a page is still applied only to
    # the copy it was asked for: the run that fell behind stops.
    services.add(FEED, listed(2))

    class NoLock:
        def __init__(self, _path: Path) -> None:
            pass

        def release(self) -> None:
            pass

    monkeypatch.setattr(client, "_Lock", NoLock)

    def overtaken(_n: int, _request: urllib.request.Request, real: Callable[[], Any]) -> Any:
        response = real()
        sync(live_server, api_key, state, hotline_pem)
        return response

    with pytest.raises(SyncError, match="another sync moved the copy on"):
        sync(live_server, api_key, state, hotline_pem, opener=Wiretap(overtaken))
    assert local(state) == (3, server_items())


def test_the_module_runs_standalone_without_django(
    live_server, api_key, state, hotline_pem, tmp_path
) -> None:
    for n in range(3):
        services.add(FEED, listed(n), {"category": "A"})
    key_file = tmp_path / "key"
    key_file.write_text(api_key)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "OPENHOTLINE"))}
    check = "import sys, openhotline.feeds.client; print([m for m in sys.modules if 'django' in m])"
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                            env=env, cwd=REPO, check=True)  # fmt: skip
    assert loaded.stdout.strip() == "[]"
    run = subprocess.run(
        [sys.executable, "-m", "openhotline.feeds.client", "sync", "--url", live_server.url,
         "--key-file", str(key_file), "--feed", FEED, "--state", str(state)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "url-list: 3 items at cursor 3 (2 pages)"
    assert "trusting the key" in run.stderr
    look = [sys.executable, "-m", "openhotline.feeds.client", "contains", "--state", str(state),
            "--feed", FEED]  # fmt: skip
    found = subprocess.run([*look, listed(1)], capture_output=True, text=True, env=env, cwd=REPO)
    assert found.returncode == 0 and found.stdout.strip() == f"listed: {listed(1)}"
    missing = subprocess.run([*look, "http://fine.test/"], capture_output=True, env=env, cwd=REPO)
    assert missing.returncode == 1
    assert local(state) == (3, server_items())
