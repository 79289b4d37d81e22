from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "govreq.accounts"
    label = "accounts"
    verbose_name = "staff accounts and API tokens"
