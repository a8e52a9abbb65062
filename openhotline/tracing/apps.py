from django.apps import AppConfig


class TracingConfig(AppConfig):
    name = "openhotline.tracing"
    label = "tracing"
    verbose_name = "Tracing"
