from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openkam.core"
    label = "core"
    verbose_name = "OpenKAM core"
