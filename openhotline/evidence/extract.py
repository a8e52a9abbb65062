"""Finding the media a page shows: img src/srcset, picture sources, video and its poster,
links to image or video files, og:image, and CSS images (inline or in <style>).

Pure parsing of untrusted HTML; never fetches. The page is read by libxml2's HTML parser
(through lxml, as a stream of start/end/data events, no tree kept) and its CSS by
tinycss2: both take time linear in the input, where the standard library's html.parser
took 40 s on 160 KB of `<a b='x ` (Python 3.12.1) and a `url(` regex 6 s on 64 KB.
On top of that the text parsed is capped (EXTRACT_MAX_CHARS) and the whole search has a
clock (PARSE_SECONDS): past it, the search stops with what it found and says so.
"""

import codecs
import re
import time
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin

import webencodings
from django.conf import settings
from lxml import etree

from openhotline.evidence.css_urls import css_urls
from openhotline.urlnorm import UrlRejected, normalise_url

_MEDIA_EXTENSIONS = re.compile(
    r"\.(jpe?g|png|gif|webp|bmp|tiff?|avif|heic|mp4|m4v|mov|webm|mkv|avi|flv|ogv|3gp)$", re.I
)
_META_MEDIA = ("og:image", "og:image:url", "og:image:secure_url", "og:video", "twitter:image")
_SKIPPED_SCHEMES = ("data:", "javascript:", "blob:", "about:")
# The parser is fed this much text at a time, and the clock is read every this many tags
# or URLs, so a stop comes within milliseconds of the budget.
FEED_CHARS = 64 * 1024
_CHECK_EVERY = 256


@dataclass(frozen=True)
class FoundMedia:
    url: str
    found_in: str


class MediaSearch(NamedTuple):
    media: list[FoundMedia]
    # Empty when the whole page was searched; else why not, for the capture's notes.
    cut_short: str


class _OutOfTime(Exception):
    pass


class _Clock:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline


class _MediaTarget:
    """lxml parser target: collects (raw URL, where found) in page order."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.base: str | None = None
        self.found: list[tuple[str, str]] = []
        self._style: list[str] | None = None  # text of the <style> being read
        self._tags = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._tags += 1
        if self._tags % _CHECK_EVERY == 0 and self.clock.out_of_time():
            raise _OutOfTime
        a = {name: value or "" for name, value in attrib.items()}
        add = self.found.append
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "img":
            if a.get("src"):
                add((a["src"], "img"))
            for candidate in _srcset(a.get("srcset", "")):
                add((candidate, "srcset"))
            if a.get("data-src"):
                add((a["data-src"], "img"))
        elif tag == "source":
            if a.get("src"):
                add((a["src"], "video"))
            for candidate in _srcset(a.get("srcset", "")):
                add((candidate, "srcset"))
        elif tag == "video":
            if a.get("src"):
                add((a["src"], "video"))
            if a.get("poster"):
                add((a["poster"], "poster"))
        elif tag == "a" and _MEDIA_EXTENSIONS.search(a.get("href", "").split("?")[0]):
            add((a["href"], "link"))
        elif tag == "meta" and a.get("property", a.get("name", "")).lower() in _META_MEDIA:
            if a.get("content"):
                add((a["content"], "og"))
        elif tag == "style":
            self._style = []
        if a.get("style"):
            self._add_css(a["style"])

    def end(self, tag: str) -> None:
        if tag == "style":
            self._end_style()

    def data(self, data: str) -> None:
        if self._style is not None:
            self._style.append(data)

    def close(self) -> None:
        self._end_style()  # a <style> the page never closed

    def _end_style(self) -> None:
        if self._style is not None:
            css, self._style = "".join(self._style), None
            self._add_css(css)

    def _add_css(self, css: str) -> None:
        urls, stopped = css_urls(css, self.clock.out_of_time)
        self.found.extend((url, "css") for url in urls)
        if stopped:
            raise _OutOfTime


def _srcset(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def find_media(html: str, page_url: str) -> list[FoundMedia]:
    """Absolute, normalised, de-duplicated media URLs in page order. data: URIs and
    non-web schemes are skipped; the parser never raises on malformed markup. Within the
    limits of `find_media_budgeted`, which also says whether they cut the search short."""
    return find_media_budgeted(html, page_url).media


def find_media_budgeted(
    html: str, page_url: str, *, seconds: float | None = None, max_chars: int | None = None
) -> MediaSearch:
    """`find_media`, with what was found when the text cap or the clock stopped it."""
    seconds = settings.PARSE_SECONDS if seconds is None else seconds
    max_chars = settings.EXTRACT_MAX_CHARS if max_chars is None else max_chars
    clock = _Clock(seconds)
    cut_short = []
    if len(html) > max_chars:
        html = html[:max_chars]
        cut_short.append(
            f"only the first {max_chars:,} characters of the page were searched for media"
        )
    target = _MediaTarget(clock)
    try:
        _parse(html, target)
        finished = True
    except _OutOfTime:
        finished = False
    base = urljoin(page_url, target.base) if target.base else page_url
    media, normalised_all = _normalised(target.found, base, clock)
    if not (finished and normalised_all):
        cut_short.append(f"the search for media stopped at its time limit ({seconds:g} s)")
    return MediaSearch(media, "; ".join(cut_short))


def _parse(html: str, target: _MediaTarget) -> None:
    # no_network: an external DTD or entity is never fetched; recover: tag soup is normal.
    parser = etree.HTMLParser(target=target, recover=True, no_network=True)
    try:
        for start in range(0, len(html), FEED_CHARS):
            parser.feed(html[start : start + FEED_CHARS])
            if target.clock.out_of_time():
                raise _OutOfTime
        parser.close()
    except etree.LxmlError:
        pass  # keep what was found before the markup became unparseable


def _normalised(
    found: list[tuple[str, str]], base: str, clock: _Clock
) -> tuple[list[FoundMedia], bool]:
    seen_raw: set[str] = set()
    seen: set[str] = set()
    result: list[FoundMedia] = []
    for index, (raw, found_in) in enumerate(found):
        if index % _CHECK_EVERY == 0 and index and clock.out_of_time():
            return result, False
        if raw in seen_raw or raw.lower().startswith(_SKIPPED_SCHEMES):
            continue
        seen_raw.add(raw)
        try:
            url = normalise_url(urljoin(base, raw))
        except (UrlRejected, ValueError):
            continue
        if url not in seen:
            seen.add(url)
            result.append(FoundMedia(url=url, found_in=found_in))
    return result, True


def decode_html(body: bytes, content_type: str) -> str:
    """The page's text in its declared charset, if that is one of the web's encodings
    (WHATWG labels, as browsers read them); otherwise UTF-8. Only those decoders, all
    linear: Python also knows codecs such as punycode that a hostile header could name."""
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.I)
    encoding = _web_encoding(match.group(1)) if match else None
    if encoding is None:
        return body.decode("utf-8", errors="replace")
    text: str = encoding.codec_info.decode(body, "replace")[0]
    return text


def _web_encoding(label: str) -> webencodings.Encoding | None:
    found = webencodings.lookup(label)
    if found is None:
        try:  # Python's spelling of a web encoding, e.g. "latin-1" for iso-8859-1
            found = webencodings.lookup(codecs.lookup(label).name)
        except LookupError:
            return None
    return found
