from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openkam.core"
    label = "core"
    verbose_name = "OpenKAM core"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")  # every app's job handlers (openkam.core.jobs)
