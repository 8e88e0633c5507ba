from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "openkam.accounts"
    label = "accounts"
    verbose_name = "Accounts"
