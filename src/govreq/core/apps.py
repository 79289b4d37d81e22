from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "govreq.core"
    label = "core"
    verbose_name = "govreq core"
