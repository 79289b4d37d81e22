from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from govreq.api.holds import hold_with_requests
from govreq.cli.commands import GovreqCommand, actor_for, hold_allowances, moment_for
from govreq.core.actors import Actor
from govreq.holds import selectors
from govreq.intake.models import OffenceCategory, RequestKind
from govreq.lifecycle import holding
from govreq.transparency.services import reports_correct_for_hold


def _refs(label: str, refs: list[str]) -> str:
    shown = ", ".join(refs[:50]) + (f" and {len(refs) - 50} more" if len(refs) > 50 else "")
    return f"  {label} ({len(refs)}): {shown or '-'}"


class Command(GovreqCommand):
    help = "Place, list and lift jurisdiction holds (a pause on disclosures to a jurisdiction)."
    subcommands = {
        "add": "Propose a hold (with a preview); it is placed when a second policy admin "
        "confirms it.",
        "lift": "Propose lifting a hold (with what it would release); a second admin confirms.",
        "void": "Propose voiding a hold placed by mistake; a second admin confirms.",
        "changes": "List hold changes waiting for confirmation.",
        "confirm": "Confirm another admin's proposed hold change: it happens now.",
        "cancel": "Cancel a proposed hold change.",
        "re-review": "Resolve a request's re-review flag: CONFIRMED or RETURNED to review.",
        "list": "List holds.",
        "show": "Show a hold, the requests it holds and those flagged for re-review.",
        "sync": "Release requests held by holds whose end date has passed (run from cron).",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "add":
            parser.add_argument("--jurisdiction", required=True, metavar="CODE")
            parser.add_argument(
                "--from",
                dest="effective_from",
                required=True,
                help="When it takes effect: '2020-06-30 23:00 Asia/Hong_Kong' or ISO 8601 with an "
                "offset (may lie in the past: approvals since are flagged).",
            )
            parser.add_argument("--to", dest="effective_to", help="Exclusive end (same forms).")
            parser.add_argument(
                "--received-from-start",
                action="store_true",
                help="Hold only requests received at or after --from, not every open request.",
            )
            parser.add_argument("--reason", required=True, help="The public reason.")
            parser.add_argument(
                "--reason-zh-hant", default="", help="The public reason in Traditional Chinese."
            )
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
        elif name in ("show", "lift", "void"):
            parser.add_argument("hold_id", type=int, metavar="ID")
            if name in ("lift", "void"):
                parser.add_argument("--reason", required=True)
        elif name in ("confirm", "cancel"):
            parser.add_argument("change_id", type=int, metavar="CHANGE")
        elif name == "re-review":
            parser.add_argument("reference", metavar="REFERENCE")
            parser.add_argument("--resolution", required=True, choices=["CONFIRMED", "RETURNED"])
            parser.add_argument("--reason", required=True)
        if name in ("add", "lift", "void", "confirm", "cancel", "sync", "re-review"):
            parser.add_argument("--as", dest="as_email", help="Act as this staff user.")

    def handle_add(self, **options: Any) -> None:
        allow_emergency, allow_offences = hold_allowances(options["allow"])
        jurisdiction = options["jurisdiction"]
        effective_from = moment_for(options["effective_from"], "effective_from", jurisdiction)
        assert effective_from is not None
        change = holding.hold_propose(
            actor=actor_for(options["as_email"], "cli"),
            jurisdiction_code=jurisdiction,
            effective_from=effective_from,
            effective_to=moment_for(options["effective_to"], "effective_to", jurisdiction),
            received_from_start=options["received_from_start"],
            reason=options["reason"],
            reason_zh_hant=options["reason_zh_hant"],
            review_notes=options["notes"],
            scope_kinds=options["kind"],
            scope_offences=options["offence"],
            scope_agencies=options["agency"],
            scope_legal_basis=options["legal_basis"],
            allow_emergency=allow_emergency,
            allow_offences=allow_offences,
            now=timezone.now(),
        )
        preview = change.preview
        self.stdout.write(
            f"Proposed hold change {change.pk}: a hold on {change.terms['jurisdiction_code']} "
            f"from {effective_from:%Y-%m-%d %H:%M} UTC. It takes effect when another policy admin "
            f"confirms it: govreq hold confirm {change.pk} --as ADMIN"
        )
        self.stdout.write("If confirmed now it would:")
        self.stdout.write(_refs("put on hold", preview["would_hold"]))
        self.stdout.write(_refs("let through under its exception", preview["excepted"]))
        self.stdout.write(_refs("flag for re-review (approved since)", preview["would_flag"]))
        before = preview["received_before_start"]
        if options["received_from_start"]:
            self.stdout.write(_refs("leave alone (received before its start)", before))
        else:
            self.stdout.write(
                _refs(
                    "include, though received before its start (--received-from-start "
                    "would leave them)",
                    before,
                )
            )

    def handle_lift(self, **options: Any) -> None:
        change = holding.hold_lift_propose(
            actor=actor_for(options["as_email"], "cli"),
            hold=selectors.hold_get(options["hold_id"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(
            f"Proposed hold change {change.pk}: lift hold {change.hold_id}. Another policy admin "
            f"confirms it: govreq hold confirm {change.pk} --as ADMIN"
        )
        self.stdout.write(_refs("it would release", change.preview["would_release"]))

    def handle_void(self, **options: Any) -> None:
        change = holding.hold_void_propose(
            actor=actor_for(options["as_email"], "cli"),
            hold=selectors.hold_get(options["hold_id"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(
            f"Proposed hold change {change.pk}: void hold {change.hold_id} (it will count "
            "nowhere). Another policy admin confirms it: "
            f"govreq hold confirm {change.pk} --as ADMIN"
        )
        self.stdout.write(_refs("it would release", change.preview["would_release"]))
        self.stdout.write(_refs("re-review flags lapsing", change.preview["flags_lapsing"]))

    def handle_changes(self, **options: Any) -> None:
        for change in selectors.hold_changes_pending():
            who = change.proposed_by.email if change.proposed_by else "system"
            what = change.hold_id or change.terms.get("jurisdiction_code")
            self.stdout.write(
                f"{change.pk:>4}  {change.kind:5}  {what}  proposed by {who} at "
                f"{change.proposed_at:%Y-%m-%d %H:%M} UTC  {change.reason}"
            )

    def handle_confirm(self, **options: Any) -> None:
        actor = actor_for(options["as_email"], "cli")
        result = holding.hold_change_confirm(
            actor=actor,
            change=selectors.hold_change_get(options["change_id"]),
            now=timezone.now(),
        )
        if not isinstance(result, holding.HoldLifted):
            for report in reports_correct_for_hold(
                actor=actor, hold=result.hold, now=timezone.now()
            ):
                self.stdout.write(
                    f"Corrected the published {report.period} report: version {report.version}"
                )
        if isinstance(result, holding.HoldPlaced):
            hold = result.hold
            self.stdout.write(
                f"Placed hold {hold.pk} on {hold.jurisdiction_id} from "
                f"{hold.effective_from:%Y-%m-%d %H:%M} UTC: {len(result.put_on_hold)} open "
                "request(s) put on hold"
            )
            if result.put_on_hold:
                self.stdout.write("  on hold: " + ", ".join(result.put_on_hold))
            if result.excepted:
                self.stdout.write(
                    f"  {len(result.excepted)} proceed under its exception (human-rights "
                    "approval needed): " + ", ".join(result.excepted)
                )
            if result.flagged:
                self.stdout.write(
                    f"  {len(result.flagged)} approved since its start, flagged for re-review: "
                    + ", ".join(result.flagged)
                )
        else:
            verb = "Lifted" if isinstance(result, holding.HoldLifted) else "Voided"
            self.stdout.write(
                f"{verb} hold {result.hold.pk}: {len(result.released)} request(s) returned to "
                "where they were" + (": " + ", ".join(result.released) if result.released else "")
            )

    def handle_cancel(self, **options: Any) -> None:
        change = holding.hold_change_cancel(
            actor=actor_for(options["as_email"], "cli"),
            change=selectors.hold_change_get(options["change_id"]),
            now=timezone.now(),
        )
        self.stdout.write(f"Cancelled hold change {change.pk}")

    def handle_re_review(self, **options: Any) -> None:
        flag = selectors.re_review_open_for(options["reference"])
        flag = holding.re_review_resolve(
            actor=actor_for(options["as_email"], "cli"),
            flag=flag,
            resolution=options["resolution"],
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(
            f"{flag.request.reference}: re-review under hold {flag.hold_id} resolved "
            f"({flag.resolution})"
        )

    def handle_list(self, **options: Any) -> None:
        holds = selectors.hold_list(jurisdiction=options["jurisdiction"])[:500]
        self.stdout.write(f"{'ID':>4}  {'JUR':3}  {'FROM':10}  {'TO':10}  {'STATE':8}  REASON")
        now = timezone.now()
        for hold in holds:
            ended = hold.effective_to is not None and hold.effective_to <= now
            state = (
                "voided"
                if hold.voided_at
                else "lifted"
                if hold.lifted_at
                else ("ended" if ended else "active")
            )
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
            "voided_at",
            "void_reason",
        ):
            self.stdout.write(f"{key + ':':20} {detail[key]}")
        self.stdout.write(f"On hold ({len(detail['on_hold'])}):")
        for row in detail["on_hold"]:
            self.stdout.write(f"  {row['reference']}  {row['kind']}  {row['offence_category']}")
        self.stdout.write(f"Flagged for re-review ({len(detail['re_reviews'])}):")
        for row in detail["re_reviews"]:
            self.stdout.write(f"  {row['reference']}  {row['status']}")

    def handle_sync(self, **options: Any) -> None:
        actor: Actor = actor_for(options["as_email"], "hold sync")
        released = holding.holds_release_expired(actor=actor, now=timezone.now())
        self.stdout.write(f"Released {len(released)} request(s) from ended holds")
