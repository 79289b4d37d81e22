from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.accounts.models import StaffRole, User
from govreq.accounts.services import staff_add
from govreq.api.tokens import api_token_issue
from govreq.cli.commands import GovreqCommand, actor_for


class Command(GovreqCommand):
    help = "Add platform staff with roles and issue their personal API tokens."
    subcommands = {
        "add": "Add a staff user with one or more roles.",
        "list": "List staff users and their roles.",
        "token": "Issue a new personal API token for a staff user (printed once).",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "add":
            parser.add_argument("--email", required=True)
            parser.add_argument("--name", required=True)
            parser.add_argument(
                "--role", action="append", dest="roles", required=True, choices=StaffRole.values
            )
            parser.add_argument(
                "--password-stdin",
                action="store_true",
                help="Read a password for console sign-in from standard input.",
            )
        elif name == "token":
            parser.add_argument("email", metavar="EMAIL")
            parser.add_argument("--label", default="")
        if name != "list":
            parser.add_argument("--as", dest="as_email", help="Act as this staff user.")

    def handle_add(self, **options: Any) -> None:
        password = None
        if options["password_stdin"]:
            password = getpass.getpass("Password: ") if self._interactive() else input()
        user = staff_add(
            actor=actor_for(options["as_email"], "cli"),
            email=options["email"],
            name=options["name"],
            roles=options["roles"],
            password=password,
            now=timezone.now(),
        )
        self.stdout.write(
            f"Added staff user {user.pk}: {user.email} ({', '.join(options['roles'])})"
        )

    def handle_list(self, **options: Any) -> None:
        for user in User.objects.prefetch_related("role_assignments").order_by("email"):
            roles = ", ".join(sorted(a.role for a in user.role_assignments.all()))
            self.stdout.write(f"{user.pk:>5}  {user.email}  {roles}")

    def handle_token(self, **options: Any) -> None:
        user = User.objects.filter(email=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError(f"no staff user with e-mail {options['email']}", returncode=3)
        issued = api_token_issue(
            actor=actor_for(options["as_email"], "cli"),
            user=user,
            label=options["label"],
            now=timezone.now(),
        )
        self.stderr.write("New API token (shown once; store it now):")
        self.stdout.write(issued.secret)

    @staticmethod
    def _interactive() -> bool:
        import sys

        return sys.stdin.isatty()
