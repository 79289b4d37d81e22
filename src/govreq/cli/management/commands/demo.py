from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from govreq.cli.commands import GovreqCommand
from govreq.demo.loader import demo_load
from govreq.lifecycle.agency_mail import mail_officer


class Command(GovreqCommand):
    help = "Demo data for trying govreq out."
    subcommands = {"load": "Load the demo data set (idempotent; refused in production mode)."}

    def handle_load(self, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is refused in production mode")
        started = timezone.now()
        added = demo_load()
        if added:
            # The demo's history happened years ago, when its officers were told of each step:
            # the messages it queued now are not sent today.
            DBTaskResult.objects.filter(
                enqueued_at__gte=started, task_path=f"{mail_officer.func.__module__}.mail_officer"
            ).delete()
            self.stdout.write(f"Demo data loaded: {added} requests")
        else:
            self.stdout.write("Demo data already loaded")
