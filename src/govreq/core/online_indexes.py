"""Migration operations that build and drop an index without stopping writes: on PostgreSQL
``CREATE INDEX CONCURRENTLY`` / ``DROP INDEX CONCURRENTLY`` (a plain ``CREATE INDEX`` holds a
SHARE lock on the table, so every insert waits for the whole build), elsewhere the plain
operation (SQLite builds an index in one write transaction whatever is asked).

A migration using them sets ``atomic = False``: PostgreSQL refuses CONCURRENTLY inside a
transaction. Put each in a migration of its own, or with operations that may run one by one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations


def _online(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def _drop_if_invalid(schema_editor: Any, name: str) -> None:
    """Drop the index ``name`` if it is there but invalid: what a concurrent build that failed
    or was interrupted leaves behind (``CREATE INDEX CONCURRENTLY`` would refuse the name)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid "
            "WHERE pg_class.relname = %s AND pg_class.relnamespace = "
            "to_regnamespace(current_schema())::oid AND NOT pg_index.indisvalid",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class _ConcurrentlyOnPostgres:
    """The concurrent operation (the next class in the method order) on PostgreSQL, ``plain``
    elsewhere."""

    plain: Any

    def _either(self, method: str, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _online(schema_editor):
            getattr(super(), method)(app_label, schema_editor, *states)
        else:
            getattr(self.plain, method)(self, app_label, schema_editor, *states)

    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        self._either("database_forwards", app_label, schema_editor, *states)

    def database_backwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        self._either("database_backwards", app_label, schema_editor, *states)


class AddIndexOnline(_ConcurrentlyOnPostgres, AddIndexConcurrently):
    """``AddIndex``, concurrently on PostgreSQL (after dropping an invalid index of the same
    name, left by a build that did not finish)."""

    plain = migrations.AddIndex

    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _online(schema_editor):
            _drop_if_invalid(schema_editor, self.index.name)
        super().database_forwards(app_label, schema_editor, *states)


class RemoveIndexOnline(_ConcurrentlyOnPostgres, RemoveIndexConcurrently):
    """``RemoveIndex``, concurrently on PostgreSQL."""

    plain = migrations.RemoveIndex
