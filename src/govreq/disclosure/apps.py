from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "govreq.disclosure"
    label = "disclosure"
    verbose_name = "disclosure: productions, packages, deliveries and preservation snapshots"
