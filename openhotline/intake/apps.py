from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "openhotline.intake"
    label = "intake"
    verbose_name = "Intake"
