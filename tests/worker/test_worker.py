"""The worker: tasks claimed once even by two workers, lost tasks retried after the lease,
failures retried with backoff then shown, periodic jobs once per slot, holds on the clock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govreq.holds.models import JurisdictionHold
from govreq.worker.models import JobRun
from govreq.worker.runner import MAX_ATTEMPTS, Worker, backoff_after, task_retry
from tests.console.test_console import PASSWORD, signed_in
from tests.hold_helpers import hold_place
from tests.review_helpers import make_staff, submit
from tests.worker.tasks import fail_always, leave_mark

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    host = settings["HOST"] or "127.0.0.1"
    return f"postgres://{user}@{host}:{settings['PORT'] or 5432}/{settings['NAME']}"


def worker_process(*args: str, lease_minutes: str = "15") -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url(), "GOVREQ_TASK_LEASE_MINUTES": lease_minutes}
    return subprocess.Popen(
        [sys.executable, "-m", "govreq", "worker", "--interval", "0.1", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def marks(folder: Path) -> list[str]:
    log = folder / "runs.log"
    return log.read_text().split("\n")[:-1] if log.exists() else []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_run_every_task_exactly_once(tmp_path):
    for key in range(40):
        leave_mark.enqueue(folder=str(tmp_path), key=key, seconds=0.05)
    workers = [worker_process(), worker_process()]
    try:
        wait_until(lambda: len(marks(tmp_path)) >= 40)
        wait_until(lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists())
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(timeout=30) == 0, worker.stderr.read().decode()
    keys = [line.split()[0] for line in marks(tmp_path)]
    assert sorted(keys, key=int) == [str(k) for k in range(40)]  # each once, none lost
    pids = {line.split()[1] for line in marks(tmp_path)}
    assert len(pids) == 2  # both workers took part
    assert all(len(r.worker_ids) == 1 for r in DBTaskResult.objects.all())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_kill_9_loses_nothing_and_does_nothing_twice(tmp_path):
    for key in range(12):
        leave_mark.enqueue(folder=str(tmp_path), key=key, seconds=0.4)
    first = worker_process(lease_minutes="0.02")
    wait_until(lambda: len(marks(tmp_path)) >= 3)
    first.send_signal(signal.SIGKILL)  # mid-batch, probably mid-task
    first.wait(timeout=10)
    assert DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()
    second = worker_process(lease_minutes="0.02")
    try:
        wait_until(lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists())
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    keys = [line.split()[0] for line in marks(tmp_path)]
    assert sorted(keys, key=int) == [str(k) for k in range(12)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sigterm_finishes_the_current_task_then_exits(tmp_path):
    leave_mark.enqueue(folder=str(tmp_path), key=1, seconds=2.0)
    worker = worker_process()
    wait_until(lambda: DBTaskResult.objects.filter(status="RUNNING").exists())
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert marks(tmp_path) and marks(tmp_path)[0].startswith("1 ")
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db
def test_a_failing_task_is_retried_with_backoff_then_shown_failed(
    django_capture_on_commit_callbacks,
):
    fail_always.enqueue(reason="SMTP refused")
    result = DBTaskResult.objects.get()
    worker = Worker()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        DBTaskResult.objects.filter(pk=result.pk).update(run_after=timezone.now())
        assert worker.run_ready_tasks(limit=None) == 1
        result.refresh_from_db()
        if attempt < MAX_ATTEMPTS:
            assert result.status == TaskResultStatus.READY
            assert result.run_after > timezone.now() + backoff_after(attempt) - timedelta(seconds=5)
            assert "SMTP refused" in result.traceback
    assert result.status == TaskResultStatus.FAILED
    assert backoff_after(1) == timedelta(seconds=30) and backoff_after(3) == timedelta(minutes=2)
    assert task_retry(str(result.pk))
    result.refresh_from_db()
    assert result.status == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_task_whose_worker_died_is_ready_again_after_the_lease(tmp_path):
    leave_mark.enqueue(folder=str(tmp_path), key=7)
    DBTaskResult.objects.update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=1), worker_ids=["dead"]
    )
    worker = Worker(lease=timedelta(minutes=15))
    assert worker.recover_lost_tasks(timezone.now()) == 1
    assert worker.run_ready_tasks(limit=None) == 1
    assert marks(tmp_path) == [f"7 {os.getpid()}"]


@pytest.mark.django_db
def test_each_job_runs_once_per_slot_whichever_worker_asks():
    at = timezone.now()
    first = Worker().run_once(at=at)
    assert set(first) >= {"holds", "packages", "tasks"}
    second = Worker().run_once(at=at)
    assert second == {"tasks": "0"}  # the slots were taken: nothing ran twice
    assert JobRun.objects.filter(status="DONE").count() == len(first) - 1


@pytest.mark.django_db
def test_a_future_hold_starts_and_ends_by_itself(chan):
    staff = make_staff()
    request = submit(chan)
    start = timezone.now() + timedelta(days=2)
    placed = hold_place(
        actor=staff.actor("pat"),
        jurisdiction_code="HK",
        effective_from=start,
        effective_to=start + timedelta(days=3),
        reason="Law takes effect on Thursday",
        now=timezone.now(),
    )
    assert placed.put_on_hold == []
    request.refresh_from_db()
    assert request.status == "RECEIVED"
    Worker().run_once(at=start - timedelta(minutes=1))
    request.refresh_from_db()
    assert request.status == "RECEIVED"
    outcome = Worker().run_once(at=start + timedelta(seconds=30))
    assert outcome["holds"].startswith("1 hold(s) started")
    request.refresh_from_db()
    assert request.status == "ON_HOLD"
    assert JurisdictionHold.objects.get().applied_at is not None
    Worker().run_once(at=start + timedelta(days=3, minutes=1))
    request.refresh_from_db()
    assert request.status == "RECEIVED"


@pytest.mark.django_db
def test_the_console_lists_failed_tasks_and_retries_them():
    staff = make_staff()
    for user in staff.users.values():
        user.set_password(PASSWORD)
        user.save()
    fail_always.enqueue(reason="SMTP refused")
    DBTaskResult.objects.update(status="FAILED", traceback="RuntimeError: SMTP refused\n")
    task = DBTaskResult.objects.get()
    reviewer = signed_in(staff, "rita")
    page = reviewer.get("/console/tasks").content.decode()
    assert "fail always" in page and "RuntimeError: SMTP refused" in page
    assert signed_in(staff, "aud").post(f"/console/tasks/{task.pk}/retry").status_code == 403
    assert reviewer.post(f"/console/tasks/{task.pk}/retry").status_code == 302
    task.refresh_from_db()
    assert task.status == "READY"
