"""The member API's guides (`docs/*.md`), served as text beside the API reference at
/api/docs/: an outside developer needs them without the source code. Only the pages
named here are served; the name is never a path."""

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

import openhotline

DOCS = Path(openhotline.__file__).resolve().parent.parent / "docs"
GUIDES = {
    "hash-list-format": "The hash-list CSV columns and the grade codes",
    "feed-signatures": "What a feed manifest's signature covers, and how to verify it",
}


@require_GET
def guide(request: HttpRequest, page: str) -> HttpResponse:
    if page not in GUIDES:
        raise Http404("There is no such guide.")
    try:
        text = (DOCS / f"{page}.md").read_bytes()
    except FileNotFoundError:
        # An install without the source tree's docs/ (a wheel): say where the page is.
        raise Http404(f"This installation does not hold docs/{page}.md.") from None
    # Markdown reads as plain text; served as text/plain so no browser runs or styles it.
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response
