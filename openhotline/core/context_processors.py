from django.conf import settings
from django.http import HttpRequest

_ASSESSORS = {"analyst", "qa_reviewer", "manager"}
_REVIEWERS = {"qa_reviewer", "manager"}


def hotline(request: HttpRequest) -> dict[str, object]:
    role = getattr(getattr(request, "user", None), "role", "")
    return {
        "HOTLINE_NAME": settings.HOTLINE_NAME,
        "HOME_COUNTRY": settings.HOME_COUNTRY,
        # Which staff menus to show; the views check roles themselves.
        "CAN_ASSESS": role in _ASSESSORS,
        "CAN_REVIEW": role in _REVIEWERS,
        "IS_MANAGER": role == "manager",
    }
