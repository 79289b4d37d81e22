"""Asking for a sign-in code does the same work for a known officer's address as for an unknown
one, so that the answer takes the same time (scripts/bench_sign_in.py measures it): the request
counts the attempt and queues it sealed; the worker looks the address up and makes the code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govreq.agencies.models import Officer
from govreq.audit.models import AuditEvent
from govreq.portal import services
from govreq.portal.models import LoginCode
from govreq.worker.runner import Worker
from tests.portal.conftest import code_from_mail

pytestmark = pytest.mark.django_db
LITERALS = re.compile(r"'(?:[^']|'')*'|\"s\d+_x\d+\"|\b\d+(?:\.\d+)?\b")  # and savepoint names


def statements(email: str, client_ip: str) -> list[str]:
    """The SQL the request runs, its literal values blanked."""
    with CaptureQueriesContext(connection) as captured:
        services.login_code_request(
            email=email, client_ip=client_ip, language="en", now=timezone.now()
        )
    return [LITERALS.sub("?", query["sql"]) for query in captured.captured_queries]


def test_a_known_and_an_unknown_address_cost_the_request_the_same(
    chan: Officer, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    known = statements(chan.email, "192.0.2.1")
    unknown = statements("nobody@police.gov.hk", "192.0.2.2")
    assert known == unknown
    table = DBTaskResult._meta.db_table
    assert any(f'INSERT INTO "{table}"' in sql for sql in known)  # queued in its transaction
    assert not LoginCode.objects.exists()  # no code, no audit event, no mail yet
    assert not AuditEvent.objects.filter(action="portal.sign_in_code_sent").exists()
    queued = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [task.task_path for task in queued] == ["govreq.portal.services.send_sign_in_code"] * 2
    for task in queued:  # sealed: the tasks table does not say which address was tried
        assert "police.gov.hk" not in str(task.args_kwargs)

    Worker().run_ready_tasks(limit=None)  # the code, then its mail
    code = LoginCode.objects.get()
    assert code.officer == chan
    assert [m.to for m in mail.outbox] == [[chan.email]]
    assert (
        services.login_code_verify(
            email=chan.email,
            code=code_from_mail(chan.email),
            client_ip="192.0.2.1",
            now=timezone.now(),
        )
        == chan
    )
    results = sorted(
        t.return_value for t in DBTaskResult.objects.filter(task_path__contains="sign")
    )
    assert results == ["code sent", "no code: not an officer who may sign in"]
