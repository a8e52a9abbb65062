"""What the safe fetcher sends and how far it goes: request headers and limits.

The headers are a browser's (a site shown a crawler may show it something else), asking
only for encodings the fetcher decodes in bounded steps (`inflate`). The limits (timeouts,
redirects, body sizes) come from settings (FETCH_*) and hold whatever the server does.
"""

from dataclasses import dataclass

from django.conf import settings

DEFAULT_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
DEFAULT_ACCEPT_LANGUAGE = "en"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Only what we can decode in bounded steps (inflate); never br/zstd behind our back.
ACCEPT_ENCODING = "gzip, deflate"
MIB = 1024 * 1024


@dataclass(frozen=True)
class FetchLimits:
    """How long a fetch may take and how much it may read, per fetch."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0  # wall clock for the whole fetch, redirects included
    max_redirects: int = 10
    max_page_bytes: int = 5 * MIB
    max_media_bytes: int = 50 * MIB

    @classmethod
    def from_settings(cls) -> "FetchLimits":
        """The limits in settings (FETCH_*), each defaulting to the value above."""
        default = cls()

        def get(name: str, fallback: float) -> float:
            return float(getattr(settings, f"FETCH_{name}", fallback))

        return cls(
            connect_timeout=get("CONNECT_TIMEOUT", default.connect_timeout),
            read_timeout=get("READ_TIMEOUT", default.read_timeout),
            total_timeout=get("TOTAL_TIMEOUT", default.total_timeout),
            max_redirects=int(get("MAX_REDIRECTS", default.max_redirects)),
            max_page_bytes=int(get("MAX_PAGE_BYTES", default.max_page_bytes)),
            max_media_bytes=int(get("MAX_MEDIA_BYTES", default.max_media_bytes)),
        )
