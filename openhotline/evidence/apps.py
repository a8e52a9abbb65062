from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "openhotline.evidence"
    label = "evidence"
    verbose_name = "Evidence"
