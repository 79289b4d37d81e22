"""Shared plumbing for govreq's CLI commands: domain errors become one line on stderr."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govreq.accounts.models import User
from govreq.core.actors import Actor
from govreq.core.errors import DomainError, ValidationFailed
from govreq.core.moments import MomentError, parse_moment
from govreq.intake.models import OffenceCategory
from govreq.jurisdictions.zones import jurisdiction_zone


class GovreqCommand(BaseCommand):
    """A command with subcommands (``govreq agency add ...``).

    Subclasses define ``subcommands`` (name -> help) and ``add_subcommand_arguments``, and a method
    ``handle_<name>`` for each. Domain errors print ``govreq: <message>`` on stderr and exit 1.
    """

    subcommands: dict[str, str] = {}
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, help_text in self.subcommands.items():
            subparser = sub.add_parser(name, help=help_text, description=help_text)
            self.add_subcommand_arguments(name, subparser)

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        """Override to add each subcommand's arguments."""

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, "handle_" + options["subcommand"].replace("-", "_"))
        try:
            handler(**options)
        except DomainError as error:
            raise CommandError(error.message, returncode=exit_code(error)) from error

    def print_json(self, value: Any) -> None:
        self.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


def moment_argument(value: str) -> datetime:
    """An argparse type for a moment: the one parser every interface uses (core.moments)."""
    try:
        return parse_moment(value)
    except MomentError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def moment_for(value: str | None, field: str, jurisdiction: str) -> datetime | None:
    """Read a typed moment; a bare date is refused showing its reading in UTC and in the
    jurisdiction's own zone."""
    if value is None:
        return None
    try:
        return parse_moment(value, zone_hint=jurisdiction_zone(jurisdiction))
    except MomentError as error:
        raise ValidationFailed.single(field, str(error)) from None


def hold_allowances(values: list[str]) -> tuple[bool, list[str]]:
    """``--allow EMERGENCY`` and ``--allow OFFENCE``: what a hold lets through."""
    allow_emergency = False
    offences: list[str] = []
    for index, value in enumerate(values):
        allowed = value.strip().upper()
        if allowed == "EMERGENCY":
            allow_emergency = True
        elif allowed in OffenceCategory.values:
            offences.append(allowed)
        else:
            raise ValidationFailed.single(
                f"allow[{index}]", f"{value!r} is neither EMERGENCY nor an offence category"
            )
    return allow_emergency, offences


def exit_code(error: DomainError) -> int:
    # 1: refused or invalid; 2 is argparse's usage error; 3: not found.
    return 3 if error.http_status == 404 else 1


def actor_for(as_email: str | None, label: str) -> Actor:
    """The staff user named by --as, or the system acting for the operator at the console."""
    if not as_email:
        return Actor.system(label)
    user = User.objects.filter(email=as_email.strip().lower(), is_active=True).first()
    if user is None:
        raise CommandError(f"no active staff user with e-mail {as_email}")
    return Actor.for_user(user)
