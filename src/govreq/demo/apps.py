from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "govreq.demo"
    label = "demo"
    verbose_name = "demo data"
