from django.apps import AppConfig


class JurisdictionsConfig(AppConfig):
    name = "govreq.jurisdictions"
    label = "jurisdictions"
