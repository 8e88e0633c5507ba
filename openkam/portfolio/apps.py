from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "openkam.portfolio"
    label = "portfolio"
    verbose_name = "Portfolio"
