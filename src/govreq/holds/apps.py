from django.apps import AppConfig


class HoldsConfig(AppConfig):
    name = "govreq.holds"
    label = "holds"
    verbose_name = "jurisdiction holds"
