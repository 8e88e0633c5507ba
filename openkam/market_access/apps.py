from django.apps import AppConfig


class MarketAccessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "openkam.market_access"
    label = "market_access"
    verbose_name = "Market access"
