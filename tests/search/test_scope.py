"""Scope: which URLs a search may visit, and the analyst's input refused with reasons."""

import time

import pytest

from openhotline.search.scope import (
    Budget,
    Scope,
    ScopeError,
    ScopeMode,
    UrlPattern,
    registrable_domain,
)

ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("a.b.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("co.uk", "co.uk"),  # a public suffix stands for itself, never widens to all of .uk
        ("www.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("user.github.io", "user.github.io"),  # a private suffix: each user is a site
        ("127.77.0.5", "127.77.0.5"),
        ("[2001:db8::1]", "[2001:db8::1]"),
        (f"forum.{ONION}", ONION),
        ("localhost", "localhost"),
    ],
)
def test_registrable_domain_by_the_public_suffix_list(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_same_domain_admits_subdomains_but_not_siblings_under_the_suffix() -> None:
    scope = Scope.build(["https://www.example.co.uk/"], ScopeMode.SAME_DOMAIN)
    assert scope.admits("http://a.b.example.co.uk/x", 1)
    assert scope.admits("https://example.co.uk/", 1)
    verdict = scope.admits("https://other.co.uk/", 1)
    assert not verdict and "outside" in verdict.reason


def test_same_host_refuses_another_subdomain() -> None:
    scope = Scope.build(["https://www.example.com/start"])
    assert scope.admits("https://WWW.Example.com/other#frag", 1)
    assert not scope.admits("https://img.example.com/other", 1)


def test_idn_seed_and_link_are_one_host() -> None:
    scope = Scope.build(["https://bücher.de/"], ScopeMode.SAME_DOMAIN)
    assert scope.hosts == {"xn--bcher-kva.de"}
    assert scope.admits("https://shop.xn--bcher-kva.de/x", 1)
    assert scope.admits("https://shop.BÜCHER.de/x", 1)


def test_ip_and_onion_hosts() -> None:
    scope = Scope.build(["http://127.77.0.9/", f"http://{ONION}/"], ScopeMode.SAME_DOMAIN)
    assert scope.admits("http://127.77.0.9/a", 1)
    # An IP in another spelling is the same host once normalised.
    assert scope.admits("http://2135752713/a", 1)
    assert not scope.admits("http://127.77.0.10/a", 1)
    assert scope.admits(f"http://forum.{ONION}/t/1", 1)


def test_listed_hosts() -> None:
    scope = Scope.build(
        ["https://a.example/"], ScopeMode.LISTED_HOSTS, hosts=["b.example", " A.example "]
    )
    assert scope.admits("https://b.example/", 1)
    assert not scope.admits("https://c.example/", 1)
    with pytest.raises(ScopeError, match="at least one host"):
        Scope.build(["https://a.example/"], "listed_hosts", hosts=[" "])


def test_depth_and_patterns() -> None:
    scope = Scope.build(
        ["https://s.example/"],
        include=["prefix:https://s.example/forum/", "contains:/gallery/"],
        exclude=["glob:*logout*", "*/print/*"],
        max_depth=2,
    )
    assert scope.admits("https://s.example/forum/t/1", 2)
    assert scope.admits("https://s.example/x/gallery/2", 0)
    assert scope.admits("https://s.example/forum/t/1", 3).reason == (
        "deeper than 2 links from a seed"
    )
    assert (
        "excluded by pattern glob:*logout*"
        in scope.admits("https://s.example/forum/logout", 1).reason
    )
    assert not scope.admits("https://s.example/forum/print/3", 1)
    assert scope.admits("https://s.example/about", 1).reason == (
        "matches none of the include patterns"
    )


@pytest.mark.parametrize(
    "raw", ["javascript:alert(1)", "http://", "ftp://s.example/", "http://a b/", "\x00"]
)
def test_malformed_urls_are_refused_with_a_reason(raw: str) -> None:
    verdict = Scope.build(["https://s.example/"]).admits(raw, 0)
    assert not verdict and verdict.reason.startswith("not a web address")


def test_huge_url_is_refused_quickly() -> None:
    scope = Scope.build(["https://s.example/"], exclude=["*a*a*a*a*a*a*a*a*a*c"])
    started = time.monotonic()
    verdict = scope.admits("https://s.example/" + "a" * 1_000_000, 0)
    assert not verdict and "longer than" in verdict.reason
    assert time.monotonic() - started < 1


def test_glob_with_many_stars_stays_linear() -> None:
    """The pattern shape that makes a backtracking regex exponential."""
    scope = Scope.build(["https://s.example/"], exclude=["*a*a*a*a*a*a*a*a*a*c"])
    started = time.monotonic()
    for _ in range(100):
        assert scope.admits("https://s.example/" + "a" * 2000, 0)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("regex:(a+)+$", "regex"),
        ("re:^https?://", "regex"),
        ("glob:" + "*" * 11, "pattern_wildcards"),
        ("prefix:" + "x" * 501, "pattern_long"),
        ("contains:   ", "pattern_empty"),
    ],
)
def test_dangerous_or_empty_patterns_are_refused(raw: str, code: str) -> None:
    with pytest.raises(ScopeError) as caught:
        UrlPattern.parse(raw)
    assert caught.value.code == code and caught.value.message


def test_too_many_patterns_and_bad_input_refused() -> None:
    with pytest.raises(ScopeError, match="At most 50"):
        Scope.build(["https://s.example/"], exclude=[f"*{i}*" for i in range(51)])
    with pytest.raises(ScopeError, match="seed"):
        Scope.build([])
    with pytest.raises(ScopeError, match="seed address is refused"):
        Scope.build(["mailto:x@example.com"])
    with pytest.raises(ScopeError, match="Unknown scope"):
        Scope.build(["https://s.example/"], "everything")
    with pytest.raises(ScopeError, match="negative"):
        Scope.build(["https://s.example/"], max_pages=-1)


def test_budget_of_pages_and_bytes() -> None:
    budget = Budget(Scope.build(["https://s.example/"], max_pages=3, max_bytes=1000))
    budget.record(400)
    budget.record(400)
    assert budget.allows_another()
    budget.record(400)
    verdict = budget.allows_another()
    assert not verdict and "page budget" in verdict.reason
    bytes_budget = Budget(Scope.build(["https://s.example/"], max_pages=10, max_bytes=1000))
    bytes_budget.record(1000)
    assert "byte budget" in bytes_budget.allows_another().reason
