from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "openhotline.signals"
    label = "signals"
    verbose_name = "Signals (hashes)"
