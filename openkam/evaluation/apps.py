from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "openkam.evaluation"
    label = "evaluation"
    verbose_name = "Account evaluation"
