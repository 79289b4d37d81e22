from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "govreq.web"
    label = "web"
    verbose_name = "web interface (shared)"
