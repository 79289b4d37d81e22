from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from govreq.agencies.models import ContactKind
from govreq.agencies.selectors import agency_get
from govreq.api.agencies import agency_trust
from govreq.cli.commands import GovreqCommand, actor_for
from govreq.lifecycle import trusting


class Command(GovreqCommand):
    help = "Trust in agencies: confidence with its reasons, verified numbers, re-verification."
    subcommands = {
        "show": "An agency's confidence, verified contact numbers, fraud flags, follow-ups owed.",
        "contact-add": "Record a number from an official directory (the only numbers a call-back "
        "may use).",
        "reverify": "Record that the agency was verified again, and how.",
        "sweep": "Run the worker's trust job now (follow-ups missed, scores, re-verification).",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name != "sweep":
            parser.add_argument("agency_id", type=int, metavar="AGENCY_ID")
        if name == "show":
            parser.add_argument("--json", action="store_true", dest="as_json")
        if name == "contact-add":
            parser.add_argument("--kind", choices=ContactKind.values, default="SWITCHBOARD")
            parser.add_argument("--phone", required=True, help="International form, +852...")
            parser.add_argument(
                "--directory", required=True, help="The official directory it comes from."
            )
            parser.add_argument("--url", default="", help="Where the directory is published.")
            parser.add_argument("--label", default="")
        if name == "reverify":
            parser.add_argument("--method", required=True, help="How it was verified again.")
        if name in ("contact-add", "reverify", "sweep"):
            parser.add_argument("--as", dest="as_email", help="The staff member acting.")

    def handle_show(self, **options: Any) -> None:
        trust = agency_trust(agency_get(options["agency_id"]))
        if options["as_json"]:
            self.stdout.write(json.dumps(trust, indent=2, ensure_ascii=False, default=str))
            return
        confidence = trust["confidence"]
        self.stdout.write(
            f"{trust['name']} ({trust['jurisdiction']}): confidence {confidence['score']} "
            f"({confidence['level']})"
        )
        for reason in confidence["reasons"]:
            self.stdout.write(f"  {reason['points']:+4d}  {reason['text']}")
        self.stdout.write("Verified contact numbers:")
        for contact in trust["contacts"]:
            self.stdout.write(
                f"  #{contact['id']:<4} {contact['kind']:12} {contact['phone']:18} "
                f"{contact['directory']} (verified by {contact['verified_by']})"
            )
        if not trust["contacts"]:
            self.stdout.write("  none: no call-back is possible until one is recorded")
        for flag in trust["fraud_flags"]:
            self.stdout.write(
                f"Fraud flag {flag['raised_at']:%Y-%m-%d}: {flag['kind']} "
                f"{flag['request_reference']} {flag['note']}"
            )
        if trust["follow_ups_owed"]:
            self.stdout.write("Legal process owed for: " + ", ".join(trust["follow_ups_owed"]))

    def handle_contact_add(self, **options: Any) -> None:
        contact = trusting.agency_contact_verify(
            actor=actor_for(options["as_email"], "cli"),
            agency=agency_get(options["agency_id"]),
            kind=options["kind"],
            phone=options["phone"],
            directory=options["directory"],
            directory_url=options["url"],
            label=options["label"],
            now=timezone.now(),
        )
        self.stdout.write(f"Contact #{contact.pk} {contact.phone} recorded")

    def handle_reverify(self, **options: Any) -> None:
        agency = trusting.agency_verify_again(
            actor=actor_for(options["as_email"], "cli"),
            agency=agency_get(options["agency_id"]),
            method=options["method"],
            now=timezone.now(),
        )
        self.stdout.write(f"{agency.name} verified again on {agency.verified_at:%Y-%m-%d}")

    def handle_sweep(self, **options: Any) -> None:
        swept = trusting.trust_sweep(
            actor=actor_for(options["as_email"], "trust sweep"), now=timezone.now()
        )
        self.stdout.write(
            f"{len(swept.missed)} follow-up(s) missed, {len(swept.reverify)} due for "
            f"re-verification, {swept.refreshed} score(s) computed"
        )
