"""Finding the media a page shows: img src/srcset, picture sources, video and its poster,
links to image or video files, og:image, and CSS background images (inline or in <style>).

Pure parsing of untrusted HTML with the standard library's tolerant parser; never fetches.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from openhotline.urlnorm import UrlRejected, normalise_url

_MEDIA_EXTENSIONS = re.compile(
    r"\.(jpe?g|png|gif|webp|bmp|tiff?|avif|heic|mp4|m4v|mov|webm|mkv|avi|flv|ogv|3gp)$", re.I
)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.I | re.S)


@dataclass(frozen=True)
class FoundMedia:
    url: str
    found_in: str


class _MediaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.found: list[tuple[str, str]] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
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
        elif tag == "meta" and a.get("property", a.get("name", "")).lower() in (
            "og:image", "og:image:url", "og:image:secure_url", "og:video", "twitter:image",
        ):  # fmt: skip
            if a.get("content"):
                add((a["content"], "og"))
        elif tag == "style":
            self._in_style = True
        if a.get("style"):
            for url in _css_urls(a["style"]):
                add((url, "css"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            for url in _css_urls(data):
                self.found.append((url, "css"))


def _srcset(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def _css_urls(css: str) -> list[str]:
    return [match.group(2).strip() for match in _CSS_URL.finditer(css) if match.group(2).strip()]


def find_media(html: str, page_url: str) -> list[FoundMedia]:
    """Absolute, normalised, de-duplicated media URLs in page order. data: URIs and
    non-web schemes are skipped; the parser never raises on malformed markup."""
    parser = _MediaParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        pass  # keep what was found before the markup became unparseable
    base = urljoin(page_url, parser.base) if parser.base else page_url
    seen: set[str] = set()
    result = []
    for raw, found_in in parser.found:
        if raw.lower().startswith(("data:", "javascript:", "blob:", "about:")):
            continue
        try:
            url = normalise_url(urljoin(base, raw))
        except (UrlRejected, ValueError):
            continue
        if url not in seen:
            seen.add(url)
            result.append(FoundMedia(url=url, found_in=found_in))
    return result


def decode_html(body: bytes, content_type: str) -> str:
    match = re.search(r"charset=([\w-]+)", content_type or "", re.I)
    encoding = match.group(1) if match else "utf-8"
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
