from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "openkam.activities"
    label = "activities"
    verbose_name = "Activities"
