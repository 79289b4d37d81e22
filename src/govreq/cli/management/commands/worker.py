from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from govreq.cli.commands import moment_argument
from govreq.worker.runner import Worker
from govreq.worker.schedule import SCHEDULE


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
            type=moment_argument,
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
