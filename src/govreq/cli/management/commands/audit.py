from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from govreq.audit.models import AuditEvent
from govreq.audit.selectors import audit_chain_verify
from govreq.cli.commands import GovreqCommand


class Command(GovreqCommand):
    help = "Inspect and verify the tamper-evident audit log."
    subcommands = {
        "verify": "Walk the hash chain; exit 1 naming the first bad event.",
        "tail": "Print the most recent events.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "tail":
            parser.add_argument("-n", type=int, default=20)

    def handle_verify(self, **options: Any) -> None:
        result = audit_chain_verify()
        if not result.ok:
            raise CommandError(
                f"audit chain broken at event #{result.first_bad_seq}: {result.problem} "
                f"({result.count} events verified before it)",
                returncode=1,
            )
        self.stdout.write(f"OK: {result.count} events, chain head {result.head_hash}")

    def handle_tail(self, **options: Any) -> None:
        count = max(1, min(options["n"], 1000))
        events = list(AuditEvent.objects.order_by("-seq")[:count])
        for event in reversed(events):
            self.stdout.write(
                f"#{event.seq:<7} {event.occurred_at:%Y-%m-%d %H:%M:%S}  {event.actor_label:30}  "
                f"{event.action:24}  {event.object_type}:{event.object_id}"
            )
