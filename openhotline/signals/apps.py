from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "openhotline.signals"
    label = "signals"
    verbose_name = "Signals (hashes)"

    def ready(self) -> None:
        # local import: app loading; importing it registers the checks.
        from openhotline.signals import checks  # noqa: F401
