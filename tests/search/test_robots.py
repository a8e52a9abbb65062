"""robots.txt: honoured by default, ignored only with a reason, read within a cap."""

import pytest

from openhotline.search.robots import (
    ROBOTS_MAX_BYTES,
    RobotsChoice,
    RobotsRules,
    robots_verdict,
)

UA = "OpenHotlineBot/1.0"
ROBOTS = b"""
User-agent: OpenHotlineBot
Disallow: /private/
Crawl-delay: 2

User-agent: *
Disallow: /
"""


def test_default_honours_robots() -> None:
    choice = RobotsChoice()
    rules = RobotsRules(200, ROBOTS)
    assert choice.honour
    assert robots_verdict(choice, rules, "https://s.example/public/1", UA)
    verdict = robots_verdict(choice, rules, "https://s.example/private/1", UA)
    assert not verdict and "robots.txt" in verdict.reason
    assert not rules.allows("https://s.example/public/1", "OtherBot")
    assert rules.crawl_delay(UA) == 2.0


def test_ignoring_needs_a_reason_and_then_admits() -> None:
    with pytest.raises(ValueError, match="why"):
        RobotsChoice(honour=False)
    with pytest.raises(ValueError, match="why"):
        RobotsChoice.ignore("   ")
    choice = RobotsChoice.ignore("The site hides its galleries from crawlers (case 1234).")
    assert choice.reason.startswith("The site hides")
    assert robots_verdict(choice, RobotsRules(200, ROBOTS), "https://s.example/private/", UA)


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (410, True), (503, False)])
def test_missing_and_unreachable_robots(status: int, allowed: bool) -> None:
    rules = RobotsRules(status, b"User-agent: *\nDisallow: /\n")
    assert rules.allows("https://s.example/a", UA) is allowed
    assert rules.crawl_delay(UA) is None


def test_unreachable_robots_keeps_the_crawler_out_for_now() -> None:
    verdict = robots_verdict(RobotsChoice(), RobotsRules(None), "https://s.example/", UA)
    assert not verdict and "could not be fetched" in verdict.reason


def test_hostile_robots_text() -> None:
    junk = b"\xff\xfe\x00garbage\nUser-agent: *\nDisallow /nocolon\n\x00\x00Allow:\n" * 1000
    assert RobotsRules(200, junk).allows("https://s.example/a", UA)
    # Only the first 500 KiB are read: a rule past the cap is not seen.
    padded = b"# " + b"x" * ROBOTS_MAX_BYTES + b"\nUser-agent: *\nDisallow: /\n"
    assert RobotsRules(200, padded).allows("https://s.example/a", UA)
    empty = RobotsRules(200, b"")
    assert empty.allows("https://s.example/a", UA)
