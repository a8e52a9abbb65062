"""Delta sync: any interleaving of additions, removals and interrupted downloads leaves a
member's copy exactly equal to the server's list — nothing skipped, nothing repeated."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openhotline.feeds import services
from openhotline.feeds.models import Feed, FeedChange, FeedItem

pytestmark = pytest.mark.django_db

NAME = "url-list"
KEYS = st.sampled_from([f"http://site-{n}.test/" for n in range(8)])
STEP = st.one_of(
    st.tuples(st.just("add"), KEYS, st.integers(0, 2)),
    st.tuples(st.just("remove"), KEYS, st.just(0)),
    # The member syncs, but the download stops after `n` changes (0: not at all).
    st.tuples(st.just("sync"), st.just(""), st.integers(0, 5)),
)


class Member:
    def __init__(self) -> None:
        self.copy: dict[str, dict] = {}
        self.cursor: str | None = None

    def sync(self, stop_after: int | None = None, page: int = 3) -> None:
        if self.cursor is None:
            at, items = services.snapshot(NAME)
            self.copy = {i.key: i.data for i in items}
            self.cursor = str(at)
            return
        applied = 0
        while True:
            changes, _next, more = services.delta(NAME, self.cursor, limit=page)
            for change in changes:
                if stop_after is not None and applied >= stop_after:
                    return  # interrupted: the cursor stays at the last change applied
                if change.op == "add":
                    self.copy[change.key] = change.data
                else:
                    self.copy.pop(change.key, None)
                self.cursor = str(change.seq)
                applied += 1
            if not more:
                return


def server_list() -> dict[str, dict]:
    _at, items = services.snapshot(NAME)
    return {i.key: i.data for i in items}


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(STEP, max_size=30))
def test_any_interleaving_reconstructs_the_servers_list(steps) -> None:
    FeedChange.objects.all().delete()
    FeedItem.objects.all().delete()
    Feed.objects.all().delete()
    member = Member()
    for op, key, n in steps:
        if op == "add":
            services.add(NAME, key, {"v": n})
        elif op == "remove":
            services.remove(NAME, key)
        else:
            member.sync(stop_after=n)
    member.sync()
    assert member.copy == server_list()
    seqs = list(FeedChange.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_cursors_from_the_future_or_garbage_are_refused() -> None:
    services.add(NAME, "http://a.test/")
    with pytest.raises(services.CursorError, match="not between 0"):
        services.delta(NAME, "99")
    with pytest.raises(services.CursorError, match="not a sequence number"):
        services.delta(NAME, "abc'; drop table")
    with pytest.raises(services.CursorError):
        services.delta(NAME, "-1")
    changes, cursor, more = services.delta(NAME, "0")
    assert [c.key for c in changes] == ["http://a.test/"] and cursor == 1 and not more


def test_repeated_adds_and_removes_change_nothing() -> None:
    assert services.add(NAME, "http://a.test/", {"c": 1})
    assert not services.add(NAME, "http://a.test/", {"c": 1})
    assert services.remove(NAME, "http://a.test/")
    assert not services.remove(NAME, "http://a.test/")
    assert FeedChange.objects.count() == 2
