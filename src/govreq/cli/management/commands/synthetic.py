from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from govreq.core.errors import DomainError
from govreq.demo.synthetic import synthetic_generate


class ProgressBar:
    """A progress bar: redrawn in place on a terminal, a line per tenth otherwise."""

    def __init__(self, write: Callable[[str], Any], *, tty: bool, width: int = 30) -> None:
        self.write = write
        self.tty = tty
        self.width = width
        self.started = time.monotonic()
        self.last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        share = done / total
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        remaining = (total - done) / rate if rate else 0.0
        filled = round(share * self.width)
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {share:6.1%} "
            f"{done:,}/{total:,} requests, {elapsed:,.0f} s, ~{remaining:,.0f} s left"
        )
        if self.tty:
            self.write("\r" + line + ("\n" if done >= total else ""))
        elif int(share * 10) != self.last_tenth or done >= total:
            self.last_tenth = int(share * 10)
            self.write(line + "\n")


class Command(BaseCommand):
    help = (
        "Generate a realistic synthetic history of N requests (country, kind and outcome mix "
        "from Meta's and Google's published 2019-2021 numbers) for benchmarks. Development only; "
        "refused on a database that holds requests unless --append."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, metavar="N", help="How many requests.")
        parser.add_argument("--seed", type=int, default=20200630, help="Random seed.")
        parser.add_argument(
            "--append", action="store_true", help="Add to a database that holds requests."
        )
        parser.add_argument("--batch-size", type=int, default=20_000, help="Requests a batch.")
        parser.add_argument(
            "--jurisdiction",
            action="append",
            default=[],
            metavar="CODE",
            help="Only this jurisdiction's share of the mix (repeat for several).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def _progress_bar(self) -> ProgressBar:
        def write(text: str) -> None:
            self.stderr.write(text, ending="")
            self.stderr.flush()

        return ProgressBar(write, tty=self.stderr.isatty())

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            result = synthetic_generate(
                count=options["count"],
                seed=options["seed"],
                append=options["append"],
                batch_size=max(1, options["batch_size"]),
                jurisdictions=frozenset(code.upper() for code in options["jurisdiction"]),
                progress=None if options["quiet"] else self._progress_bar(),
                now=timezone.now(),
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Added {result.requests:,} synthetic requests ({result.targets:,} targets, "
            f"{result.status_changes:,} status changes, {result.decisions:,} decisions, "
            f"{result.approvals:,} approvals) in {time.monotonic() - started:,.1f} s"
        )
