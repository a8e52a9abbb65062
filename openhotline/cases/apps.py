from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "openhotline.cases"
    label = "cases"
    verbose_name = "Cases"
