"""Public parts of the feeds: the key that signs their manifests."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from openhotline.feeds import signing


@require_GET
def feed_key(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")
    response["Cache-Control"] = "public, max-age=3600"
    return response
