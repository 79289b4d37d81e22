from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from govreq.worker.runner import Worker
from govreq.worker.schedule import SCHEDULE


def moment(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-12-01T09:00:00+08:00 or Z")
    return parsed


class Command(BaseCommand):
    help = "Run the background worker: queued tasks (mail, collections) and the periodic jobs."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run every job due now (or at --at) and every ready task, then exit.",
        )
        parser.add_argument(
            "--at",
            type=moment,
            help="With --once: the moment to run the jobs for (tests, demos, replaying history).",
        )
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument("--list", action="store_true", help="List the periodic jobs.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for job in SCHEDULE:
                self.stdout.write(f"{job.name:14} every {job.every}  {job.what}")
            return
        worker = Worker(interval=options["interval"])
        if options["once"]:
            for name, outcome in worker.run_once(at=options["at"]).items():
                self.stdout.write(f"{name}: {outcome}")
            return
        if options["at"]:
            self.stderr.write("--at only goes with --once")
            return
        worker.install_signal_handlers()
        worker.run_forever()
