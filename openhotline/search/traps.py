"""Endless link farms, and the key the duplicate filter keeps for each URL.

A site can make infinitely many URLs out of one page: a calendar with a "next day" link,
a session ID in every link, paths that repeat (`/a/b/a/b/...`), a query parameter that
takes any value, URLs that grow on every click. `TrapGuard.check` refuses such a URL with
a reason, and `seen_key` gives the spellings of one page one key (what scrapy-redis's
fingerprint will be made from), so the crawl stays within its budgets and ends.

The per-path counts live in this object (one process); the crawler will keep them in
Redis beside the seen-set. Each path keeps at most its budget of entries, so memory stays
bounded whatever a site serves.
"""

import datetime
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from openhotline.search.verdict import ADMITTED, Verdict, refused
from openhotline.urlnorm import UrlRejected, normalise_url

# Query parameters that carry a session, never what the page shows (PHP, Java, ColdFusion,
# phpBB's sid, osCommerce, Zen Cart, classic ASP's ASPSESSIONIDxxxx).
SESSION_PARAMS = frozenset(
    {
        "phpsessid", "sid", "sessionid", "session_id", "sessid", "jsessionid",
        "cfid", "cftoken", "oscsid", "zenid",
    }
)  # fmt: skip
_SESSION_PREFIXES = ("aspsessionid", "session")
# Other names whose value is dropped when it is a long random token (vBulletin's `s`).
_SESSIONISH_NAME = re.compile(r"sess|sid|token|^s$|^auth", re.I)
# `;jsessionid=...` and friends: path parameters a servlet container appends.
_PATH_SESSION = re.compile(r";(?:jsessionid|sid|phpsessid|sessionid)=[^/?]*", re.I)
# ASP.NET's cookieless session: /(S(lit3py55t21z5v55vlm25s55))/page.aspx
_ASPNET_SESSION = re.compile(r"/\((?:[A-Z]\([A-Za-z0-9_-]{1,100}\))+\)(?=/)")
# A token: 24+ characters of an ID alphabet, letters and digits both present.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{24,}$")
_MIN_TOKEN_ENTROPY = 3.5  # bits per character: a hex string has 4, English words about 2.5

_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)[-/_.]?(?P<m>0[1-9]|1[0-2])(?:[-/_.]?(?P<d>0[1-9]|[12]\d|3[01]))?(?!\d)"
)
_YEAR_PARAMS = ("year", "y", "yr")
_MONTH_PARAMS = ("month", "m", "mon")
_DAY_PARAMS = ("day", "d")


def _looks_random(value: str) -> bool:
    if not _TOKEN.match(value) or value.isdigit() or value.isalpha():
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= _MIN_TOKEN_ENTROPY


def _is_session_param(name: str, value: str) -> bool:
    lowered = name.lower()
    if lowered in SESSION_PARAMS or lowered.startswith(_SESSION_PREFIXES):
        return True
    return bool(_SESSIONISH_NAME.search(lowered)) and _looks_random(value)


def seen_key(url: str) -> str:
    """One key for the spellings of one page: the normalised URL without session
    parameters (known names; a long random token under a session-like name such as `s`
    or `token`), path session parameters dropped, and the query parameters sorted.
    Raises UrlRejected.

    A random value under any other name (`?id=<sha256>`, `?img=<hash>`) is what the page
    shows, and stays: a page missed costs a hotline more than a page fetched twice, and
    the per-path query budget of `TrapGuard` bounds the cost of an unknown session name.
    The link graph keeps the raw links, so invite tokens stay there to group."""
    url = normalise_url(url)
    parts = urlsplit(url)
    path = _ASPNET_SESSION.sub("", _PATH_SESSION.sub("", parts.path))
    pairs = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_session_param(name, value)
    ]
    query = urlencode(sorted(pairs), safe="/:@!$'()*,;")
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _dates(parts_path: str, query: list[tuple[str, str]]) -> list[datetime.date]:
    found = []
    for match in _DATE_IN_TEXT.finditer(parts_path + "?" + "&".join(v for _, v in query)):
        try:
            found.append(datetime.date(int(match["y"]), int(match["m"]), int(match["d"] or 1)))
        except ValueError:
            continue
    named = {name.lower(): value for name, value in query}
    year = next((named[n] for n in _YEAR_PARAMS if named.get(n, "").isdigit()), None)
    if year is not None and len(year) == 4:
        month = next((named[n] for n in _MONTH_PARAMS if named.get(n, "").isdigit()), "1")
        day = next((named[n] for n in _DAY_PARAMS if named.get(n, "").isdigit()), "1")
        try:
            found.append(datetime.date(int(year), int(month), int(day)))
        except ValueError:
            found.append(datetime.date(int(year), 1, 1))
    return found


