from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "govreq.notices"
    label = "notices"
    verbose_name = "user notice: telling account holders, and gag orders"
