"""Arbitrary text never crashes a crawl decision: each gives a verdict or a typed error."""

from hypothesis import given, settings
from hypothesis import strategies as st

from openhotline.search.links import find_links, group_by_inviter
from openhotline.search.robots import RobotsRules
from openhotline.search.scope import Scope, ScopeError, ScopeMode, UrlPattern
from openhotline.search.traps import TrapGuard, seen_key
from openhotline.urlnorm import UrlRejected

URLISH = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda host, path, query: f"https://{host}/{path}?{query}",
        st.from_regex(r"[a-z0-9.-]{1,30}", fullmatch=True),
        st.text(max_size=100),
        st.text(max_size=100),
    ),
)
SCOPE = Scope.build(["https://s.example/"], ScopeMode.SAME_DOMAIN, exclude=["*x*y*"])


@settings(max_examples=300, deadline=None)
@given(URLISH, st.integers(min_value=-5, max_value=50))
def test_scope_and_traps_answer_any_text(url: str, depth: int) -> None:
    assert SCOPE.admits(url, depth).ok in (True, False)
    verdict = TrapGuard().check(url)
    assert verdict.ok or verdict.reason


@settings(max_examples=300, deadline=None)
@given(URLISH)
def test_seen_key_is_stable(url: str) -> None:
    try:
        key = seen_key(url)
    except UrlRejected:
        return
    assert seen_key(key) == key


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_patterns_parse_or_refuse(raw: str) -> None:
    try:
        pattern = UrlPattern.parse(raw)
    except ScopeError as error:
        assert error.message
        return
    assert pattern.matches("https://s.example/" + raw) in (True, False)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500), st.binary(max_size=500))
def test_links_and_robots_take_any_input(html: str, robots: bytes) -> None:
    links = find_links(html, "https://s.example/").links
    assert all(link.startswith(("http://", "https://")) for link in links)
    group_by_inviter([("https://s.example/", link) for link in links], "s.example")
    assert RobotsRules(200, robots).allows("https://s.example/a", "Bot") in (True, False)