def _repeated_run(segments: list[str], times: int, longest: int) -> str | None:
    """A run of 1..longest segments that repeats `times` times in a row, or None.
    The path is capped at a few dozen segments before this is asked."""
    for width in range(1, longest + 1):
        for start in range(len(segments) - width * times + 1):
            run = segments[start : start + width]
            if all(
                segments[start + k * width : start + (k + 1) * width] == run
                for k in range(1, times)
            ):
                return "/".join(run)
    return None


@dataclass
class TrapGuard:
    """Refuses the URLs of a link farm. One per search; not thread-safe."""

    max_url_length: int = 1500
    max_path_segments: int = 40
    # A run of segments (up to `repeat_width` long) repeated this many times in a row.
    max_repeats: int = 3
    repeat_width: int = 4
    # Query variants (distinct seen keys) per host and path.
    max_query_variants: int = 200
    # Distinct dates per URL template (the URL with its dates taken out).
    max_dates_per_template: int = 60
    # Dates further than this from today are outside any calendar worth crawling.
    calendar_years_back: int = 30
    calendar_days_ahead: int = 366
    today: datetime.date = field(default_factory=datetime.date.today)
    _variants: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _dates: dict[str, set[datetime.date]] = field(default_factory=dict, repr=False)

    def check(self, url: str) -> Verdict:
        """Whether to follow this URL; a refusal's reason names the trap."""
        if len(url) > self.max_url_length:
            return refused(f"the address is longer than {self.max_url_length} characters")
        try:
            key = seen_key(url)
        except UrlRejected as error:
            return refused(f"not a web address: {error.message}")
        parts = urlsplit(key)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) > self.max_path_segments:
            return refused(f"the path is deeper than {self.max_path_segments} segments")
        repeated = _repeated_run(segments, self.max_repeats, self.repeat_width)
        if repeated is not None:
            return refused(f"the path repeats /{repeated} {self.max_repeats} times")
        query = parse_qsl(parts.query, keep_blank_values=True)
        verdict = self._check_calendar(parts.netloc, parts.path, query)
        if not verdict:
            return verdict
        if parts.query:
            return self._count(
                self._variants,
                f"{parts.netloc}{parts.path}",
                parts.query,
                self.max_query_variants,
                f"more than {self.max_query_variants} query variants of {parts.path}",
            )
        return ADMITTED

    def _check_calendar(self, netloc: str, path: str, query: list[tuple[str, str]]) -> Verdict:
        dates = _dates(path, query)
        if not dates:
            return ADMITTED
        # 1 January: replace(year=) fails on 29 February.
        earliest = datetime.date(self.today.year - self.calendar_years_back, 1, 1)
        latest = self.today + datetime.timedelta(days=self.calendar_days_ahead)
        for date in dates:
            if not earliest <= date <= latest:
                return refused(f"a calendar date ({date}) outside {earliest} to {latest}")
        template = (
            netloc
            + _DATE_IN_TEXT.sub("{date}", path)
            + "?"
            + "&".join(sorted(name for name, _ in query))
        )
        return self._count(
            self._dates,
            template,
            max(dates),
            self.max_dates_per_template,
            f"more than {self.max_dates_per_template} calendar dates on one page template",
        )

    @staticmethod
    def _count[T](
        table: dict[str, set[T]], where: str, value: T, budget: int, reason: str
    ) -> Verdict:
        known = table.setdefault(where, set())
        if value in known:
            return ADMITTED
        if len(known) >= budget:
            return refused(reason)
        known.add(value)
        return ADMITTED
