from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "govreq.portal"
    label = "portal"
    verbose_name = "agency portal"
