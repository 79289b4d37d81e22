from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from govreq.cli.commands import GovreqCommand
from govreq.demo.loader import demo_load


class Command(GovreqCommand):
    help = "Demo data for trying govreq out."
    subcommands = {"load": "Load the demo data set (idempotent; refused in production mode)."}

    def handle_load(self, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is refused in production mode")
        added = demo_load()
        if added:
            self.stdout.write(f"Demo data loaded: {added} requests")
        else:
            self.stdout.write("Demo data already loaded")
