from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "openhotline.audit"
    label = "audit"
    verbose_name = "Audit log"
