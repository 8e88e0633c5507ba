from django.apps import AppConfig


class CommercialConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "openkam.commercial"
    label = "commercial"
    verbose_name = "Commercial: whitespace, pipeline, tenders, account P&L"
