"""Request bodies are judged before anything parses them (issue 14, item 6).

The attack: a multipart POST to /report/ with a made-up CSRF cookie and a 3 MB file. The
CSRF check reads the form to find its token, and Django's default handlers wrote the
file to a temporary file while it did, before the 403. Every write the process opens
during a request is watched through an audit hook, and the temporary directories are
listed at the moment the CSRF check refuses (the file is gone once the request ends).
"""

import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.test import Client

from openhotline.intake.models import Portal, Report

pytestmark = pytest.mark.django_db

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
_writes: list[str] | None = None  # paths opened for writing while recording
_seen_at_refusal: list[list[str]] = []


def _watch_writes(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or _writes is None:
        return
    path, mode, flags = args
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & _WRITE_FLAGS
    )
    if writing and isinstance(path, str | bytes | os.PathLike):
        _writes.append(os.fsdecode(path))


sys.addaudithook(_watch_writes)  # audit hooks cannot be removed; it idles unless recording


def refuse_and_list_temp_dirs(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF failure view: what the temporary directories hold while the request is alive."""
    from django.conf import settings

    dirs = {tempfile.gettempdir(), settings.FILE_UPLOAD_TEMP_DIR}
    _seen_at_refusal.append(sorted(
        str(p) for d in dirs if d for p in Path(d).iterdir() if ".upload" in p.name
    ))  # fmt: skip
    return HttpResponseForbidden("CSRF check failed")


@pytest.fixture
def watched(settings: Any, tmp_path: Path) -> Any:
    global _writes
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.CSRF_FAILURE_VIEW = "tests.test_public_body_limits.refuse_and_list_temp_dirs"
    _seen_at_refusal.clear()
    _writes = []
    yield _writes
    _writes = None


def _in_temp_dirs(paths: list[str], tmp_path: Path) -> list[str]:
    roots = (str(tmp_path), tempfile.gettempdir(), "/var/tmp", "/dev/shm")
    return [p for p in paths if p.startswith(roots)]


def test_a_forged_csrf_cookie_with_a_3mb_file_writes_nothing_and_is_refused(
    watched: list[str], tmp_path: Path, settings: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = "A" * 32  # made up, well formed
    upload = io.BytesIO(os.urandom(3 * 1024 * 1024))
    upload.name = "holiday.jpg"
    response = client.post(
        "/report/", {"csrfmiddlewaretoken": "B" * 32, "urls": "http://x.test/", "file": upload}
    )
    assert response.status_code == 413
    assert "at most 524,288 bytes" in response.content.decode()
    assert _in_temp_dirs(watched, tmp_path) == []
    # Refused before the CSRF check read the form (it found a temporary file then).
    assert _seen_at_refusal == []
    assert list(tmp_path.iterdir()) == [] and Report.objects.count() == 0


def test_a_small_file_is_refused_unread_and_unstored(watched: list[str], tmp_path: Path) -> None:
    upload = io.BytesIO(b"\x89PNG" + b"\0" * 200_000)
    upload.name = "small.png"
    response = Client().post("/report/", {"urls": "http://x.test/", "file": upload})
    assert response.status_code == 415
    assert response.content.decode() == "This address takes no files."
    assert _in_temp_dirs(watched, tmp_path) == [] and Report.objects.count() == 0


def test_a_forged_cookie_on_a_small_form_still_meets_the_csrf_check(
    watched: list[str], tmp_path: Path, settings: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = "A" * 32
    response = client.post("/report/", {"csrfmiddlewaretoken": "B" * 32, "urls": "x"})
    assert response.status_code == 403 and _seen_at_refusal == [[]]
    assert _in_temp_dirs(watched, tmp_path) == []


def test_the_normal_form_still_works_as_a_browser_sends_it(watched: list[str]) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/report/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    fields = {"csrfmiddlewaretoken": token, "urls": "http://gallery-one.test/a",
              "description": "", "contact": "", "website": ""}  # fmt: skip
    # As a plain HTML form posts it (urlencoded) and as multipart without files.
    from urllib.parse import urlencode

    plain = client.post("/report/", urlencode(fields), "application/x-www-form-urlencoded")
    assert plain.status_code == 302, plain.content
    fields["urls"] = "http://gallery-one.test/b"
    multipart = client.post("/report/", fields)
    assert multipart.status_code == 302, multipart.content
    assert Report.objects.count() == 2


class _CountingInput(io.BytesIO):
    """A request body that remembers whether anyone read it."""

    reads = 0

    def read(self, size: int | None = -1) -> bytes:
        type(self).reads += 1
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        type(self).reads += 1
        return super().readline(size)


def _post_unread(client: Client, path: str, body: bytes, content_type: str) -> Any:
    extra: dict[str, Any] = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": _CountingInput(body)}
    return client.post(path, content_type=content_type, **extra)


@pytest.mark.parametrize(
    "path",
    [
        "/report/",
        "/portal/kids-uk/",
        "/report/status/R-AAAA-AAAA-AAAA/secret/",
        "/api/v1/reports",
        "/staff/sign-in/",
        "/notice/T-1/removed/secret/",
        "/staff/",
        "/no/such/page/",
    ],
)
def test_an_over_long_body_is_refused_unread_on_every_route(path: str) -> None:
    Portal.objects.create(slug="kids-uk", name="Kids UK")
    _CountingInput.reads = 0
    body = b"urls=http%3A%2F%2Fx.test%2F&description=" + b"x" * 600_000
    response = _post_unread(Client(), path, body, "application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert _CountingInput.reads == 0 and Report.objects.count() == 0
    if path.startswith("/api/"):
        assert response.json()["error"] == "too_big"


def test_a_chunked_body_is_refused_with_411() -> None:
    response = Client().post(
        "/report/", "urls=http://x.test/", "application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
    )  # fmt: skip
    assert response.status_code == 411 and Report.objects.count() == 0


def test_a_nonsense_length_is_refused() -> None:
    response = Client().post(
        "/report/", "urls=x", "application/x-www-form-urlencoded", CONTENT_LENGTH="12abc"
    )
    assert response.status_code == 400


def test_the_matching_api_takes_images_up_to_its_own_limit_only(settings: Any) -> None:
    settings.MATCH_MAX_IMAGE_BYTES = 100_000
    _CountingInput.reads = 0
    # Refused before the key is even looked at: the size alone decides.
    response = _post_unread(
        Client(), "/api/v1/match", b"x" * 200_000, "multipart/form-data; boundary=zz"
    )
    assert response.status_code == 413 and response.json()["error"] == "too_big"
    assert _CountingInput.reads == 0
