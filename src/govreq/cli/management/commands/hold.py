from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from govreq.api.holds import hold_with_requests
from govreq.cli.commands import GovreqCommand, actor_for
from govreq.core.actors import Actor
from govreq.core.errors import ValidationFailed
from govreq.holds import selectors
from govreq.intake.models import OffenceCategory, RequestKind
from govreq.lifecycle import holding


def moment(value: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 date-time with a time zone."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date or ISO 8601 date-time") from None
    if len(value) == 10:
        return parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2020-06-30T23:00:00+08:00")
    return parsed


class Command(GovreqCommand):
    help = "Place, list and lift jurisdiction holds (a pause on disclosures to a jurisdiction)."
    subcommands = {
        "add": "Place a hold; open requests in scope go ON_HOLD at once.",
        "list": "List holds.",
        "show": "Show a hold, the requests it holds and those flagged for re-review.",
        "lift": "Lift a hold: each request returns to where it was, and is checked again.",
        "sync": "Release requests held by holds whose end date has passed (run from cron).",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "add":
            parser.add_argument("--jurisdiction", required=True, metavar="CODE")
            parser.add_argument(
                "--from",
                dest="effective_from",
                type=moment,
                required=True,
                help="When it takes effect (may lie in the past: approvals since are flagged).",
            )
            parser.add_argument("--to", dest="effective_to", type=moment, help="Exclusive end.")
            parser.add_argument("--reason", required=True, help="The public reason.")
            parser.add_argument("--notes", default="", help="Human-rights due-diligence record.")
            parser.add_argument(
                "--allow",
                action="append",
                default=[],
                metavar="EMERGENCY|OFFENCE",
                help="Let EMERGENCY requests or an offence category proceed, with a "
                "human-rights officer's approval. Repeat for several.",
            )
            parser.add_argument("--kind", action="append", default=[], choices=RequestKind.values)
            parser.add_argument(
                "--offence", action="append", default=[], choices=OffenceCategory.values
            )
            parser.add_argument("--agency", action="append", default=[], type=int, metavar="ID")
            parser.add_argument("--legal-basis", default="", help="Only requests citing this.")
        elif name == "list":
            parser.add_argument("--jurisdiction", metavar="CODE")
        elif name in ("show", "lift"):
            parser.add_argument("hold_id", type=int, metavar="ID")
            if name == "lift":
                parser.add_argument("--reason", required=True)
        if name in ("add", "lift", "sync"):
            parser.add_argument("--as", dest="as_email", help="Act as this policy admin.")

    def handle_add(self, **options: Any) -> None:
        allow_emergency = False
        allow_offences: list[str] = []
        for index, value in enumerate(options["allow"]):
            allowed = value.strip().upper()
            if allowed == "EMERGENCY":
                allow_emergency = True
            elif allowed in OffenceCategory.values:
                allow_offences.append(allowed)
            else:
                raise ValidationFailed.single(
                    f"allow[{index}]", f"{value!r} is neither EMERGENCY nor an offence category"
                )
        placed = holding.hold_place(
            actor=actor_for(options["as_email"], "cli"),
            jurisdiction_code=options["jurisdiction"],
            effective_from=options["effective_from"],
            effective_to=options["effective_to"],
            reason=options["reason"],
            review_notes=options["notes"],
            scope_kinds=options["kind"],
            scope_offences=options["offence"],
            scope_agencies=options["agency"],
            scope_legal_basis=options["legal_basis"],
            allow_emergency=allow_emergency,
            allow_offences=allow_offences,
            now=timezone.now(),
        )
        hold = placed.hold
        self.stdout.write(
            f"Placed hold {hold.pk} on {hold.jurisdiction_id} from {hold.effective_from:%Y-%m-%d}: "
            f"{len(placed.put_on_hold)} open request(s) put on hold"
        )
        if placed.put_on_hold:
            self.stdout.write("  on hold: " + ", ".join(placed.put_on_hold))
        if placed.excepted:
            self.stdout.write(
                f"  {len(placed.excepted)} proceed under its exception (human-rights approval "
                "needed): " + ", ".join(placed.excepted)
            )
        if placed.flagged:
            self.stdout.write(
                f"  {len(placed.flagged)} approved since {hold.effective_from:%Y-%m-%d}, flagged "
                "for re-review: " + ", ".join(placed.flagged)
            )

    def handle_list(self, **options: Any) -> None:
        holds = selectors.hold_list(jurisdiction=options["jurisdiction"])[:500]
        self.stdout.write(f"{'ID':>4}  {'JUR':3}  {'FROM':10}  {'TO':10}  {'STATE':8}  REASON")
        now = timezone.now()
        for hold in holds:
            ended = hold.effective_to is not None and hold.effective_to <= now
            state = "lifted" if hold.lifted_at else ("ended" if ended else "active")
            until = f"{hold.effective_to:%Y-%m-%d}" if hold.effective_to else "-"
            self.stdout.write(
                f"{hold.pk:>4}  {hold.jurisdiction_id:3}  {hold.effective_from:%Y-%m-%d}  "
                f"{until:10}  {state:8}  {hold.reason}"
            )

    def handle_show(self, **options: Any) -> None:
        detail = hold_with_requests(selectors.hold_get(options["hold_id"]))
        for key in (
            "id",
            "jurisdiction_id",
            "effective_from",
            "effective_to",
            "reason",
            "review_notes",
            "scope_kinds",
            "scope_offences",
            "scope_agencies",
            "scope_legal_basis",
            "allow_emergency",
            "allow_offences",
            "lifted_at",
            "lift_reason",
        ):
            self.stdout.write(f"{key + ':':20} {detail[key]}")
        self.stdout.write(f"On hold ({len(detail['on_hold'])}):")
        for row in detail["on_hold"]:
            self.stdout.write(f"  {row['reference']}  {row['kind']}  {row['offence_category']}")
        self.stdout.write(f"Flagged for re-review ({len(detail['re_reviews'])}):")
        for row in detail["re_reviews"]:
            self.stdout.write(f"  {row['reference']}  {row['status']}")

    def handle_lift(self, **options: Any) -> None:
        lifted = holding.hold_lift(
            actor=actor_for(options["as_email"], "cli"),
            hold=selectors.hold_get(options["hold_id"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(
            f"Lifted hold {lifted.hold.pk}: {len(lifted.released)} request(s) returned to review"
            + (": " + ", ".join(lifted.released) if lifted.released else "")
        )

    def handle_sync(self, **options: Any) -> None:
        actor: Actor = actor_for(options["as_email"], "hold sync")
        released = holding.holds_release_expired(actor=actor, now=timezone.now())
        self.stdout.write(f"Released {len(released)} request(s) from ended holds")
