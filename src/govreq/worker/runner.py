"""The worker: runs the tasks enqueued when transactions commit, and the periodic jobs.

One loop, safe with any number of workers on one database:

- **Tasks** (django-tasks-db rows) are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (an
  exclusive transaction on SQLite), so each runs in one worker. A task whose worker died
  (``kill -9``) stays RUNNING; after the lease (``GOVREQ_TASK_LEASE_MINUTES``, 15) it is made
  READY again and retried. A task that raises is retried with exponential backoff (30 s, 1, 2,
  4 minutes...) up to ``MAX_ATTEMPTS``, then left FAILED for staff (console: Background tasks,
  with a retry button). Tasks must therefore be idempotent; govreq's are (a collection claims
  its production, a notice has a unique key).
- **Jobs** (``worker.schedule``) run once per slot of their period: the worker that inserts the
  (job, slot) row runs it, the others skip it; each job is itself idempotent.

Every turn it also chains audit events that committed unchained and whose writer did not chain
them (after-commit chaining, docs/audit.md "Sequencing"): nothing committed stays unchained for
longer than a turn of a running worker.

SIGTERM finishes the current task or job and exits. ``run_once(at=...)`` runs every job due at
that moment and every ready task, then returns (``govreq worker --once --at ISO8601``).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.utils import OperationalError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from govreq.audit.services import audit_chain_pending
from govreq.core.actors import Actor
from govreq.worker.models import JobRun, JobRunStatus
from govreq.worker.schedule import SCHEDULE, Job, slot_of

logger = logging.getLogger("govreq.worker")
MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=30)


def backoff_after(attempts: int) -> timedelta:
    """How long to wait before the next attempt of a task that failed ``attempts`` times."""
    return BACKOFF * (2 ** max(0, attempts - 1))


@dataclass
class Worker:
    worker_id: str = field(default_factory=lambda: get_random_string(24))
    interval: float = 1.0
    lease: timedelta = field(default_factory=lambda: timedelta(minutes=settings.TASK_LEASE_MINUTES))
    schedule: tuple[Job, ...] = SCHEDULE
    clock: Callable[[], datetime] = timezone.now
    running: bool = True
    # Set by SIGTERM/SIGINT to cut the pause between turns short.
    woken: threading.Event = field(default_factory=threading.Event)

    # --- signals --------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        logger.warning("worker %s: %s, stopping", self.worker_id, signal.strsignal(signum))
        # Never raise here: a signal lands at any point, also inside a transaction's rollback,
        # which an exception would leave half done (the connection in error, exit status 1).
        # The loop sees ``running`` after the step at hand, and the pause ends at once.
        self.running = False
        self.woken.set()

    # --- the loop -------------------------------------------------------------------------------

    def run_forever(self) -> None:
        logger.info("worker %s started", self.worker_id)
        while self.running:
            close_old_connections()
            now = self.clock()
            self.chain_audit_events()
            self.recover_lost_tasks(now)
            ran = self.run_ready_tasks(limit=50)
            self.run_due_jobs(now)
            close_old_connections()
            if self.running and not ran:
                self.woken.wait(self.interval)

    def run_once(self, *, at: datetime | None = None) -> dict[str, str]:
        """Every job due at ``at`` (default now), then every ready task; returns what ran."""
        now = at or self.clock()
        chained = self.chain_audit_events()
        self.recover_lost_tasks(self.clock())
        outcomes = self.run_due_jobs(now)
        tasks = self.run_ready_tasks(limit=None)
        outcomes["tasks"] = str(tasks)
        if chained:
            outcomes["audit"] = f"{chained} event(s) chained that their writer left unchained"
        return outcomes

    # --- the audit chain ------------------------------------------------------------------------

    def chain_audit_events(self) -> int:
        """Chain audit events committed unchained (``GOVREQ_AUDIT_CHAINING=after-commit``) that
        their writer did not chain: it died, or its database connection failed, between its
        commit and the chaining. One cheap query when there are none."""
        try:
            chained = audit_chain_pending()
        except OperationalError as error:
            if is_locked_database_exception(error):
                return 0  # SQLite is busy: try again on the next turn
            raise
        if chained:
            logger.info("worker %s: chained %d audit event(s)", self.worker_id, chained)
        return chained

    # --- tasks ----------------------------------------------------------------------------------

    def recover_lost_tasks(self, now: datetime) -> int:
        """Tasks RUNNING longer than the lease lost their worker: ready to run again."""
        lost = DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, started_at__lt=now - self.lease
        )
        count = lost.update(status=TaskResultStatus.READY, started_at=None)
        if count:
            logger.warning(
                "worker %s: %d task(s) lost their worker; retrying", self.worker_id, count
            )
        return count

    def _claim(self) -> DBTaskResult | None:
        ready = DBTaskResult.objects.ready()
        try:
            with exclusive_transaction(ready.db):
                task_result = ready.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as error:
            if is_locked_database_exception(error):
                return None  # SQLite is busy: try again on the next turn
            raise

    def run_ready_tasks(self, *, limit: int | None) -> int:
        ran = 0
        while self.running and (limit is None or ran < limit):
            task_result = self._claim()
            if task_result is None:
                break
            self._run_task(task_result)
            ran += 1
        return ran

    def _run_task(self, db_result: DBTaskResult) -> None:
        try:
            task = db_result.task
            result = db_result.task_result
            value = task.call(*result.args, **result.kwargs)
            db_result.set_successful(value)
        except Exception as error:
            attempts = len(db_result.worker_ids)
            db_result.set_failed(error)  # records the error and its traceback
            if attempts < MAX_ATTEMPTS:
                DBTaskResult.objects.filter(pk=db_result.pk).update(
                    status=TaskResultStatus.READY,
                    run_after=self.clock() + backoff_after(attempts),
                    finished_at=None,
                )
                logger.warning(
                    "task %s failed (attempt %d), retrying: %s",
                    db_result.task_path,
                    attempts,
                    error,
                )
            else:
                logger.error("task %s failed %d times: %s", db_result.task_path, attempts, error)

    # --- jobs -----------------------------------------------------------------------------------

    def run_due_jobs(self, now: datetime) -> dict[str, str]:
        outcomes: dict[str, str] = {}
        for job in self.schedule:
            if not self.running:
                break
            slot = slot_of(job, now)
            try:
                with transaction.atomic():
                    run = JobRun.objects.create(
                        job=job.name,
                        slot_at=slot,
                        status=JobRunStatus.RUNNING,
                        worker_id=self.worker_id,
                        started_at=self.clock(),
                    )
            except IntegrityError:
                continue  # another worker has this slot
            try:
                outcome = job.run(Actor.system("worker"), now)
            except Exception as error:
                logger.exception("job %s failed", job.name)
                JobRun.objects.filter(pk=run.pk).update(
                    status=JobRunStatus.FAILED,
                    finished_at=self.clock(),
                    outcome=f"{type(error).__name__}: {error}"[:5000],
                )
                outcomes[job.name] = f"failed: {error}"
            else:
                JobRun.objects.filter(pk=run.pk).update(
                    status=JobRunStatus.DONE, finished_at=self.clock(), outcome=outcome[:5000]
                )
                outcomes[job.name] = outcome
        return outcomes


def task_retry(task_id: str) -> bool:
    """Make a FAILED task ready to run again now (the console's retry button)."""
    return bool(
        DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.FAILED).update(
            status=TaskResultStatus.READY, run_after=get_date_max(), finished_at=None
        )
    )
