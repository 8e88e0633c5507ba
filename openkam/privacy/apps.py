from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "openkam.privacy"
    label = "privacy"
    verbose_name = "Personal data"

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from openkam.privacy.services import refuse_editing_erased
        from openkam.stakeholders.models import Stakeholder

        pre_save.connect(refuse_editing_erased, sender=Stakeholder, dispatch_uid="privacy.refuse_editing_erased")
