"""Index migrations that do not stop writes (core.online_indexes): CONCURRENTLY on PostgreSQL,
the plain operation elsewhere, and an invalid index left by an unfinished build built again."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import NotSupportedError, connection, models
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState

from govreq.core.online_indexes import AddIndexOnline, RemoveIndexOnline

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
POSTGRES = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="CONCURRENTLY is PostgreSQL's (DATABASE_URL)",
)
NAME = "test_online_idx"
TABLE = "intake_statuschange"


@pytest.fixture(autouse=True)
def _no_index_left() -> Iterator[None]:
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {NAME}")


def _columns() -> list[str] | None:
    """The columns of the index NAME, or None when there is none."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, TABLE).get(NAME)
    return None if found is None else list(found["columns"])


def _run(operation: AddIndexOnline | RemoveIndexOnline, state: ProjectState) -> ProjectState:
    after = state.clone()
    operation.state_forwards("intake", after)
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("intake", editor, state, after)
    return after


def _add() -> AddIndexOnline:
    return AddIndexOnline(
        model_name="statuschange", index=models.Index(fields=["request", "to_status"], name=NAME)
    )


def test_an_index_is_added_and_removed_outside_a_transaction() -> None:
    state = MigrationExecutor(connection).loader.project_state()
    added = _run(_add(), state)
    assert _columns() == ["request_id", "to_status"]
    _run(RemoveIndexOnline(model_name="statuschange", name=NAME), added)
    assert _columns() is None


@POSTGRES
def test_on_postgresql_the_build_is_concurrent() -> None:
    """CONCURRENTLY is refused inside a transaction: the operation asks for it there."""
    state = MigrationExecutor(connection).loader.project_state()
    after = state.clone()
    _add().state_forwards("intake", after)
    with pytest.raises(NotSupportedError), connection.schema_editor(atomic=True) as editor:
        _add().database_forwards("intake", editor, state, after)
    assert _columns() is None


@POSTGRES
def test_an_invalid_index_left_by_an_unfinished_build_is_built_again() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {NAME} ON {TABLE} (request_id)")
        # What an interrupted CREATE INDEX CONCURRENTLY leaves: the index, marked invalid.
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [NAME]
        )
    state = MigrationExecutor(connection).loader.project_state()
    added = _run(_add(), state)
    assert _columns() == ["request_id", "to_status"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [NAME])
        assert cursor.fetchone() == (True,)
    _run(RemoveIndexOnline(model_name="statuschange", name=NAME), added)
