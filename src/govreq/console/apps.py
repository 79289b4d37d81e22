from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "govreq.console"
    label = "console"
    verbose_name = "staff console"
