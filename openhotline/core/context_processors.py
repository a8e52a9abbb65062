from django.conf import settings
from django.http import HttpRequest


def hotline(request: HttpRequest) -> dict[str, object]:
    return {"HOTLINE_NAME": settings.HOTLINE_NAME}
