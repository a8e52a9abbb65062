"""The links a page holds, and the invite tokens in links from many pages into one site.

Extraction reads untrusted HTML the way `evidence.extract` does: libxml2's HTML parser
through lxml, as a stream of start events with no tree kept (linear time; the standard
library's html.parser is quadratic on some inputs), fed in slices, with a cap on the text
read, on the links kept and a clock. It is written here rather than reused because the
evidence module reads Django settings and looks for media, not links.

`group_by_inviter` finds invite pyramids: pages that each carry a link into one site with
a token of their own (`/join?ref=<token>`, `/invite/<token>/`), grouped by token.
"""

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml import etree

from openhotline.search.scope import registrable_domain
from openhotline.urlnorm import UrlRejected, host_of, normalise_host, normalise_url

FEED_CHARS = 64 * 1024
_CHECK_EVERY = 256
_SKIPPED_SCHEMES = ("data:", "javascript:", "blob:", "about:", "mailto:", "tel:")
_LINK_ATTRIBUTES = {"a": "href", "area": "href", "iframe": "src", "frame": "src"}
# A place is an invite token when at least this share of the pages linking with it
# always put one value there (a page listing many invites does not hide the rest).
TOKEN_STEADY_SHARE = 0.8


class LinkSearch(NamedTuple):
    links: list[str]  # absolute, normalised, de-duplicated, in page order
    # Empty when the whole page was read; else why not, for the search's error counts.
    cut_short: str


class _Stop(Exception):
    pass


class _LinkTarget:
    """lxml parser target: collects raw link targets in page order, up to a cap."""

    def __init__(self, deadline: float, max_links: int) -> None:
        self.deadline = deadline
        self.max_links = max_links
        self.base: str | None = None
        self.found: list[str] = []
        self.stopped = ""
        self._tags = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._tags += 1
        if self._tags % _CHECK_EVERY == 0 and time.monotonic() >= self.deadline:
            self.stopped = "time"
            raise _Stop
        if tag == "base" and self.base is None and attrib.get("href"):
            self.base = attrib["href"]
            return
        attribute = _LINK_ATTRIBUTES.get(tag)
        value = attrib.get(attribute) if attribute else None
        if value:
            self.found.append(value)
            if len(self.found) >= self.max_links * 2:  # room for duplicates and junk
                self.stopped = "links"
                raise _Stop

    def close(self) -> None:
        pass


def find_links(
    html: str,
    page_url: str,
    *,
    max_chars: int = 5_000_000,
    max_links: int = 10_000,
    seconds: float = 2.0,
) -> LinkSearch:
    """The web links of a page (a, area, iframe, frame; <base> honoured). Malformed
    markup never raises; the caps stop the search with what it found and say so."""
    deadline = time.monotonic() + seconds
    cut_short = []
    if len(html) > max_chars:
        html = html[:max_chars]
        cut_short.append(f"only the first {max_chars:,} characters of the page were read")
    target = _LinkTarget(deadline, max_links)
    parser = etree.HTMLParser(target=target, recover=True, no_network=True)
    try:
        for start in range(0, len(html), FEED_CHARS):
            parser.feed(html[start : start + FEED_CHARS])
            if time.monotonic() >= deadline:
                target.stopped = "time"
                raise _Stop
        parser.close()
    except _Stop:
        pass
    except etree.LxmlError:
        pass  # keep what was found before the markup became unparseable
    try:
        base = normalise_url(urljoin(page_url, target.base)) if target.base else page_url
    except (UrlRejected, ValueError):
        base = page_url
    links = _normalised(target.found, base, deadline, max_links)
    if target.stopped == "links" or len(links) >= max_links:
        cut_short.append(f"only the first {max_links:,} links of the page were kept")
    if target.stopped == "time" or time.monotonic() >= deadline:
        cut_short.append(f"the search for links stopped at its time limit ({seconds:g} s)")
    return LinkSearch(links, "; ".join(cut_short))


def _normalised(found: list[str], base: str, deadline: float, max_links: int) -> list[str]:
    seen: set[str] = set()
    result: list[str] = []
    for index, raw in enumerate(dict.fromkeys(found)):
        if index % _CHECK_EVERY == 0 and index and time.monotonic() >= deadline:
            break
        if raw.strip().lower().startswith(_SKIPPED_SCHEMES):
            continue
        try:
            url = normalise_url(urljoin(base, raw.strip()))
        except (UrlRejected, ValueError):
            continue
        if url not in seen:
            seen.add(url)
            result.append(url)
            if len(result) >= max_links:
                break
    return result


