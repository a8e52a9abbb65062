"""Request bodies are judged before anything reads them.

Django's CSRF check reads `request.POST` before the view runs, and with the default upload
handlers a multipart file over 2.5 MB goes to a temporary file while it does: one
anonymous POST with a made-up CSRF cookie wrote 3 MB to disk before its 403. So, for
every route, before any view or CSRF check:

- a body without a length (chunked) is refused (411); one longer than the route's limit
  is refused (413) unread;
- a route that takes no files (every route but those in FILE_ROUTES) has its multipart
  form read here, within that limit, by a handler that keeps no file part: a form with a
  file is refused (415); one without is read as usual.

Routes that take files set their own in-memory handler (feeds.match_api); the global
FILE_UPLOAD_HANDLERS is memory-only too, so no upload ever spills to a temporary file.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve

# Boundaries and part headers around a file.
MULTIPART_SLACK = 64 * 1024

# URL name → the largest body that route takes; only these may send files.
FILE_ROUTES: dict[str, Callable[[], int]] = {
    "api:match": lambda: settings.MATCH_MAX_IMAGE_BYTES + MULTIPART_SLACK,
}


class _NoFiles(FileUploadHandler):
    """Skips every file part, unread and unstored, and remembers that there was one."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.saw_file = False

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.saw_file = True
        raise SkipFile

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        return None

    def file_complete(self, file_size: int) -> None:
        return None


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        takes_files = _file_limit(request.path_info)
        limit = takes_files() if takes_files else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            return _answer(request, 411, "length_required", "Send the body with a Content-Length.")
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        if not raw_length.isdigit():
            return _answer(request, 400, "bad_length", "The Content-Length is not a number.")
        if int(raw_length) > limit:
            return _answer(
                request, 413, "too_big", f"The request body may be at most {limit:,} bytes."
            )
        if takes_files or request.content_type != "multipart/form-data" or not int(raw_length):
            return None
        return _read_form_without_files(request)


def _file_limit(path: str) -> Callable[[], int] | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return FILE_ROUTES.get(match.view_name)


def _read_form_without_files(request: HttpRequest) -> HttpResponse | None:
    handler = _NoFiles(request)
    request.upload_handlers = [handler]
    try:
        request.POST  # noqa: B018 - parsed now, bounded, so nothing later parses it again
    except (MultiPartParserError, SuspiciousOperation):
        return _answer(request, 400, "bad_form", "The form could not be read.")
    if handler.saw_file:
        return _answer(request, 415, "no_files", "This address takes no files.")
    return None


def _answer(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"error": code, "detail": message}, status=status)
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
