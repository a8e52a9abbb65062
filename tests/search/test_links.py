"""Links from hostile pages, within budgets; invite tokens grouped by inviter."""

import random
import string
import time

from openhotline.search.links import find_links, group_by_inviter

PAGE = "https://forum.example/t/1"


def test_links_in_page_order_absolute_and_normalised() -> None:
    html = """<html><head><base href="/board/"></head><body>
      <a href="t/2">two</a> <a href="t/2#reply">again</a>
      <a href="HTTPS://Other.Example:443/x/../y">y</a>
      <area href="map"><iframe src="//frames.example/f"></iframe>
      <a href="javascript:alert(1)">no</a><a href="mailto:a@b.example">no</a>
      <a href="http://[::1">broken</a><a>nothing</a>
    """
    found = find_links(html, PAGE)
    assert found.links == [
        "https://forum.example/board/t/2",
        "https://other.example/y",
        "https://forum.example/board/map",
        "https://frames.example/f",
    ]
    assert found.cut_short == ""


def test_malformed_markup_never_raises() -> None:
    for html in ["", "<a href='x", "<<<a href=/a>>>", "\x00<a href=/b>", "<a b='x " * 20_000]:
        find_links(html, PAGE)
    assert find_links("<a href=/ok><div><<a href=/ok2>x", PAGE).links == [
        "https://forum.example/ok",
        "https://forum.example/ok2",
    ]


def test_hundred_thousand_links_are_capped_and_quick() -> None:
    html = "".join(f'<a href="/p/{i}">{i}</a>' for i in range(100_000))
    started = time.monotonic()
    found = find_links(html, PAGE, max_links=10_000)
    assert time.monotonic() - started < 5
    assert len(found.links) == 10_000
    assert found.links[0] == "https://forum.example/p/0"
    assert "first 10,000 links" in found.cut_short


def test_text_cap_and_clock() -> None:
    html = '<a href="/a">a</a>' + "<p>" * 100_000 + '<a href="/late">late</a>'
    found = find_links(html, PAGE, max_chars=1000)
    assert found.links == ["https://forum.example/a"]
    assert "first 1,000 characters" in found.cut_short
    slow = find_links("<b>" * 2_000_000, PAGE, seconds=0.01)
    assert "time limit" in slow.cut_short


def _forum_network(rng: random.Random) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Benign generated forum pages: navigation links, links to an innocent site, and
    invite links into the demo criminal site, each inviter with a token of their own."""
    links: list[tuple[str, str]] = []
    pages_of: dict[str, list[str]] = {}
    for inviter in range(12):
        token = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(10))
        style = inviter % 3
        pages = [
            f"https://board{inviter % 4}.example/t/{inviter}-{n}" for n in range(1 + inviter % 3)
        ]
        pages_of[token] = pages
        for page in pages:
            if style == 0:
                invite = f"https://crim.example/join?ref={token}&lang=en"
            elif style == 1:
                invite = f"https://www.crim.example/invite/{token}/"
            else:
                invite = f"https://crim.example/join?ref={token}&lang=en#welcome"
            links.append((page, invite))
            # Navigation inside the criminal site varies within a page: not a token.
            links.extend((page, f"https://crim.example/gallery/{g}") for g in range(3))
            links.append((page, "https://crim.example/"))
            links.append((page, f"https://innocent.example/r?ref={token}"))
            links.append((page, f"https://board0.example/t/{rng.randrange(100)}"))
    rng.shuffle(links)
    return links, pages_of


def test_invite_pyramid_grouped_by_inviter() -> None:
    links, pages_of = _forum_network(random.Random(17))
    groups = group_by_inviter(links, "crim.example")
    found = {g.token: set(g.sources) for g in groups}
    assert found == {token: set(pages) for token, pages in pages_of.items()}
    patterns = {g.pattern for g in groups}
    assert patterns == {
        "https://crim.example/join?lang=en&ref={token}",
        "https://www.crim.example/invite/{token}/",
    }
    assert len(groups[0].sources) == 3  # largest first
    assert all(g.targets for g in groups)


def test_grouping_ignores_navigation_and_malformed_links() -> None:
    links = [
        ("https://a.example/1", "https://crim.example/gallery/1"),
        ("https://a.example/1", "https://crim.example/gallery/2"),
        ("https://a.example/2", "https://crim.example/gallery/3"),
        ("https://a.example/2", "https://crim.example/gallery/1"),
        ("https://a.example/3", "javascript:alert(1)"),
        ("https://a.example/3", "http://[::1"),
        ("https://a.example/3", "https://" + "x" * 5000),
    ]
    assert group_by_inviter(links, "crim.example") == []


def test_grouping_a_hundred_thousand_links_is_linear() -> None:
    links = [
        (f"https://f{i % 500}.example/p/{i}", f"https://crim.example/i/{i % 5000}")
        for i in range(100_000)
    ]
    started = time.monotonic()
    groups = group_by_inviter(links, "crim.example")
    assert time.monotonic() - started < 10
    assert len(groups) == 5000 and all(len(g.sources) == 20 for g in groups)


def test_a_page_listing_many_invites_joins_each_group_without_hiding_the_rest() -> None:
    links = [
        (f"https://board.example/t/{i}", f"https://crim.example/invite/tok{i}") for i in range(9)
    ]
    links += [
        ("https://board.example/list", f"https://crim.example/invite/tok{i}") for i in range(5)
    ]
    groups = {g.token: set(g.sources) for g in group_by_inviter(links, "CRIM.example")}
    assert len(groups) == 9
    assert groups["tok0"] == {"https://board.example/t/0", "https://board.example/list"}
    assert groups["tok8"] == {"https://board.example/t/8"}


def test_pattern_shows_other_changing_places_as_a_star() -> None:
    links = [
        (f"https://f.example/{i}", f"https://crim.example/u/{room}/join?ref=t{i}")
        for i in range(6)
        for room in ("a", "b")
    ]
    groups = group_by_inviter(links, "crim.example")
    assert {g.pattern for g in groups} == {"https://crim.example/u/*/join?ref={token}"}
    assert len(groups) == 6 and all(len(g.targets) == 2 for g in groups)


def test_idn_domain_is_matched_in_either_spelling() -> None:
    links = [
        (f"https://f.example/{i}", f"https://xn--bcher-kva.de/join?ref=t{i}") for i in range(3)
    ]
    assert len(group_by_inviter(links, "Bücher.de")) == 3