@dataclass(frozen=True)
class InviteGroup:
    """Source pages whose links into the site carry the same token: one inviter."""

    pattern: str  # the link with its token places shown as {token}
    token: str  # the token value(s), joined by "/" when a link has more than one
    sources: tuple[str, ...]  # the pages carrying it, sorted
    targets: tuple[str, ...]  # the links themselves, sorted


# A link's shape: host, path length and query names. Links of one shape are compared
# place by place; a place is `p<i>` (the i-th path segment) or `q<name>`.
type _Shape = tuple[str, str, int, tuple[str, ...]]


def _places(url: str) -> tuple[_Shape, dict[str, str]]:
    parts = urlsplit(url)
    segments = parts.path.split("/")[1:]
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    shape = (parts.scheme, parts.netloc, len(segments), tuple(sorted(query)))
    places = {f"p{i}": s for i, s in enumerate(segments)}
    places.update({f"q{name}": value for name, value in query.items()})
    return shape, places


def _pattern(shape: _Shape, constants: dict[str, str], tokens: list[str]) -> str:
    """The link with {token} at its token places and * where it changes otherwise."""
    scheme, netloc, length, names = shape

    def shown(place: str) -> str:
        return "{token}" if place in tokens else constants.get(place, "*")

    path = "/".join(shown(f"p{i}") for i in range(length))
    query = "&".join(f"{n}={shown(f'q{n}')}" for n in names)
    return f"{scheme}://{netloc}/{path}" + (f"?{query}" if query else "")


def group_by_inviter(links: Iterable[tuple[str, str]], domain: str) -> list[InviteGroup]:
    """Given (source page, link target) pairs, the invite groups of links into `domain`
    (a registrable domain). Among links of one shape, a place is a token when each
    source page always puts one value there while the values differ between pages;
    places that stay the same everywhere are the link's template. A place whose value
    changes within one page (`/thread/1`, `/thread/2`) is navigation, not an invitation.
    Groups are sorted by size, largest first. Malformed targets are skipped; a malformed
    `domain` raises UrlRejected."""
    domain = registrable_domain(normalise_host(domain))
    by_shape: dict[_Shape, list[tuple[str, str, dict[str, str]]]] = defaultdict(list)
    for source, target in links:
        try:
            url = normalise_url(target)
        except UrlRejected:
            continue
        if registrable_domain(host_of(url)) != domain:
            continue
        shape, places = _places(url)
        by_shape[shape].append((source, url, places))
    groups: list[InviteGroup] = []
    for shape, found in by_shape.items():
        groups.extend(_groups_of_shape(shape, found))
    groups.sort(key=lambda g: (-len(g.sources), g.pattern, g.token))
    return groups


def _is_token(per_source: dict[str, set[str]]) -> bool:
    """Most source pages put one value of their own here, and the values differ."""
    steady = sum(len(v) == 1 for v in per_source.values())
    return (
        len(per_source) >= 2
        and steady >= TOKEN_STEADY_SHARE * len(per_source)
        and len(set().union(*per_source.values())) >= 2
    )


def _groups_of_shape(
    shape: _Shape, found: list[tuple[str, str, dict[str, str]]]
) -> list[InviteGroup]:
    values: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for source, _url, places in found:
        for place, value in places.items():
            values[place][source].add(value)
    tokens = sorted(place for place, per_source in values.items() if _is_token(per_source))
    if not tokens:
        return []
    constants = {
        place: next(iter(only))
        for place, per_source in values.items()
        if len(only := set().union(*per_source.values())) == 1
    }
    # A page carrying several inviters' links (a list of invites) joins each group.
    members: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for source, url, places in found:
        token = "/".join(places[place] for place in tokens)
        members[token][0].add(source)
        members[token][1].add(url)
    pattern = _pattern(shape, constants, tokens)
    return [
        InviteGroup(pattern, token, tuple(sorted(sources)), tuple(sorted(targets)))
        for token, (sources, targets) in members.items()
    ]
