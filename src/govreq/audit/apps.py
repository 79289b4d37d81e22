from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _json_as_text(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Read PostgreSQL ``json`` values as text, as Django already reads ``jsonb``: the audit
    log's data column (``audit.fields``) is decoded once, by the field."""
    if connection.vendor == "postgresql":
        from psycopg.types.string import TextLoader

        connection.connection.adapters.register_loader("json", TextLoader)


class AuditConfig(AppConfig):
    name = "govreq.audit"
    label = "audit"
    verbose_name = "audit log"

    def ready(self) -> None:
        connection_created.connect(_json_as_text, dispatch_uid="govreq.audit.json_as_text")
