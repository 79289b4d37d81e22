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


class AddIndexOnline(AddIndexConcurrently):
    """``AddIndex``, concurrently on PostgreSQL."""

    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _online(schema_editor):
            super().database_forwards(app_label, schema_editor, *states)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, *states)

    def database_backwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _online(schema_editor):
            super().database_backwards(app_label, schema_editor, *states)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, *states)


class RemoveIndexOnline(RemoveIndexConcurrently):
    """``RemoveIndex``, concurrently on PostgreSQL."""

    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _online(schema_editor):
            super().database_forwards(app_label, schema_editor, *states)
        else:
            migrations.RemoveIndex.database_forwards(self, app_label, schema_editor, *states)

    def database_backwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _online(schema_editor):
            super().database_backwards(app_label, schema_editor, *states)
        else:
            migrations.RemoveIndex.database_backwards(self, app_label, schema_editor, *states)
