"""User notices over real SMTP, through real `govreq worker` processes: a worker killed with
SIGKILL in the middle of the batch loses no notice and, after a restart, sends none twice; two
workers sweeping and delivering the same due notices at once send each once.

The SMTP server (aiosmtpd, in a thread, on 127.0.0.1) takes a message only when it answers 250,
as a real one does: a client that dies while the server is still reading the message has sent
nothing. Notices are slow to accept (the handler sleeps), so that the kill lands mid-batch, in
the middle of a delivery, every time.
"""

from __future__ import annotations

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from govreq.core.actors import Actor
from govreq.core.mail import message_id
from govreq.core.models import SentMail
from govreq.disclosure.sources import data_source_from_file
from govreq.lifecycle import notifying
from govreq.notices.models import NoticeEvent, UserNotice
from govreq.worker.models import JobRun
from tests.notices.test_notices import broken_contact_lookup
from tests.review_helpers import approve, collect, make_staff, submit
from tests.worker.test_worker import ROOT, database_url, wait_until

# Flushed between tests (real commits, for the worker processes); the migrations' data (the
# jurisdictions, the first policy) is put back before each.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
DELIVER_MAIL = "govreq.core.mail.deliver_mail"


class SlowRecordingSMTP:
    """An aiosmtpd handler that records each message it accepts (with its Message-ID and
    recipients); user notices take ``delay`` seconds to accept, and ``started`` counts the
    notices whose DATA it began to read."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.started = 0
        self.accepted: list[tuple[str, tuple[str, ...]]] = []
        self.others: list[str] = []
        self.reading = threading.Condition(self.lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        ident = str(message.get("Message-ID", ""))
        if not ident.startswith("<notice-"):
            with self.lock:
                self.others.append(str(message.get("Subject", "")))
            return "250 OK"
        with self.reading:
            self.started += 1
            self.reading.notify_all()
        # A client killed now closes its connection: aiosmtpd cancels this handler, and the
        # message was never accepted.
        await asyncio.sleep(self.delay)
        with self.lock:
            self.accepted.append((ident, tuple(envelope.rcpt_tos)))
        return "250 OK"

    def wait_reading(self, count: int, seconds: float = 30.0) -> None:
        with self.reading:
            if not self.reading.wait_for(lambda: self.started >= count, timeout=seconds):
                raise AssertionError(f"the server never began reading notice {count}")

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server():
    servers: list[Controller] = []

    def start(delay: float) -> tuple[SlowRecordingSMTP, int]:
        handler = SlowRecordingSMTP(delay)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return handler, port

    yield start
    for controller in servers:
        controller.stop()


def worker(port: int, source: Path, *args: str, lease_minutes: str = "15") -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "GOVREQ_TASK_LEASE_MINUTES": lease_minutes,
        "GOVREQ_SMTP_HOST": "127.0.0.1",
        "GOVREQ_SMTP_PORT": str(port),
        "GOVREQ_SMTP_STARTTLS": "false",
        "GOVREQ_SMTP_SSL": "false",
        "GOVREQ_DATA_SOURCE_CONFIG": str(source),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "govreq", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def due_notices(chan: Any, settings: Any, requests: int = 3) -> tuple[list[UserNotice], Path]:
    """Approved, collected disclosures whose notices are due (the contact lookup failed while
    collecting, so nothing was sent); returns the notices and the working data source."""
    staff = make_staff()
    working = settings.DATA_SOURCE_CONFIG
    broken_contact_lookup(settings)
    for index in range(requests):
        collect(approve(submit(chan, agency_case_number=f"KC-{index}"), staff))
    settings.DATA_SOURCE_CONFIG = working
    notices = list(UserNotice.objects.order_by("pk"))
    assert len(notices) == 3 * requests and {n.status for n in notices} == {"DUE"}
    return notices, working


def slow_contact_lookup(source: Path) -> Path:
    """The same data source, whose contact lookup takes about a tenth of a second (it counts to
    half a million first): a sweep of a dozen notices then lasts long enough for two to overlap."""
    slow = source.with_name("slow-contact.toml")
    slow.write_text(
        source.read_text().replace(
            "SELECT email, language FROM accounts WHERE id = :account",
            "SELECT email, language FROM accounts WHERE id = :account AND (WITH RECURSIVE "
            "c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000) "
            "SELECT count(*) FROM c) > 0",
        )
    )
    return slow


def notice_tasks() -> Any:
    return DBTaskResult.objects.filter(task_path=DELIVER_MAIL)


def expected_recipients(notices: list[UserNotice], source: Path) -> Counter[str]:
    platform = data_source_from_file(source)
    try:
        return Counter(platform.contact(n.account).address for n in notices)  # type: ignore[union-attr]
    finally:
        getattr(platform, "close", lambda: None)()


def assert_each_sent_once(notices: list[UserNotice], smtp: SlowRecordingSMTP, source: Path) -> None:
    idents = Counter(ident for ident, _ in smtp.accepted)
    assert set(idents.values()) == {1}, idents  # none twice
    assert set(idents) == {message_id(f"notice-{n.pk}") for n in notices}  # none lost
    recipients = Counter(to for _, tos in smtp.accepted for to in tos)
    assert recipients == expected_recipients(notices, source)
    assert set(UserNotice.objects.values_list("status", flat=True)) == {"SENT"}
    keys = list(SentMail.objects.values_list("key", flat=True))
    assert sorted(keys) == sorted(f"notice-{n.pk}" for n in notices)  # one row per key


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()


def test_kill_9_mid_batch_loses_no_notice_and_sends_none_twice(
    chan, platform, settings, smtp_server
):
    notices, source = due_notices(chan, settings)
    smtp, port = smtp_server(delay=0.3)
    lease = "0.03"  # 1.8 s: the killed worker's task is taken up again soon
    first = worker(port, source, "--interval", "0.1", lease_minutes=lease)
    try:
        smtp.wait_reading(3)  # two notices accepted, the third being read
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert 2 <= smtp.count() < len(notices)
    # The sweep marked every notice sent and queued its mail in the same transaction.
    assert notice_tasks().count() == len(notices)
    assert set(UserNotice.objects.values_list("status", flat=True)) == {"SENT"}
    assert notice_tasks().filter(status="RUNNING").count() == 1  # the one it was sending

    second = worker(port, source, "--interval", "0.1", lease_minutes=lease)
    try:
        wait_until(lambda: smtp.count() >= len(notices), seconds=60)
        wait_until(lambda: not notice_tasks().exclude(status="SUCCESSFUL").exists())
    finally:
        stop(second)
    assert_each_sent_once(notices, smtp, source)
    assert smtp.started == len(notices) + 1  # the interrupted one was read twice, taken once
    attempts = sorted(len(task.worker_ids) for task in notice_tasks())
    assert attempts == [1] * (len(notices) - 1) + [2]


def test_two_workers_sweeping_the_same_due_notices_send_each_once(
    chan, platform, settings, smtp_server
):
    """Two `worker --once` runs for two different minutes both run the notices job over the
    same due notices (each claims its own slot; a slow contact lookup makes the sweeps last, so
    they overlap on PostgreSQL, and take turns per notice under SQLite's write lock), then share
    the deliveries."""
    notices, source = due_notices(chan, settings, requests=4)
    smtp, port = smtp_server(delay=0.05)
    slow = slow_contact_lookup(source)
    now = timezone.now()
    runs = [
        worker(port, slow, "--once", "--at", (now + timedelta(minutes=m)).isoformat())
        for m in (1, 2)
    ]
    outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 0, stderr.decode()
        outputs.append(stdout.decode() + stderr.decode()[-3000:])
    sent = [
        int(line.split(": ", 1)[1].split(" ", 1)[0])
        for out in outputs
        for line in out.splitlines()
        if line.startswith("notices: ")
    ]
    assert len(sent) == 2 and sum(sent) == len(notices), outputs  # each swept by one of them
    assert JobRun.objects.filter(job="notices", status="DONE").count() == 2
    moves = NoticeEvent.objects.filter(to_status="SENT").values_list("notice_id", flat=True)
    assert sorted(moves) == [n.pk for n in notices]  # one DUE -> SENT each
    assert smtp.count() == len(notices)
    assert_each_sent_once(notices, smtp, source)
    assert not notice_tasks().exclude(status="SUCCESSFUL").exists()
    assert all(len(task.worker_ids) == 1 for task in notice_tasks())


def test_a_notice_whose_mail_could_not_be_queued_is_still_due(chan, platform, settings):
    """The mail is queued in the transaction that marks the notice sent: if the queue cannot
    take it (here the database refuses the row; a worker killed between the two would be the
    same), the notice is not marked sent either, and the next sweep sends it."""
    notices, _ = due_notices(chan, settings, requests=1)
    refused = OperationalError("database is locked")
    with mock.patch.object(DatabaseBackend, "enqueue", side_effect=refused):
        swept = notifying.notices_sweep(actor=Actor.system("worker"), now=timezone.now())
    assert swept.sent == [] and len(swept.failed) == len(notices)
    assert set(UserNotice.objects.values_list("status", flat=True)) == {"DUE"}
    assert not notice_tasks().exists()
    swept = notifying.notices_sweep(actor=Actor.system("worker"), now=timezone.now())
    assert len(swept.sent) == len(notices)
    assert notice_tasks().count() == len(notices)
