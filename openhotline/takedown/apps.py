from django.apps import AppConfig


class TakedownConfig(AppConfig):
    name = "openhotline.takedown"
    label = "takedown"
    verbose_name = "Takedown"
