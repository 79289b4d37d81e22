from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.cli.commands import GovreqCommand, actor_for
from govreq.lifecycle.rechecking import policy_update
from govreq.policy.models import PolicyVersion
from govreq.policy.selectors import policy_current, policy_document_of


class Command(GovreqCommand):
    help = "Show and change the review policy (thresholds, process table, keyword lists)."
    subcommands = {
        "show": "Print the policy in force (or a version) as JSON.",
        "history": "List the policy versions.",
        "set": "Publish FILE.json as the next version; open requests are checked again.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "show":
            parser.add_argument("--version", type=int)
        elif name == "set":
            parser.add_argument("file", type=Path, metavar="FILE.json")
            parser.add_argument("--note", required=True, help="What changed and why.")
            parser.add_argument("--as", dest="as_email", help="Act as this policy admin.")

    def handle_show(self, **options: Any) -> None:
        if options["version"]:
            row = PolicyVersion.objects.filter(version=options["version"]).first()
            if row is None:
                raise CommandError(f"no policy version {options['version']}", returncode=3)
        else:
            row = policy_current()[0]
        self.print_json(policy_document_of(row))

    def handle_history(self, **options: Any) -> None:
        for row in PolicyVersion.objects.select_related("created_by").order_by("-version")[:100]:
            who = row.created_by.email if row.created_by else "system"
            self.stdout.write(
                f"v{row.version:<4} {row.created_at:%Y-%m-%d %H:%M}  {who}  {row.note}"
            )

    def handle_set(self, **options: Any) -> None:
        try:
            document = json.loads(options["file"].read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{options['file']}: no such file") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{options['file']}: not valid JSON ({error})") from None
        version = policy_update(
            actor=actor_for(options["as_email"], "cli"),
            document=document,
            note=options["note"],
            now=timezone.now(),
        )
        self.stdout.write(f"Policy v{version.version} in force; open requests checked again")
