"""Reading one RDAP answer off the wire: redirects, a deadline, a size cap, bounded inflate.

Redirects are followed (RDAP servers send clients on to the authoritative registry) only
to http/https, without loops and only a few times; each hop goes through the client's
transport, which checks every address with the capture policy (`rdap_http`). Bodies are
read in steps against the lookup's one deadline and size cap, and gzip/deflate are undone
in bounded steps, so a small bomb cannot fill memory. Every way this fails becomes a
`Failure` carrying the `Outcome` and a plain-words reason the lookup reports.
"""

import time
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from openhotline.tracing.rdap_http import refusal_in
from openhotline.tracing.rdap_types import Outcome

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Failure(Exception):
    """Ends a request early; carries what the result should say."""

    def __init__(
        self,
        outcome: Outcome,
        reason: str,
        url: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.url = url
        self.status = status


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, its body decoded and within the size limit."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes


@dataclass(frozen=True)
class AnswerReader:
    """GETs an RDAP URL through `http` within the lookup's limits; raises Failure.

    `http` does not follow redirects: `get` does, checking each hop (scheme, loops, count).
    """

    http: httpx.Client
    timeout: float  # seconds for the whole lookup; `deadline` is when it ends
    max_bytes: int
    max_redirects: int

    def get(self, url: str, deadline: float) -> Answer:
        """GET `url`, following up to max_redirects redirects; raises Failure."""
        seen: set[str] = set()
        current = url
        for _ in range(self.max_redirects + 1):
            if urlsplit(current).scheme.lower() not in ("http", "https"):
                raise Failure(
                    Outcome.REDIRECT_ERROR,
                    f"redirected to {current[:200]}: only http and https are followed",
                    current,
                )
            if current in seen:
                raise Failure(Outcome.REDIRECT_ERROR, f"redirect loop at {current}", current)
            seen.add(current)
            location = self._request(current, deadline)
            if isinstance(location, Answer):
                return location
            current = urljoin(current, location)
        raise Failure(
            Outcome.REDIRECT_ERROR, f"more than {self.max_redirects} redirects from {url}", current
        )

    def _request(self, url: str, deadline: float) -> Answer | str:
        """One request: the answer, or the Location of a redirect."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Failure(Outcome.TIMEOUT, f"no answer within {self.timeout:g} s", url)
        try:
            request = self.http.build_request("GET", url, timeout=httpx.Timeout(remaining))
        except (httpx.InvalidURL, ValueError):
            raise Failure(Outcome.REDIRECT_ERROR, f"{url[:200]} is not a valid URL", url) from None
        try:
            response = self.http.send(request, stream=True)
        except httpx.TimeoutException:
            reason = f"no answer from {host(url)} within {self.timeout:g} s"
            raise Failure(Outcome.TIMEOUT, reason, url) from None
        except httpx.HTTPError as exc:
            refused = refusal_in(exc)
            if refused is not None:
                raise Failure(Outcome.REFUSED, f"refused: {refused}", url) from None
            reason = f"could not reach {host(url)}: {exc or type(exc).__name__}"
            raise Failure(Outcome.CONNECTION_ERROR, reason, url) from None
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("location", "").strip()
                if not location:
                    reason = f"{host(url)} answered {status} without a Location"
                    raise Failure(Outcome.HTTP_ERROR, reason, url, status)
                return location
            return Answer(url, status, response.headers, self._read(response, url, deadline))
        finally:
            response.close()

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        """The decoded body, at most max_bytes of it, before the deadline."""
        status = response.status_code
        too_large = f"the answer from {host(url)} is larger than {self.max_bytes} bytes"
        length = response.headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > self.max_bytes:
            raise Failure(Outcome.TOO_LARGE, too_large, url, status)
        if response.is_stream_consumed:
            # Read before us (httpx.MockTransport with content=...): httpx has decoded it.
            if len(response.content) > self.max_bytes:
                raise Failure(Outcome.TOO_LARGE, too_large, url, status)
            return response.content
        decoder = Decoder(response.headers.get("content-encoding", ""), url, status)
        chunks: list[bytes] = []
        size = 0
        try:
            for piece in response.iter_raw():
                if time.monotonic() > deadline:
                    reason = f"the answer from {host(url)} took longer than {self.timeout:g} s"
                    raise Failure(Outcome.TIMEOUT, reason, url, status)
                out = decoder.feed(piece, self.max_bytes - size + 1)
                size += len(out)
                if size > self.max_bytes:
                    raise Failure(Outcome.TOO_LARGE, too_large, url, status)
                chunks.append(out)
        except httpx.TimeoutException:
            reason = f"the answer from {host(url)} stopped coming (timeout)"
            raise Failure(Outcome.TIMEOUT, reason, url, status) from None
        except httpx.HTTPError as exc:
            reason = f"the answer from {host(url)} was cut off: {exc or type(exc).__name__}"
            raise Failure(Outcome.CONNECTION_ERROR, reason, url, status) from None
        return b"".join(chunks)


class Decoder:
    """Undoes gzip or deflate in bounded steps, so a small bomb cannot fill memory."""

    def __init__(self, encoding: str, url: str, status: int) -> None:
        encoding = encoding.strip().lower()
        self.url, self.status = url, status
        self.inflate: Any = None
        if encoding in ("gzip", "x-gzip"):
            self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.inflate = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            reason = f"{host(url)} sent an answer in an encoding we do not read ({encoding[:40]})"
            raise Failure(Outcome.MALFORMED, reason, url, status)

    def feed(self, data: bytes, limit: int) -> bytes:
        """At most `limit` bytes decoded from `data` (exactly `limit` when cut short)."""
        if self.inflate is None:
            return data[:limit]
        try:
            return bytes(self.inflate.decompress(data, limit))
        except zlib.error:
            reason = f"the answer from {host(self.url)} could not be decompressed"
            raise Failure(Outcome.MALFORMED, reason, self.url, self.status) from None


def host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url[:100]
    except ValueError:
        return url[:100]
