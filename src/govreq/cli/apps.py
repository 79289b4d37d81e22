from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "govreq.cli"
    label = "cli"
    verbose_name = "govreq command line"
