"""One look at whether a criminal case's content is still online, through the pathway the
capture used (its Referer, User-Agent and language: hotlink protection and disguised sites
answer other visitors differently).

Only a definite answer counts as gone. The URL: NXDOMAIN, no address, connection refused,
404 or 410. A criminal media item: its URL answers 404/410 (or is gone as above), or the
page no longer references it *and* its URL, fetched as the capture fetched it, no longer
gives the same bytes. Anything else (403, 429, 5xx, a timeout, a cut-off body, a refusal
by our own policy) is inconclusive: it is retried and never counts toward removal.
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings

from openhotline.assessment.standing import standing_criminal_grades
from openhotline.cases.models import Case
from openhotline.evidence.capture import proxy_for
from openhotline.evidence.extract import decode_html, find_media
from openhotline.evidence.models import Capture, CaptureItem, CaptureState
from openhotline.evidence.net.fetcher import FetchResult, SafeFetcher
from openhotline.evidence.net.resolver import ErrorKind
from openhotline.signals.services import hashes_by_media
from openhotline.takedown.models import RecheckResult

_GONE_ERRORS = frozenset(
    {ErrorKind.DNS_NXDOMAIN, ErrorKind.DNS_NO_ADDRESS, ErrorKind.CONNECTION_REFUSED}
)
_GONE_STATUS = frozenset({404, 410})


@dataclass(frozen=True)
class Probe:
    result: str  # a RecheckResult value
    detail: str
    status: int | None = None
    served: int = 0  # criminal media items still served


@dataclass(frozen=True)
class Pathway:
    """How the capture visited: the page with `referrer`, its media with the page as
    Referer, both as `user_agent` in `accept_language`."""

    referrer: str = ""
    user_agent: str = ""
    accept_language: str = ""
    page_url: str = ""  # where the capture's page ended up (its media's Referer)

    @classmethod
    def of(cls, case: Case) -> "Pathway":
        capture = (
            Capture.objects.filter(case=case, state=CaptureState.DONE)
            .order_by("-finished_at", "-id")
            .first()
        )
        if capture is None:
            return cls()
        return cls(capture.referrer, capture.user_agent, capture.accept_language, capture.final_url)


class _Visitor:
    """The SafeFetcher dressed as the capture's visitor; like the capture, a site whose
    certificate does not verify is fetched again without verification."""

    def __init__(self, pathway: Pathway, page_url: str) -> None:
        self.pathway = pathway
        self.page_url = page_url
        self.fetcher = SafeFetcher()

    def get(self, url: str, referrer: str, max_bytes: int) -> FetchResult:
        got = self._get(url, referrer, max_bytes)
        if got.error_kind == ErrorKind.TLS:
            self.fetcher = SafeFetcher(verify=False)
            got = self._get(url, referrer, max_bytes)
        return got

    def _get(self, url: str, referrer: str, max_bytes: int) -> FetchResult:
        return self.fetcher.fetch(
            url,
            max_bytes=max_bytes,
            user_agent=self.pathway.user_agent or None,
            referrer=referrer or None,
            accept_language=self.pathway.accept_language or None,
            # An onion case's page and media (clear-web hosts too) only through the
            # proxy, exactly as its capture fetched them.
            proxy=proxy_for(self.page_url, url),
        )


def _definitely_gone(got: FetchResult) -> str:
    """Why the fetch proves the address gone, or "" when it does not."""
    if got.refused is None and got.error_kind in _GONE_ERRORS:
        return got.error or str(got.error_kind)
    if got.ok and got.status in _GONE_STATUS:
        return f"HTTP {got.status}"
    return ""


def _unclear(got: FetchResult) -> str:
    if got.refused:
        return f"refused: {got.refused}"
    if got.error:
        return got.error
    if got.truncated:
        return f"cut off: {got.truncated_reason}"
    return f"HTTP {got.status}"


def probe(case: Case) -> Probe:
    """The case's URL now: gone, live, criminal media gone, or inconclusive."""
    pathway = Pathway.of(case)
    visitor = _Visitor(pathway, case.url or "")
    page = visitor.get(case.url or "", pathway.referrer, settings.FETCH_MAX_PAGE_BYTES)
    gone = _definitely_gone(page)
    if gone:
        return Probe(RecheckResult.GONE, gone, page.status)
    if not page.ok or page.status is None or not 200 <= page.status < 300:
        return Probe(RecheckResult.ERROR, _unclear(page), page.status)
    return _media_probe(case, visitor, page)


def _referenced(page: FetchResult) -> set[str] | None:
    """The media URLs the page references now; None when the page was cut off (what it
    references cannot be known)."""
    if page.truncated:
        return None
    content_type = {k.lower(): v for k, v in page.headers}.get("content-type", "")
    return {m.url for m in find_media(decode_html(page.body, content_type), page.final_url)}


def _media_probe(case: Case, visitor: _Visitor, page: FetchResult) -> Probe:
    criminal = [g.media_id for g in standing_criminal_grades(case)]
    if not criminal:
        return Probe(RecheckResult.ERROR, "page answers; no criminal media to compare", 200)
    digests = {m: v["sha256"] for m, v in hashes_by_media(criminal, ["sha256"]).items()}
    sightings = CaptureItem.objects.filter(capture__case=case, media_id__in=criminal).values_list(
        "media_id", "url", "found_in"
    )
    urls: dict[int, dict[str, str]] = {}
    for media_id, url, found_in in sightings:
        urls.setdefault(media_id, {})[url] = found_in
    referenced = _referenced(page)
    served, unclear = 0, []
    for media_id in criminal:
        outcome = _item(visitor, digests.get(media_id, ""), urls.get(media_id, {}), referenced)
        if outcome == "served":
            served += 1
        elif outcome != "gone":
            unclear.append(f"media {media_id}: {outcome}")
    if served:
        return Probe(RecheckResult.LIVE, f"{served} criminal item(s) still served", 200, served)
    if unclear:
        return Probe(RecheckResult.ERROR, "; ".join(unclear)[:500], 200)
    return Probe(RecheckResult.MEDIA_GONE, "page answers; none of the criminal media", 200)


def _item(visitor: _Visitor, digest: str, urls: dict[str, str], referenced: set[str] | None) -> str:
    """ "served", "gone", or why it is unclear, for one criminal media item over every URL
    it was captured from."""
    if not digest or not urls:
        return "no captured URL or digest to compare"
    unclear = ""
    for url, found_in in urls.items():
        # A direct link was the page itself; media on a page had the page as Referer.
        referrer = visitor.pathway.referrer if found_in == "direct" else visitor.pathway.page_url
        got = visitor.get(url, referrer, settings.FETCH_MAX_MEDIA_BYTES)
        if _definitely_gone(got):
            continue
        if got.ok and got.status == 200 and not got.truncated:
            if hashlib.sha256(got.body).hexdigest() == digest:
                return "served"
            still_on_page = referenced is None or url in referenced or found_in == "direct"
            if not still_on_page:
                continue  # dropped from the page and other bytes at its address
            unclear = unclear or f"{url} answers other bytes but the page still shows it"
            continue
        unclear = unclear or f"{url}: {_unclear(got)}"
    return unclear or "gone"
