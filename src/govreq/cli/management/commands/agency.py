from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from govreq.agencies import selectors, services
from govreq.agencies.models import AgencyKind
from govreq.agencies.second_factor import agency_officer_totp_set
from govreq.cli.commands import GovreqCommand, actor_for
from govreq.lifecycle import rechecking


class Command(GovreqCommand):
    help = "Register, list, verify and suspend requesting agencies."
    subcommands = {
        "add": "Register an agency (it starts PENDING until verified).",
        "list": "List agencies.",
        "verify": "Record that the agency was verified as genuine, and how.",
        "suspend": "Suspend an agency: its officers' tokens stop working.",
        "domain-add": "Add an official e-mail domain to an agency.",
        "officer-totp": "Require (--require) or stop requiring (--waive) the agency's officers "
        "to confirm each portal sign-in with an authenticator app.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "add":
            parser.add_argument("--name", required=True)
            parser.add_argument("--jurisdiction", required=True, help="ISO 3166-1 code, e.g. HK")
            parser.add_argument("--kind", required=True, choices=AgencyKind.values)
            parser.add_argument(
                "--domain",
                action="append",
                required=True,
                dest="domains",
                help="An official e-mail domain; repeat for several.",
            )
            parser.add_argument(
                "--allow-subdomains",
                action="store_true",
                help="Accept officers at subdomains of the official domains.",
            )
            parser.add_argument("--json", action="store_true", dest="as_json")
        elif name == "list":
            parser.add_argument("--json", action="store_true", dest="as_json")
        elif name in ("verify", "suspend"):
            parser.add_argument("agency_id", type=int, metavar="ID")
            if name == "verify":
                parser.add_argument(
                    "--method",
                    default="verified by the operator on the command line",
                    help="How it was verified, e.g. 'call-back to the number in the national "
                    "police directory'.",
                )
            else:
                parser.add_argument("--reason", required=True)
        elif name == "officer-totp":
            parser.add_argument("agency_id", type=int, metavar="ID")
            choice = parser.add_mutually_exclusive_group(required=True)
            choice.add_argument("--require", action="store_true")
            choice.add_argument("--waive", action="store_true")
        if name == "domain-add":
            parser.add_argument("agency_id", type=int, metavar="ID")
            parser.add_argument("--domain", required=True)
        if name in ("add", "domain-add"):
            parser.add_argument(
                "--override-lookalike",
                default="",
                metavar="REASON",
                help="Add a domain that looks like another verified agency's anyway, saying why "
                "it is genuine (recorded and audited).",
            )
        if name != "list":
            parser.add_argument("--as", dest="as_email", help="Act as this staff user.")

    def handle_add(self, **options: Any) -> None:
        agency = services.agency_add(
            actor=actor_for(options["as_email"], "cli"),
            name=options["name"],
            jurisdiction_code=options["jurisdiction"],
            kind=options["kind"],
            domains=options["domains"],
            allow_subdomains=options["allow_subdomains"],
            lookalike_override=options["override_lookalike"],
            now=timezone.now(),
        )
        if options["as_json"]:
            self.print_json(_agency_json(selectors.agency_get(agency.pk), options["domains"]))
        else:
            self.stdout.write(f"Added agency {agency.pk}: {agency} ({agency.status})")

    def handle_domain_add(self, **options: Any) -> None:
        added = services.agency_domain_add(
            actor=actor_for(options["as_email"], "cli"),
            agency=selectors.agency_get(options["agency_id"]),
            domain=options["domain"],
            lookalike_override=options["override_lookalike"],
            now=timezone.now(),
        )
        self.stdout.write(f"Added domain {added.domain} to agency {added.agency_id}")

    def handle_list(self, **options: Any) -> None:
        agencies = selectors.agency_list()
        if options["as_json"]:
            self.print_json(
                [_agency_json(a, [d.domain for d in a.domains.all()]) for a in agencies]
            )
            return
        self.stdout.write(f"{'ID':>5}  {'JUR':3}  {'KIND':12}  {'STATUS':9}  {'OFFICERS':>8}  NAME")
        for agency in agencies:
            self.stdout.write(
                f"{agency.pk:>5}  {agency.jurisdiction_id:3}  {agency.kind:12}  "
                f"{agency.status:9}  {agency.officer_count:>8}  {agency.name}"  # type: ignore[attr-defined]
            )

    def handle_verify(self, **options: Any) -> None:
        agency = rechecking.agency_verify(
            actor=actor_for(options["as_email"], "cli"),
            agency=selectors.agency_get(options["agency_id"]),
            method=options["method"],
            now=timezone.now(),
        )
        self.stdout.write(f"Verified agency {agency.pk}: {agency}")

    def handle_suspend(self, **options: Any) -> None:
        agency = rechecking.agency_suspend(
            actor=actor_for(options["as_email"], "cli"),
            agency=selectors.agency_get(options["agency_id"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(f"Suspended agency {agency.pk}: {agency}")

    def handle_officer_totp(self, **options: Any) -> None:
        agency = agency_officer_totp_set(
            actor=actor_for(options["as_email"], "cli"),
            agency=selectors.agency_get(options["agency_id"]),
            required=options["require"],
            now=timezone.now(),
        )
        state = "requires" if agency.require_officer_totp else "no longer requires"
        self.stdout.write(f"Agency {agency.pk} {state} an authenticator app of its officers")


def _agency_json(agency: Any, domains: list[str]) -> dict[str, Any]:
    return {
        "id": agency.pk,
        "name": agency.name,
        "jurisdiction": agency.jurisdiction_id,
        "kind": agency.kind,
        "status": agency.status,
        "domains": sorted(d.lower() for d in domains),
        "allow_subdomains": agency.allow_subdomains,
        "require_officer_totp": agency.require_officer_totp,
        "verified_at": agency.verified_at.isoformat() if agency.verified_at else None,
    }
