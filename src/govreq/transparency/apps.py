from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "govreq.transparency"
    label = "transparency"
    verbose_name = "transparency reports"
