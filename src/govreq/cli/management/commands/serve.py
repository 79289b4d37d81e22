from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from gunicorn.app.base import BaseApplication


class GovreqServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from code rather than a config file."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Imported only here: building the WSGI application loads every URL and view, which
        # gunicorn does in each worker after it forks, not in the master process.
        from govreq.wsgi import application

        return application


def _start_worker() -> subprocess.Popen[bytes]:
    """One `govreq worker` process beside gunicorn, with the same environment."""
    return subprocess.Popen([sys.executable, "-m", "govreq", "worker"])


# Names the PostgreSQL advisory lock that lets one node at a time apply migrations.
_MIGRATE_LOCK_KEY = 0x67_6F_76_6D_69_67
_MIGRATE_LOCK_POLL = 0.2  # seconds between asking for it


def _migrate_once() -> None:
    """Apply migrations; on PostgreSQL one node at a time (nodes started together wait for the
    first, then find nothing left to apply), never two ``migrate`` runs at once."""
    if connection.vendor != "postgresql":
        call_command("migrate", interactive=False, verbosity=0)
        return
    with connection.cursor() as cursor:
        # Asked again every moment rather than waited for in one statement: a node waiting
        # inside pg_advisory_lock holds a snapshot all the while, and CREATE INDEX CONCURRENTLY
        # in the first node's migrations waits for every snapshot older than its build, so
        # the two would wait for each other (PostgreSQL ends that as a deadlock, and the
        # build leaves an invalid index behind).
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_MIGRATE_LOCK_KEY])
            if cursor.fetchone()[0]:
                break
            time.sleep(_MIGRATE_LOCK_POLL)
        try:
            call_command("migrate", interactive=False, verbosity=0)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATE_LOCK_KEY])
    connection.close()  # not inherited by the web workers gunicorn forks


class Command(BaseCommand):
    help = "Apply migrations and serve govreq with gunicorn (static files included)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("GOVREQ_WORKERS", "2"))
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Load the demo data set first (idempotent). Refused in production mode.",
        )
        parser.add_argument(
            "--no-migrate",
            dest="migrate",
            action="store_false",
            help="Do not apply migrations first (they were applied by `govreq migrate`).",
        )
        parser.add_argument(
            "--no-worker",
            dest="worker",
            action="store_false",
            help="Do not start a background worker beside the web workers (run `govreq worker` "
            "elsewhere).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["demo"] and settings.PRODUCTION:
            raise CommandError("--demo loads fictitious data; it is refused in production mode")
        call_command("check", deploy=settings.PRODUCTION, fail_level="ERROR", verbosity=0)
        if options["migrate"]:
            _migrate_once()
        if options["demo"]:
            call_command("demo", "load", verbosity=options["verbosity"])
        bind = f"[{options['host']}]" if ":" in options["host"] else options["host"]
        self.stdout.write(
            f"govreq serving on http://{bind}:{options['port']}/ "
            f"(database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})"
        )
        self.stdout.flush()
        worker = _start_worker() if options["worker"] else None
        try:
            self._serve(bind, options)
        finally:
            if worker is not None:
                worker.terminate()  # SIGTERM: it finishes its current task, then exits
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def _serve(self, bind: str, options: dict[str, Any]) -> None:
        GovreqServer(
            {
                "bind": f"{bind}:{options['port']}",
                "workers": max(1, options["workers"]),
                "worker_class": "gthread",
                "threads": 4,
                "timeout": 60,
                "graceful_timeout": 20,
                "accesslog": "-",
                "errorlog": "-",
                "limit_request_line": 8190,
                "forwarded_allow_ips": os.environ.get("GOVREQ_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            }
        ).run()
