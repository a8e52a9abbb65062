"""What a fetch found: every hop made, and the final answer or why there was none.

`FetchResult` is what `SafeFetcher.fetch` returns and what captures and takedown probes
keep: refusals (the policy said no; nothing was sent) and network failures (with an
`ErrorKind`) come back here rather than as exceptions.
"""

from dataclasses import dataclass, field

from .resolver import ErrorKind


@dataclass(frozen=True)
class Hop:
    """One request made: its URL, the answer's status and the address actually connected."""

    url: str
    status: int | None
    address: str | None  # None through a proxy (the proxy chose it) or when no connection
    headers: list[tuple[str, str]]
    elapsed_ms: float


@dataclass
class FetchResult:
    url: str
    final_url: str  # the last URL reached (or refused)
    hops: list[Hop] = field(default_factory=list)
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    truncated: bool = False
    truncated_reason: str | None = None
    addresses: list[str] = field(default_factory=list)  # the final host's checked addresses
    cnames: list[str] = field(default_factory=list)  # the final host's CNAME chain
    elapsed_ms: float = 0.0
    refused: str | None = None  # policy said no, in plain words; nothing was sent there
    error: str | None = None  # the network said no (see error_kind)
    error_kind: ErrorKind | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error is None and self.status is not None
