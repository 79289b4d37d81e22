"""After-commit chaining (``GOVREQ_AUDIT_CHAINING=after-commit``, PostgreSQL): an event commits
with its change, unchained, and joins the chain right after; nothing committed is ever left
unchained, not when its writer dies straight after its commit, nor when a chaining dies before
its own (docs/audit.md, "Sequencing").

Real processes are killed with SIGKILL; every test commits, since chaining happens after a
commit. On SQLite the setting changes nothing (its write lock serialises every writer anyway).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, transaction
from django.utils import timezone

from govreq.audit.models import AuditEvent, UnchainedEvent
from govreq.audit.selectors import audit_chain_head, audit_chain_verify
from govreq.audit.services import (
    audit_chain_lock,
    audit_checkpoint_write,
    audit_deferred,
    audit_record,
)
from govreq.core.actors import Actor
from govreq.worker.runner import Worker

COMMITTING = pytest.mark.django_db(transaction=True, serialized_rollback=True)
POSTGRES = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="after-commit chaining is PostgreSQL's (DATABASE_URL)",
)


@pytest.fixture
def after_commit(settings):
    settings.AUDIT_CHAINING = "after-commit"


def _record(i: int, writer: str = "test") -> None:
    audit_record(
        actor=Actor.system(writer),
        action="request.status_changed",
        object_type="legal_request",
        object_id=f"{writer}-{i}",
        data={"writer": writer, "i": i},
        now=timezone.now(),
    )


def _chained() -> list[tuple[int, str]]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", "object_id"))


@POSTGRES
@COMMITTING
def test_an_event_joins_the_chain_when_its_change_commits_and_not_before(after_commit):
    before = AuditEvent.objects.count()
    with transaction.atomic():
        _record(1)
        # Committed with the change, not yet chained: no lock every writer would share.
        assert UnchainedEvent.objects.count() == 1
        assert AuditEvent.objects.count() == before
    assert not UnchainedEvent.objects.exists()
    event = AuditEvent.objects.get(object_id="test-1")
    assert event.seq == before + 1
    assert event.data == {"writer": "test", "i": 1}
    result = audit_chain_verify()
    assert result.ok and result.count == before + 1

    with pytest.raises(RuntimeError), transaction.atomic():
        _record(2)
        raise RuntimeError("the change fails")
    assert not UnchainedEvent.objects.exists()  # rolled back with its change
    assert not AuditEvent.objects.filter(object_id="test-2").exists()

    with transaction.atomic():  # several events of one change, recorded one by one
        for i in (3, 4, 5):
            _record(i)
        assert len(connection.run_on_commit) == 1  # one chaining after the commit takes them all
    assert [object_id for _seq, object_id in _chained()][-3:] == ["test-3", "test-4", "test-5"]
    assert not UnchainedEvent.objects.exists()


@POSTGRES
@COMMITTING
def test_eight_writers_at_once_leave_one_gapless_chain_in_each_writers_order(after_commit):
    before = AuditEvent.objects.count()
    per_writer = 20
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for i in range(per_writer):
                with transaction.atomic():
                    if i % 5 == 0:  # several events in one change, appended together
                        with audit_deferred():
                            _record(i, name)
                            _record(i + 1000, name)
                    else:
                        _record(i, name)
        except BaseException as error:  # reported by the test, below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not UnchainedEvent.objects.exists()
    expected = before + 8 * (per_writer + per_writer // 5)
    result = audit_chain_verify()
    assert result.ok, result.problem
    assert result.count == expected == AuditEvent.objects.count()
    for n in range(8):
        mine = [
            data["i"]
            for data in AuditEvent.objects.filter(object_id__startswith=f"w{n}-")
            .order_by("seq")
            .values_list("data", flat=True)
        ]
        wanted = []
        for i in range(per_writer):
            wanted += [i, i + 1000] if i % 5 == 0 else [i]
        assert mine == wanted  # a writer's changes are chained in the order they committed


def _env() -> dict[str, str]:
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = connection.settings_dict["NAME"]  # the test database, which these tests commit to
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=urlunsplit(parts._replace(path=f"/{name}")),
        GOVREQ_AUDIT_CHAINING="after-commit",
    )
    return env


def _python(code: str) -> subprocess.CompletedProcess[str]:
    script = "import django, os, signal\ndjango.setup()\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**_env(), "DJANGO_SETTINGS_MODULE": "govreq.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _govreq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govreq", *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


# A moment whose job slots the tests take first, so that a worker's turn at it runs no job (the
# hourly checkpoint would chain what waits too): only the chaining every turn begins with.
QUIET = datetime(2020, 1, 1, 0, 0, tzinfo=UTC)


def _take_quiet_slots() -> None:
    """Run the jobs due at ``QUIET`` now, while nothing waits to be chained."""
    Worker().run_due_jobs(QUIET)


def _worker_turn() -> str:
    worked = _govreq("worker", "--once", "--at", QUIET.isoformat())
    assert worked.returncode == 0, worked.stderr
    return worked.stdout


@POSTGRES
@COMMITTING
def test_a_writer_killed_between_its_commit_and_the_chaining_leaves_nothing_unchained(
    after_commit,
):
    with transaction.atomic():
        _record(0)  # something already in the chain
    _take_quiet_slots()
    head_before = audit_chain_head()
    died = _python(
        """
        from django.db import transaction
        from django.utils import timezone
        from govreq.audit.services import audit_record
        from govreq.core.actors import Actor

        with transaction.atomic():
            # Registered before the chaining (callbacks run in order): the process dies once
            # the change has committed, before its events are chained.
            transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
            for i in range(3):
                audit_record(
                    actor=Actor.system("doomed"), action="request.status_changed",
                    object_type="legal_request", object_id=f"doomed-{i}", data={"i": i},
                    now=timezone.now(),
                )
        """
    )
    assert died.returncode == -9, died.stderr
    assert UnchainedEvent.objects.count() == 3  # committed, with the change
    assert audit_chain_head() == head_before

    # The window is visible, and not yet an alarm.
    checked = _govreq("audit", "verify")
    assert checked.returncode == 0, checked.stderr
    assert "3 event(s) waiting to be chained" in checked.stdout

    # Nothing is chaining them for longer than a worker lets one wait: an alarm.
    UnchainedEvent.objects.update(recorded_at=timezone.now() - timedelta(minutes=5))
    checked = _govreq("audit", "verify")
    assert checked.returncode == 1
    assert "3 audit event(s) committed but not chained" in checked.stderr

    worked = _worker_turn()
    assert "3 event(s) chained that their writer left unchained" in worked
    assert not UnchainedEvent.objects.exists()
    assert [object_id for _seq, object_id in _chained()][-3:] == [
        "doomed-0",
        "doomed-1",
        "doomed-2",
    ]
    checked = _govreq("audit", "verify")
    assert checked.returncode == 0, checked.stderr
    assert "waiting" not in checked.stdout


@POSTGRES
@COMMITTING
def test_a_chaining_killed_before_its_own_commit_chains_nothing_and_loses_nothing(after_commit):
    with transaction.atomic():
        _record(0)
    _take_quiet_slots()
    head_before = audit_chain_head()
    died = _python(
        """
        from django.db import transaction
        from django.utils import timezone
        from govreq.audit import services
        from govreq.core.actors import Actor

        chain = services._chain_unchained

        def chain_then_die(**kwargs):
            chain(**kwargs)  # inserted into the chain and deleted from the waiting table...
            os.kill(os.getpid(), signal.SIGKILL)  # ...and killed before that commits

        services._chain_unchained = chain_then_die
        with transaction.atomic():
            for i in range(2):
                services.audit_record(
                    actor=Actor.system("doomed"), action="request.status_changed",
                    object_type="legal_request", object_id=f"doomed-{i}", data={"i": i},
                    now=timezone.now(),
                )
        """
    )
    assert died.returncode == -9, died.stderr
    assert UnchainedEvent.objects.count() == 2
    assert audit_chain_head() == head_before  # the chaining was undone whole

    assert "2 event(s) chained" in _worker_turn()
    assert not UnchainedEvent.objects.exists()
    ids = [object_id for _seq, object_id in _chained()]
    assert ids.count("doomed-0") == ids.count("doomed-1") == 1  # chained once, in order
    assert ids[-2:] == ["doomed-0", "doomed-1"]
    result = audit_chain_verify()
    assert result.ok and result.count == AuditEvent.objects.count()


@POSTGRES
@COMMITTING
def test_holding_the_chain_still_waits_for_changes_in_flight_and_chains_them(after_commit):
    """What a report publication and the reconciliation rely on: while ``audit_chain_lock`` is
    held nothing audited commits, and the chain already holds every change committed before."""
    recorded = threading.Event()
    moments: dict[str, float] = {}

    def change_in_flight() -> None:
        try:
            with transaction.atomic():
                _record(1, "slow")
                recorded.set()
                time.sleep(0.6)
                moments["committed"] = time.monotonic()
        finally:
            connection.close()

    writer = threading.Thread(target=change_in_flight)
    writer.start()
    assert recorded.wait(timeout=30)
    try:
        with transaction.atomic():
            audit_chain_lock()
            moments["held"] = time.monotonic()
            head_seq, _hash = audit_chain_head()
            newest = AuditEvent.objects.get(seq=head_seq)
    finally:
        writer.join(timeout=30)
    assert moments["held"] >= moments["committed"]
    assert newest.object_id == "slow-1"  # chained before anything was read


@POSTGRES
@COMMITTING
def test_a_checkpoint_signs_the_event_of_its_own_transaction(after_commit):
    with transaction.atomic():
        _record(1)
        written = audit_checkpoint_write(now=timezone.now())
        assert written.checkpoint is not None
        newest = AuditEvent.objects.order_by("-seq").first()
        assert newest is not None and newest.object_id == "test-1"
        assert (written.checkpoint.seq, written.checkpoint.hash) == (newest.seq, newest.hash)
    assert not UnchainedEvent.objects.exists()


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="SQLite's behaviour",
)
@pytest.mark.django_db
def test_on_sqlite_events_are_chained_in_their_transaction_whatever_the_setting(after_commit):
    with transaction.atomic():
        _record(1)
        assert AuditEvent.objects.filter(object_id="test-1").exclude(hash="").exists()
    assert not UnchainedEvent.objects.exists()
