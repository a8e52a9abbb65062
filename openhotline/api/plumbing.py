import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions, pagination, parsers, throttling
from rest_framework.request import Request

from openhotline.core.throttle import seconds_until_allowed, seconds_until_counted


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class LimitedJSONParser(parsers.BaseParser):
    """JSON, read no further than DATA_UPLOAD_MAX_MEMORY_SIZE: a huge body costs nothing.

    Not a JSONParser subclass on purpose: DRF reads `request.body` whole for those.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            return json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None


class StaffThrottle(throttling.BaseThrottle):
    """OPENHOTLINE_STAFF_API_RATE per signed-in user (by user id; a stolen token or a runaway
    script cannot read the whole database at full speed). Anonymous requests are not
    counted here: the staff endpoints refuse them before throttles run."""

    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return True
        self._wait = seconds_until_counted("staff-api", f"user-{user.pk}", settings.STAFF_API_RATE)
        return self._wait == 0

    def wait(self) -> float | None:
        return float(getattr(self, "_wait", 0)) or None


class ReportThrottle(StaffThrottle):
    """A report (POST) shares its budget with the web form, keyed by a rotating digest,
    never the address; the staff's reading of reports (GET) counts as staff API use."""

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return super().allow_request(request, view)
        self._wait = seconds_until_allowed(request._request, "report", settings.REPORT_RATE)
        return self._wait == 0


class NewestReportFirst(pagination.CursorPagination):
    ordering = ("-created_at", "-id")


class NewestActivityFirst(pagination.CursorPagination):
    ordering = ("-last_reported_at", "-id")


def clean_param(params: Any, name: str, limit: int = 200) -> str:
    """A query parameter as plain text: control characters (NUL breaks PostgreSQL) out,
    surrounding space trimmed, length capped."""
    value = str(params.get(name) or "")
    return "".join(c for c in value if c.isprintable()).strip()[:limit]
