from django.apps import AppConfig


class HandoverConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "openkam.handover"
    label = "handover"
    verbose_name = "Knowledge transfer"
