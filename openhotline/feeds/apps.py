from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "openhotline.feeds"
    label = "feeds"
    verbose_name = "Member feeds"
