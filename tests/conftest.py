"""Personas and helpers shared by the test suite.

Personas: the Hong Kong Police Force with officer Chan, the FBI with officer Rivera; staff
reviewer Rita. Every one is created through the services, as in real use.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client, TestCase
from django.utils import timezone

from govreq.accounts.services import staff_add
from govreq.agencies.models import Agency, Officer
from govreq.agencies.services import agency_add, officer_add
from govreq.api.tokens import api_token_issue
from govreq.core import keyset
from govreq.core.actors import Actor
from govreq.demo import platform as demo_platform
from govreq.lifecycle.rechecking import agency_verify

SYSTEM = Actor.system("test")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that commits (transaction=True) empties the database when it ends. Run one after
    another, pytest-django puts such tests last; under pytest-xdist a module's tests may run on
    a process before others, so what the migrations loaded (jurisdictions, the default policy)
    is put back after each (pytest_runtest_teardown below), from the copy Django keeps only when
    some test asks for serialized_rollback: every committing test must."""
    for item in items:
        mark = item.get_closest_marker("django_db")
        if mark and mark.kwargs.get("transaction") and not mark.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: django_db(transaction=True) needs serialized_rollback=True"
            )
    _unique_node_ids(items)


def _unique_node_ids(items: list[pytest.Item]) -> None:
    """Schemathesis names each API operation's test `test_x[GET /path]`, but under pytest 9 the
    items' ids all read `test_x`; pytest-xdist schedules by id, and would run one of them and
    drop the rest. Each such item gets its name back in its id."""
    from collections import Counter

    from _pytest.nodeid import coerce_node_id

    counts = Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1 and "[" in item.name:
            module = item.nodeid.split("::", 1)[0]
            item._id = coerce_node_id(f"{module}::{item.name}")  # type: ignore[attr-defined]
    repeated = [nodeid for nodeid, count in Counter(i.nodeid for i in items).items() if count > 1]
    if repeated:
        raise pytest.UsageError(f"tests share an id, xdist would run only one: {repeated[:3]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    result = yield  # the test's fixtures are finalised: a committing test's tables are empty
    mark = item.get_closest_marker("django_db")
    if mark and mark.kwargs.get("transaction") and nextitem is not None:  # (None: db dropped)
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            for connection in connections.all():
                contents = getattr(connection, "_test_serialized_contents", None)
                if contents:
                    connection.creation.deserialize_db_from_string(contents)
    return result


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (scripts/test runs `-n auto --dist loadfile`), a module's tests stay on
    one process, so a module-scoped fixture (a server, a built history) is built once; and the
    browser journeys, which share one demo server and run in order, all stay on one process.
    (xdist's own xdist_group markers do not reach its scheduler under pytest 9.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ByModuleBrowserTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return "tests/browser/" if module.startswith("tests/browser/") else module

        def _assign_work_unit(self, node: Any) -> None:
            # The journeys are the longest unit (a demo server, then a browser): start them
            # first, rather than last with the other process idle.
            if "tests/browser/" in self.workqueue:
                self.workqueue.move_to_end("tests/browser/", last=False)
            super()._assign_work_unit(node)

    return ByModuleBrowserTogether(config, log)


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    """In unit tests a task runs as soon as it is enqueued (Django's immediate backend), which
    happens when its transaction commits; tests/worker and the browser journeys run the real
    database queue and `govreq worker`."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: rolled-back tests reuse ids (SQLite), which cached
    pages and drafts are keyed on."""
    cache.clear()


class OnCommitClient(Client):
    """A test client whose requests' on-commit side effects (mail, tasks) run when the request
    ends, as they do after a real request's transaction commits (pytest-django's test
    transaction never commits)."""

    def request(self, **request: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


# Every page run from a kept list statement is checked against a fresh compile (core.keyset).
keyset.CHECK_KEPT = True

# Where the settings put the data-source file, before any test changed them.
DEFAULT_DATA_SOURCE = Path(django_settings.DATA_SOURCE_CONFIG)


@pytest.fixture(autouse=True)
def _documents_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    settings.PACKAGES_DIR = tmp_path / "packages"
    if Path(settings.DATA_SOURCE_CONFIG) == DEFAULT_DATA_SOURCE:
        # Not in the checkout's govreq-data/ (unless a module set its own): the demo loader
        # writes a data-source file there unless one exists, and a later run would read the
        # one an earlier run's test left, naming that test's long-gone platform.
        settings.DATA_SOURCE_CONFIG = tmp_path / demo_platform.DATA_SOURCE_FILE
    # Password hashing is deliberately slow; tests sign in many times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build_test_platform(data_dir: Path) -> Path:
    """The demo platform in ``data_dir`` holding an account for each of PLATFORM_TARGETS, with
    records over the last 400 days; returns the data-source file to configure."""
    rng = random.Random(7)
    connection = demo_platform.connect(demo_platform.database_path(data_dir))
    for index, (target_type, value) in enumerate(PLATFORM_TARGETS):
        demo_platform.account_add(
            connection,
            demo_platform.account_for_target(target_type, value, country="HK", index=index),
            rng=rng,
            records=20,
            start=timezone.now() - timedelta(days=400),
            end=timezone.now(),
        )
    connection.commit()
    connection.close()
    config = data_dir / demo_platform.DATA_SOURCE_FILE
    demo_platform.write_source_config(data_dir, config)
    return config


@pytest.fixture
def platform(settings: Any, tmp_path: Any) -> Path:
    """The test platform (build_test_platform), configured as the data source; returns the path
    of its database."""
    settings.DATA_SOURCE_CONFIG = build_test_platform(tmp_path / "platform")
    return demo_platform.database_path(tmp_path / "platform")


# Accounts on the test platform: the valid submission's username, e-mail and phone (its IPv6
# address names no account), the transparency history's targets, and an unrelated one.
PLATFORM_TARGETS = [
    ("USERNAME", "scammer_hk"),
    ("EMAIL", "victim.finder@example.com"),
    ("PHONE", "+85291234567"),
    ("EMAIL", "someone@example.com"),
    ("USERNAME", "ransom"),
    ("USERNAME", "keep_me"),
    ("USERNAME", "target_one"),
    ("USERNAME", "recruiter_hk"),
    ("USERNAME", "girl_on_bridge"),
    ("USERNAME", "bystander"),
]


@pytest.fixture
def now() -> datetime:
    return timezone.now()


def make_agency(
    name: str, jurisdiction: str, domain: str, *, verified: bool = True, **kwargs: Any
) -> Agency:
    agency = agency_add(
        actor=SYSTEM,
        name=name,
        jurisdiction_code=jurisdiction,
        kind=kwargs.pop("kind", "POLICE"),
        domains=[domain],
        now=timezone.now(),
        **kwargs,
    )
    if verified:
        agency = agency_verify(actor=SYSTEM, agency=agency, method="call-back", now=timezone.now())
    return agency


@pytest.fixture
def hkpf(db: None) -> Agency:
    return make_agency("Hong Kong Police Force", "HK", "police.gov.hk")


@pytest.fixture
def fbi(db: None) -> Agency:
    return make_agency("Federal Bureau of Investigation", "US", "fbi.gov")


@pytest.fixture
def chan(hkpf: Agency) -> Officer:
    return officer_add(
        actor=SYSTEM,
        agency=hkpf,
        email="Chan@Police.gov.hk",
        name="Chan Tai-man",
        now=timezone.now(),
    )


@pytest.fixture
def rivera(fbi: Agency) -> Officer:
    return officer_add(
        actor=SYSTEM, agency=fbi, email="j.rivera@fbi.gov", name="Julia Rivera", now=timezone.now()
    )


@pytest.fixture
def chan_token(chan: Officer) -> str:
    return api_token_issue(actor=SYSTEM, officer=chan, now=timezone.now()).secret


@pytest.fixture
def rivera_token(rivera: Officer) -> str:
    return api_token_issue(actor=SYSTEM, officer=rivera, now=timezone.now()).secret


@pytest.fixture
def rita_token(db: None) -> str:
    rita = staff_add(
        actor=SYSTEM,
        email="rita@platform.example",
        name="Rita Reviewer",
        roles=["REVIEWER"],
        now=timezone.now(),
    )
    return api_token_issue(actor=SYSTEM, user=rita, now=timezone.now()).secret


def valid_submission(**overrides: Any) -> dict[str, Any]:
    """A court order that passes every intake rule; override fields to break one."""
    today = timezone.now().date()
    body: dict[str, Any] = {
        "kind": "COURT_ORDER",
        "legal_basis": "Cap. 455 Organized and Serious Crimes Ordinance, s.4",
        "issuing_authority": "Magistrate, Kowloon City",
        "agency_case_number": "KC-2026-0042",
        "offence_category": "FRAUD",
        "narrative": "Investment scam advertised through the account.",
        "data_categories": ["BASIC_SUBSCRIBER", "IP_LOGS"],
        "data_range": {
            "start": (today - timedelta(days=60)).isoformat(),
            "end": (today - timedelta(days=1)).isoformat(),
        },
        "deadline_at": (timezone.now() + timedelta(days=14)).astimezone(UTC).isoformat(),
        "targets": [
            {"type": "USERNAME", "value": "@Scammer_HK"},
            {"type": "EMAIL", "value": "Victim.Finder@Example.COM"},
            {"type": "PHONE", "value": "+852 9123 4567"},
            {"type": "IP_ADDRESS", "value": "2001:0db8:0000:0000:0000:0000:0000:0001"},
        ],
    }
    body.update(overrides)
    return body


class Api:
    """A thin client for /api/v1 with a bearer token."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            data=json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def upload(self, path: str, name: str, content: bytes, content_type: str) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(name, content, content_type=content_type)
        return self.client.post(f"/api/v1{path}", {"file": upload}, headers=self.headers)


@pytest.fixture
def api_as() -> Callable[[str | None], Api]:
    return lambda token: Api(Client(), token)


def field_errors(response: Any) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}
