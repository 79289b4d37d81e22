from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "govreq.audit"
    label = "audit"
    verbose_name = "audit log"
