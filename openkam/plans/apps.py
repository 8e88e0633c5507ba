from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "openkam.plans"
    label = "plans"
    verbose_name = "Plans"
