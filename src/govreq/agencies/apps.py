from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "govreq.agencies"
    label = "agencies"
