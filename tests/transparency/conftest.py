"""Fixtures for the transparency tests: the 2020 history, staff personas, a signing key.

The history takes a hundred service calls to build, so it is built once per test module, inside
a transaction that is rolled back when the module ends (Django's setUpTestData, in pytest form).
Each test still runs in its own savepoint (pytest-django's ``db``), so whatever a test changes is
undone before the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from govreq.agencies.models import Officer
from govreq.agencies.services import officer_add
from tests.conftest import SYSTEM, build_test_platform, make_agency
from tests.review_helpers import Staff, make_staff
from tests.transparency.history import History, build_history

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _report_key_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Each test gets its own data directory, so its own development signing key."""
    settings.DATA_DIR = tmp_path / "data"
    settings.REPORT_SIGNING_KEY = ""
    settings.REPORT_SIGNING_KEY_FILE = ""
    settings.REPORT_TRUSTED_PUBLIC_KEYS = ""
    settings.REPORT_NATIONAL_SECURITY_BANDS = "US:250"


@pytest.fixture(scope="module")
def _module_history(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    documents = override_settings(
        DOCUMENTS_DIR=tmp_path_factory.mktemp("documents"),
        PACKAGES_DIR=tmp_path_factory.mktemp("packages"),
        DATA_SOURCE_CONFIG=build_test_platform(tmp_path_factory.mktemp("platform")),
    )
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        documents.enable()
        outer.__enter__()
        try:
            staff = make_staff()
            chan = officer_add(
                actor=SYSTEM,
                agency=make_agency("Hong Kong Police Force", "HK", "police.gov.hk"),
                email="Chan@Police.gov.hk",
                name="Chan Tai-man",
                now=timezone.now(),
            )
            rivera = officer_add(
                actor=SYSTEM,
                agency=make_agency("Federal Bureau of Investigation", "US", "fbi.gov"),
                email="j.rivera@fbi.gov",
                name="Julia Rivera",
                now=timezone.now(),
            )
            history = build_history(staff, chan, rivera)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            documents.disable()
            raise
    yield history
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
        documents.disable()


@pytest.fixture
def history(_module_history: History, db: None) -> History:
    return _module_history


@pytest.fixture
def staff(history: History) -> Staff:
    return history.staff


@pytest.fixture
def chan(history: History) -> Officer:
    return history.chan


@pytest.fixture
def rivera(history: History) -> Officer:
    return history.rivera
