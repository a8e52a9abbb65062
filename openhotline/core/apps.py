from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openhotline.core"
    label = "core"

    def ready(self) -> None:
        from openhotline.core import checks  # noqa: F401  (registers the checks)
