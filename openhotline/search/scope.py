"""What a search may visit: its seeds, a host rule, URL patterns, depth and budgets.

Patterns are deliberately not regular expressions: Python's `re` has no time limit, and
one pattern like `(a+)+$` typed into a search form would stall a crawler on every URL.
A pattern is `prefix:<text>`, `contains:<text>` or `glob:<pattern>` (the default):
shell-style `*`, `?` and `[...]` matched by `fnmatch`, whose translation has no nested
repetition and so runs in time linear in the URL; length and wildcards are capped besides.
"""

import fnmatch
import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from publicsuffixlist import PublicSuffixList

from openhotline.search.verdict import ADMITTED, Verdict, refused
from openhotline.urlnorm import UrlRejected, host_of, normalise_host, normalise_url

MAX_PATTERN_LENGTH = 500
MAX_PATTERN_WILDCARDS = 10
MAX_PATTERNS = 50
MAX_SEEDS = 1000
# The bundled snapshot of the Public Suffix List: nothing is downloaded at run time.
_PSL = PublicSuffixList()


class ScopeError(ValueError):
    """Why a search's scope cannot be accepted, in words for the analyst who typed it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ScopeMode(StrEnum):
    SAME_HOST = "same_host"
    SAME_DOMAIN = "same_domain"  # the registrable domain, by the Public Suffix List
    LISTED_HOSTS = "listed_hosts"


def registrable_domain(host: str) -> str:
    """`a.b.example.co.uk` → `example.co.uk`. An IP address, a public suffix itself
    (`co.uk`) or a single label has no registrable domain: the host stands for itself."""
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
        return host
    except ValueError:
        pass
    return _PSL.privatesuffix(host) or host


@dataclass(frozen=True)
class UrlPattern:
    kind: str  # prefix | contains | glob
    text: str

    @classmethod
    def parse(cls, raw: str) -> "UrlPattern":
        text = raw.strip()
        kind, sep, rest = text.partition(":")
        if sep and kind in ("prefix", "contains", "glob"):
            text = rest.strip()
        elif sep and kind in ("regex", "re"):
            raise ScopeError(
                "regex",
                f"Regular expressions are not accepted ({raw!r}): "
                "use prefix:, contains: or glob: with * and ?.",
            )
        else:
            kind = "glob"
        if not text:
            raise ScopeError("pattern_empty", f"The pattern {raw!r} is empty.")
        if len(text) > MAX_PATTERN_LENGTH:
            raise ScopeError(
                "pattern_long", f"A pattern may be at most {MAX_PATTERN_LENGTH} characters."
            )
        if kind == "glob" and sum(text.count(c) for c in "*?[") > MAX_PATTERN_WILDCARDS:
            raise ScopeError(
                "pattern_wildcards",
                f"A pattern may have at most {MAX_PATTERN_WILDCARDS} wildcards (*, ?, [).",
            )
        return cls(kind, text)

    def matches(self, url: str) -> bool:
        if self.kind == "prefix":
            return url.startswith(self.text)
        if self.kind == "contains":
            return self.text in url
        return fnmatch.fnmatchcase(url, self.text)

    def __str__(self) -> str:
        return f"{self.kind}:{self.text}"


def _patterns(raw: tuple[str, ...], what: str) -> tuple[UrlPattern, ...]:
    if len(raw) > MAX_PATTERNS:
        raise ScopeError("patterns_many", f"At most {MAX_PATTERNS} {what} patterns.")
    return tuple(UrlPattern.parse(p) for p in raw if p.strip())


def _positive(value: int | None, name: str) -> None:
    if value is not None and value < 0:
        raise ScopeError("budget", f"The {name} cannot be negative.")


@dataclass(frozen=True)
class Scope:
    seeds: tuple[str, ...]
    mode: ScopeMode
    hosts: frozenset[str]  # the hosts (or registrable domains) a URL's host must be one of
    include: tuple[UrlPattern, ...] = ()
    exclude: tuple[UrlPattern, ...] = ()
    max_depth: int = 3
    max_pages: int = 1000
    max_bytes: int = 500 * 1024 * 1024

    @classmethod
    def build(
        cls,
        seeds: list[str] | tuple[str, ...],
        mode: ScopeMode | str = ScopeMode.SAME_HOST,
        *,
        hosts: list[str] | tuple[str, ...] = (),
        include: list[str] | tuple[str, ...] = (),
        exclude: list[str] | tuple[str, ...] = (),
        max_depth: int = 3,
        max_pages: int = 1000,
        max_bytes: int = 500 * 1024 * 1024,
    ) -> "Scope":
        """Validate what an analyst typed; every refusal is a ScopeError with a reason."""
        try:
            mode = ScopeMode(mode)
        except ValueError:
            raise ScopeError("mode", f"Unknown scope {mode!r}.") from None
        if not seeds:
            raise ScopeError("seeds", "A search needs at least one seed address.")
        if len(seeds) > MAX_SEEDS:
            raise ScopeError("seeds", f"A search may have at most {MAX_SEEDS} seed addresses.")
        try:
            normalised = tuple(dict.fromkeys(normalise_url(s) for s in seeds))
        except UrlRejected as error:
            raise ScopeError("seed", f"A seed address is refused: {error.message}") from None
        for name, value in (("depth", max_depth), ("page budget", max_pages)):
            _positive(value, name)
        _positive(max_bytes, "byte budget")
        seed_hosts = [host_of(s) for s in normalised]
        if mode is ScopeMode.SAME_HOST:
            allowed = frozenset(seed_hosts)
        elif mode is ScopeMode.SAME_DOMAIN:
            allowed = frozenset(registrable_domain(h) for h in seed_hosts)
        else:
            try:
                allowed = frozenset(normalise_host(h.strip()) for h in hosts if h.strip())
            except UrlRejected as error:
                raise ScopeError("host", f"A listed host is refused: {error.message}") from None
            if not allowed:
                raise ScopeError("hosts", "List at least one host for this scope.")
        return cls(
            seeds=normalised,
            mode=mode,
            hosts=allowed,
            include=_patterns(tuple(include), "include"),
            exclude=_patterns(tuple(exclude), "exclude"),
            max_depth=max_depth,
            max_pages=max_pages,
            max_bytes=max_bytes,
        )

    def admits(self, url: str, depth: int) -> Verdict:
        """Whether a URL found at this many links from a seed belongs to the search."""
        try:
            url = normalise_url(url)
        except UrlRejected as error:
            return refused(f"not a web address: {error.message}")
        if depth > self.max_depth:
            return refused(f"deeper than {self.max_depth} links from a seed")
        host = host_of(url)
        key = registrable_domain(host) if self.mode is ScopeMode.SAME_DOMAIN else host
        if key not in self.hosts:
            return refused(f"host {host} is outside the search's scope ({self.mode})")
        for pattern in self.exclude:
            if pattern.matches(url):
                return refused(f"excluded by pattern {pattern}")
        if self.include and not any(p.matches(url) for p in self.include):
            return refused("matches none of the include patterns")
        return ADMITTED


@dataclass
class Budget:
    """Pages and bytes a search has spent against its scope's budgets (in one process;
    the crawler will keep the counts in Redis so that every process shares them)."""

    scope: Scope
    pages: int = 0
    bytes: int = 0

    def allows_another(self) -> Verdict:
        if self.pages >= self.scope.max_pages:
            return refused(f"the page budget ({self.scope.max_pages:,}) is spent")
        if self.bytes >= self.scope.max_bytes:
            return refused(f"the byte budget ({self.scope.max_bytes:,}) is spent")
        return ADMITTED

    def record(self, body_bytes: int) -> None:
        self.pages += 1
        self.bytes += max(0, body_bytes)
