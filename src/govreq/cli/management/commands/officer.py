from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from govreq.agencies import selectors, services
from govreq.agencies.models import Officer
from govreq.api.tokens import api_token_issue
from govreq.cli.commands import GovreqCommand, actor_for


class Command(GovreqCommand):
    help = "Add agency officers, list them, and issue their personal API tokens."
    subcommands = {
        "add": "Add an officer; the e-mail must be at one of the agency's official domains.",
        "list": "List officers.",
        "token": "Issue a new personal API token for an officer (printed once).",
        "suspend": "Suspend an officer and revoke their tokens.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "add":
            parser.add_argument("--agency", type=int, required=True, metavar="ID")
            parser.add_argument("--email", required=True)
            parser.add_argument("--name", required=True)
            parser.add_argument("--badge", default="", help="Badge or staff number.")
        elif name == "list":
            parser.add_argument("--agency", type=int, metavar="ID")
        else:
            parser.add_argument("email", metavar="EMAIL")
            if name == "token":
                parser.add_argument("--label", default="", help="What the token is for.")
            else:
                parser.add_argument("--reason", required=True)
        if name != "list":
            parser.add_argument("--as", dest="as_email", help="Act as this staff user.")

    def handle_add(self, **options: Any) -> None:
        officer = services.officer_add(
            actor=actor_for(options["as_email"], "cli"),
            agency=selectors.agency_get(options["agency"]),
            email=options["email"],
            name=options["name"],
            badge_number=options["badge"],
            now=timezone.now(),
        )
        self.stdout.write(f"Added officer {officer.pk}: {officer}")

    def handle_list(self, **options: Any) -> None:
        officers = Officer.objects.select_related("agency").order_by("agency_id", "email")
        if options["agency"]:
            officers = officers.filter(agency_id=options["agency"])
        for officer in officers:
            self.stdout.write(
                f"{officer.pk:>5}  {officer.status:9}  {officer.agency.name}  {officer.email}"
            )

    def handle_token(self, **options: Any) -> None:
        issued = api_token_issue(
            actor=actor_for(options["as_email"], "cli"),
            officer=selectors.officer_get_by_email(options["email"]),
            label=options["label"],
            now=timezone.now(),
        )
        self.stderr.write("New API token (shown once; store it now):")
        self.stdout.write(issued.secret)

    def handle_suspend(self, **options: Any) -> None:
        officer = services.officer_suspend(
            actor=actor_for(options["as_email"], "cli"),
            officer=selectors.officer_get_by_email(options["email"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(f"Suspended officer {officer.email}; their tokens are revoked")
