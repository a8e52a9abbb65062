"""robots.txt: honoured by default, ignored per search only with a recorded reason.

Why on by default: a hotline's crawler is a guest on sites that are mostly innocent
(hosting companies, forums, image boards), and robots.txt is how they ask a crawler to
stay out of search pages, calendars and other endless URL spaces, so honouring it is
good citizenship and keeps the crawl out of traps. Why it can be turned off: a site that
serves child sexual abuse material may hide it from crawlers with robots.txt; an analyst
may then crawl it anyway, and the search records who chose that and why.

The rules are read by the standard library's `urllib.robotparser` from text the crawler
fetched (nothing is fetched here). That parser matches path prefixes in file order: it
knows no `*` or `$` wildcards of RFC 9309, so a wildcard rule allows more than the site
meant, never less (the crawl still visits what the rule was meant to keep it from).
As RFC 9309 says: a missing robots.txt (4xx) allows everything, an unreachable one (5xx,
timeout) disallows everything for now, and only the first 500 KiB are read.
"""

from dataclasses import dataclass
from urllib.robotparser import RobotFileParser

from openhotline.search.verdict import ADMITTED, Verdict, refused

ROBOTS_MAX_BYTES = 500 * 1024


@dataclass(frozen=True)
class RobotsChoice:
    """A search's choice about robots.txt; ignoring it needs a reason."""

    honour: bool = True
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.honour and not self.reason.strip():
            raise ValueError("Say why this search ignores robots.txt.")

    @classmethod
    def ignore(cls, reason: str) -> "RobotsChoice":
        return cls(honour=False, reason=reason.strip())


class RobotsRules:
    """One host's robots.txt as fetched: `status` None when it could not be fetched."""

    def __init__(self, status: int | None, body: bytes = b"") -> None:
        self.status = status
        self._parser = RobotFileParser()
        # True: everything allowed, False: nothing, None: the parsed rules decide.
        self._blanket: bool | None = None
        if status is None or status >= 500:
            self._blanket = False
        elif 200 <= status < 300:
            text = body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
            self._parser.parse(text.splitlines())
        else:
            # 4xx: no robots.txt; 1xx or a 3xx the fetcher did not follow: no rules.
            self._blanket = True

    def allows(self, url: str, user_agent: str) -> bool:
        if self._blanket is not None:
            return self._blanket
        return self._parser.can_fetch(user_agent, url)

    def crawl_delay(self, user_agent: str) -> float | None:
        """The delay the site asks for, if any (the search's own delay applies if longer)."""
        if self._blanket is not None:
            return None
        delay = self._parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def robots_verdict(choice: RobotsChoice, rules: RobotsRules, url: str, user_agent: str) -> Verdict:
    if not choice.honour:
        return ADMITTED
    if rules.allows(url, user_agent):
        return ADMITTED
    if rules.status is None or rules.status >= 500:
        return refused("robots.txt could not be fetched, so the host is left alone for now")
    return refused("robots.txt asks crawlers to stay out")
