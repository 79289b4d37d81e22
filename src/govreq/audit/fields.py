"""The audit event's ``data`` column: stored as its canonical JSON text, byte for byte.

An event's hash covers the canonical JSON of its data (``audit.chain``). Stored in that very
form (SQLite keeps the text as written; PostgreSQL's ``json`` type, unlike ``jsonb``, keeps it
too), verification hashes the stored text as it comes from the database instead of parsing and
re-encoding every event, and what a reader is shown is parsed from exactly the bytes the chain
covers.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields.json import HasKey

from govreq.core.canonical import canonical_json


class CanonicalJSONField(models.JSONField):
    """A ``JSONField`` whose stored text is ``canonical_json`` of the value (``json`` on
    PostgreSQL, text elsewhere). Lookups work as on ``JSONField``."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or hasattr(value, "as_sql"):
            return super().get_db_prep_value(value, connection, prepared=True)
        text = canonical_json(value).decode("utf-8")
        if connection.vendor == "postgresql":
            from psycopg.types.json import Json

            return Json(value, dumps=lambda _value: text)
        return text


@CanonicalJSONField.register_lookup
class CanonicalHasKey(HasKey):
    """``has_key`` on PostgreSQL's ``json`` type: its ``?`` operator exists only for ``jsonb``."""

    def process_lhs(self, compiler: Any, connection: Any, lhs: Any = None) -> Any:
        sql, params = super().process_lhs(compiler, connection, lhs)
        if connection.vendor == "postgresql":
            sql = f"({sql})::jsonb"
        return sql, params
