from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "openhotline.assessment"
    label = "assessment"
    verbose_name = "Assessment"
