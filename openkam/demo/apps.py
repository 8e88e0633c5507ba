from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "openkam.demo"
    label = "demo"
    verbose_name = "Demo"
