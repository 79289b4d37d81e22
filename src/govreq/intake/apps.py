from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "govreq.intake"
    label = "intake"
    verbose_name = "request intake"
