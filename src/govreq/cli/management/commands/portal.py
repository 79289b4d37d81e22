from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from govreq.cli.commands import GovreqCommand, actor_for
from govreq.portal.services import sign_in_unlock


class Command(GovreqCommand):
    help = "The agency portal."
    subcommands = {
        "unlock": "Lift an officer's sign-in lockout (too many codes asked or tried); audited.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        parser.add_argument("email", metavar="EMAIL")
        parser.add_argument("--as", dest="as_email", metavar="EMAIL", default=None)

    def handle_unlock(self, **options: Any) -> None:
        forgotten = sign_in_unlock(
            actor=actor_for(options["as_email"], "cli"),
            email=options["email"],
            now=timezone.now(),
        )
        self.stdout.write(
            f"{options['email']} may ask for a sign-in code again "
            f"({forgotten} counted attempts forgotten)"
        )
