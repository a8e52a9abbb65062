"""System checks of the signals app (registered when the app is ready)."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from openhotline.signals.types.photodna import photodna_implementation


@register()
def check_photodna(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[Error]:
    try:
        photodna_implementation()
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="OPENHOTLINE_PHOTODNA_IMPLEMENTATION must name a callable taking image "
                "bytes and returning 144 bytes, or be empty.",
                id="openhotline.E010",
            )
        ]
    return []
