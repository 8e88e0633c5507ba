from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "openkam.stakeholders"
    label = "stakeholders"
    verbose_name = "Stakeholders"
