"""Link farms stay within budget; spellings of one page share one seen key."""

import datetime
import hashlib
import random
import string

import pytest

from openhotline.search.traps import TrapGuard, seen_key
from openhotline.urlnorm import UrlRejected

TODAY = datetime.date(2026, 12, 7)


def _guard(**kwargs: int) -> TrapGuard:
    return TrapGuard(today=TODAY, **kwargs)  # type: ignore[arg-type]


def _token(rng: random.Random, length: int = 32) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


def test_session_id_variants_collapse_to_one_key() -> None:
    rng = random.Random(17)
    spellings = [
        "https://forum.example/t/5?page=2",
        "https://forum.example/t/5?page=2&PHPSESSID=abc123",
        "https://forum.example/t/5?sid=9f8e7d6c&page=2",
        "https://forum.example/t/5;jsessionid=A1B2C3D4?page=2",
        "https://forum.example/t/5?sessionid=zzz&page=2#top",
        "https://forum.example/t/5?ASPSESSIONIDQQGGCTRB=OPLKJHGF&page=2",
        f"https://forum.example/t/5?page=2&s={_token(rng)}",
        f"https://FORUM.example:443/t/5?token={_token(rng, 40)}&page=2",
        "https://forum.example/(S(lit3py55t21z5v55vlm25s55))/t/5?page=2&zenid=abc",
        "https://forum.example/t/5?osCsid=k3j4h5g6&page=2",
    ]
    assert {seen_key(url) for url in spellings} == {"https://forum.example/t/5?page=2"}


def test_seen_key_keeps_what_the_page_shows() -> None:
    assert seen_key("https://s.example/a?b=2&a=1") == seen_key("https://s.example/a?a=1&b=2")
    assert seen_key("https://s.example/a?page=2") != seen_key("https://s.example/a?page=3")
    # Words and short ids are content, not sessions.
    assert "q=abcdefghijklmnopqrstuvwxyzabcdef" in seen_key(
        "https://s.example/search?q=abcdefghijklmnopqrstuvwxyzabcdef"
    )
    # A content hash in the path is a different page, never collapsed.
    first, second = "a" * 63 + "1", "b" * 63 + "2"
    assert seen_key(f"https://s.example/f/{first}") != seen_key(f"https://s.example/f/{second}")
    with pytest.raises(UrlRejected):
        seen_key("javascript:void(0)")


def test_calendar_trap_of_ten_thousand_days_stays_within_budget() -> None:
    guard = _guard(max_dates_per_template=60)
    start = TODAY - datetime.timedelta(days=5000)
    admitted = 0
    for day in range(10_000):
        date = start + datetime.timedelta(days=day)
        if guard.check(f"https://cal.example/events/{date:%Y/%m/%d}/"):
            admitted += 1
    assert admitted == 60


def test_calendar_in_query_parameters_and_far_dates() -> None:
    guard = _guard(max_dates_per_template=12)
    admitted = sum(
        bool(guard.check(f"https://cal.example/c?year={2020 + m // 12}&month={m % 12 + 1}"))
        for m in range(120)
    )
    assert admitted == 12
    verdict = _guard().check("https://cal.example/day/2099-01-01")
    assert not verdict and "outside" in verdict.reason
    assert not _guard().check("https://cal.example/c?date=1901-05-04")
    assert not _guard().check("https://cal.example/c?year=2999&month=1")
    # A link to today's page is fine.
    assert _guard().check("https://cal.example/day/2026-12-07")


def test_repeated_path_segments() -> None:
    guard = _guard()
    assert guard.check("https://s.example/a/b/a/b/")
    verdict = guard.check("https://s.example/a/b/a/b/a/b")
    assert not verdict and "repeats /a/b 3 times" in verdict.reason
    assert not guard.check("https://s.example/x/img/img/img/1.jpg")
    assert not guard.check("https://s.example/q/1/2/3/4/1/2/3/4/1/2/3/4")
    assert not guard.check("https://s.example/" + "/".join(str(i) for i in range(41)))


def test_query_variants_per_path_have_a_budget() -> None:
    guard = _guard(max_query_variants=100)
    admitted = sum(
        bool(guard.check(f"https://shop.example/list?sort={i}&page=1")) for i in range(10_000)
    )
    assert admitted == 100
    # A variant already admitted stays admitted; another path has its own budget.
    assert guard.check("https://shop.example/list?sort=5&page=1")
    assert guard.check("https://shop.example/other?sort=5000")
    # Session spellings of one variant do not spend the budget.
    assert guard.check("https://shop.example/list?page=1&sort=7&PHPSESSID=x")


def test_over_long_and_malformed_urls() -> None:
    guard = _guard(max_url_length=200)
    verdict = guard.check("https://s.example/" + "x" * 300)
    assert not verdict and "longer than 200" in verdict.reason
    assert not guard.check("https://s.example/" + "x" * 10**6)
    assert guard.check("http://[::1").reason.startswith("not a web address")


def test_memory_stays_bounded_per_path() -> None:
    guard = _guard(max_query_variants=50)
    for i in range(20_000):
        guard.check(f"https://s.example/p?x={i}")
    assert sum(len(v) for v in guard._variants.values()) == 50


def test_calendar_window_on_a_leap_day() -> None:
    """date.replace(year=...) raised on 29 February; the window starts on 1 January."""
    guard = TrapGuard(today=datetime.date(2028, 2, 29), calendar_years_back=30)
    assert guard.check("https://cal.example/day/2000-02-29")
    assert not guard.check("https://cal.example/day/1997-12-31")


def test_random_content_ids_under_other_names_stay_distinct_pages() -> None:
    """An image host's `?id=<sha256>` pages are different pages, never one seen key."""
    rng = random.Random(3)
    keys = {seen_key(f"https://img.example/view?id={_token(rng, 64)}") for _ in range(50)}
    assert len(keys) == 50
    digest = hashlib.sha256(b"benign").hexdigest()
    assert seen_key(f"https://img.example/view?img={digest}").endswith(digest)
    # A short value under a session-like name is content too (s=search term).
    assert seen_key("https://img.example/find?s=kittens") == "https://img.example/find?s=kittens"
