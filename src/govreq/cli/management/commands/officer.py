from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.agencies import selectors, services
from govreq.agencies.models import Officer
from govreq.api.tokens import api_token_issue
from govreq.cli.commands import GovreqCommand, actor_for
from govreq.portal.second_factor import officer_totp_reset


class Command(GovreqCommand):
    help = "Add agency officers, list them, and issue their personal API tokens."
    subcommands = {
        "add": "Add an officer; the e-mail must be at one of the agency's official domains.",
        "list": "List officers.",
        "token": "Issue a new personal API token for an officer (printed once); it expires.",
        "tokens": "List an officer's API tokens: when each was issued, expires, was revoked.",
        "suspend": "Suspend an officer and revoke their tokens.",
        "authenticator-reset": "Forget an officer's authenticator app (a lost phone); they set "
        "up a new one at their next sign-in.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "add":
            parser.add_argument("--agency", type=int, required=True, metavar="ID")
            parser.add_argument("--email", required=True)
            parser.add_argument("--name", required=True)
            parser.add_argument("--badge", default="", help="Badge or staff number.")
            parser.add_argument(
                "--override-lookalike",
                default="",
                metavar="REASON",
                help="Add an officer at a domain that looks like another verified agency's "
                "anyway, saying why it is genuine (recorded and audited).",
            )
        elif name == "list":
            parser.add_argument("--agency", type=int, metavar="ID")
        else:
            parser.add_argument("email", metavar="EMAIL")
            if name == "token":
                parser.add_argument("--label", default="", help="What the token is for.")
                parser.add_argument(
                    "--expires-in",
                    type=int,
                    metavar="DAYS",
                    default=None,
                    help="Days until the token stops working "
                    f"(default {settings.OFFICER_TOKEN_DAYS}, GOVREQ_OFFICER_TOKEN_DAYS).",
                )
            elif name in ("suspend", "authenticator-reset"):
                parser.add_argument("--reason", required=True)
        if name not in ("list", "tokens"):
            parser.add_argument("--as", dest="as_email", help="Act as this staff user.")

    def handle_add(self, **options: Any) -> None:
        officer = services.officer_add(
            actor=actor_for(options["as_email"], "cli"),
            agency=selectors.agency_get(options["agency"]),
            email=options["email"],
            name=options["name"],
            badge_number=options["badge"],
            lookalike_override=options["override_lookalike"],
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
        now = timezone.now()
        days = options["expires_in"]
        if days is not None and days < 1:
            raise CommandError("--expires-in must be at least 1 day", returncode=2)
        issued = api_token_issue(
            actor=actor_for(options["as_email"], "cli"),
            officer=selectors.officer_get_by_email(options["email"]),
            label=options["label"],
            expires_at=now + timedelta(days=days) if days is not None else None,
            now=now,
        )
        expires_at = issued.token.expires_at
        assert expires_at is not None  # an officer's token always expires
        self.stderr.write(
            f"New API token, expires {expires_at:%Y-%m-%d %H:%M} UTC (shown once; store it now):"
        )
        self.stdout.write(issued.secret)

    def handle_tokens(self, **options: Any) -> None:
        officer = selectors.officer_get_by_email(options["email"])
        self.stdout.write(f"{'PREFIX':12}  {'ISSUED':16}  {'EXPIRES':16}  {'REVOKED':16}  LABEL")
        for token in officer.tokens.order_by("created_at", "pk"):  # type: ignore[attr-defined]
            self.stdout.write(
                f"{token.prefix:12}  {_when(token.created_at)}  {_when(token.expires_at)}  "
                f"{_when(token.revoked_at)}  {token.label}"
            )

    def handle_suspend(self, **options: Any) -> None:
        officer = services.officer_suspend(
            actor=actor_for(options["as_email"], "cli"),
            officer=selectors.officer_get_by_email(options["email"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(f"Suspended officer {officer.email}; their tokens are revoked")

    def handle_authenticator_reset(self, **options: Any) -> None:
        officer = selectors.officer_get_by_email(options["email"])
        officer_totp_reset(
            actor=actor_for(options["as_email"], "cli"),
            officer=officer,
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(f"Reset the authenticator of {officer.email}")


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else f"{'—':16}"
