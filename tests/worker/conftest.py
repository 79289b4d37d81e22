"""The worker tests run the real database queue (the other tests run tasks at once)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _tasks_in_the_database(settings: Any, _tasks_run_at_once: None) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
