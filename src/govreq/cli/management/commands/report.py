from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.cli.commands import GovreqCommand, actor_for
from govreq.core.errors import NotFound
from govreq.intake.models import RequestKind
from govreq.review.models import RejectionReason
from govreq.transparency import labels, services
from govreq.transparency.counting import NOTICE_DELAY_REASONS, OUTCOMES
from govreq.transparency.exports import FORMATS, Provenance
from govreq.transparency.periods import parse_period
from govreq.transparency.selectors import (
    jurisdiction_entry,
    published_report,
    report_draft,
    report_provenance,
)


def _pct(value: int | None) -> str:
    return "-" if value is None else f"{value}%"


class Command(GovreqCommand):
    help = "Transparency reports: show, export, publish (sign and freeze) and verify."
    subcommands = {
        "show": "Print a period's report as a table (the live draft unless --published).",
        "export": "Write a report in govreq's CSV or JSON, or in Meta's or Google's layout.",
        "publish": "Freeze and sign the period's report as a new version (policy admins).",
        "verify": "Check every published version of a period; exit 1 naming what is wrong.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        parser.add_argument("period", metavar="PERIOD", help="A half-year (2020-H2) or a year.")
        if name in ("show", "export"):
            source = parser.add_mutually_exclusive_group()
            if name == "show":
                source.add_argument(
                    "--published", action="store_true", help="The latest published version."
                )
            else:
                source.add_argument(
                    "--draft", action="store_true", help="The live numbers, not a published one."
                )
            source.add_argument("--version", type=int, help="This published version.")
        if name == "show":
            parser.add_argument("--jurisdiction", metavar="CODE", help="One jurisdiction in full.")
            parser.add_argument("--json", action="store_true", help="Print the report body.")
        elif name == "export":
            parser.add_argument("--format", required=True, choices=sorted(FORMATS))
            parser.add_argument("--out", required=True, metavar="FILE", help="'-' for stdout.")
        elif name == "publish":
            parser.add_argument(
                "--as", dest="as_email", required=True, help="The policy admin publishing it."
            )
            parser.add_argument("--note", default="", help="What a new version corrects.")
        elif name == "verify":
            parser.add_argument("--version", type=int, help="Only this version.")

    # --- show -----------------------------------------------------------------------------------

    def handle_show(self, **options: Any) -> None:
        period = parse_period(options["period"])
        if options["published"] or options["version"]:
            report = published_report(period, version=options["version"])
            body = report.body
            title = (
                f"Transparency report {period}, version {report.version}, published "
                f"{services.published_at_text(report)} (key {report.key_id})"
            )
        else:
            body = report_draft(period=period, now=timezone.now())
            title = f"Transparency report {period}: DRAFT computed now, as of {body['as_of']}"
        if options["json"]:
            entry = (
                jurisdiction_entry(body, options["jurisdiction"])
                if options["jurisdiction"]
                else body
            )
            self.print_json(entry)
            return
        self.stdout.write(title)
        if options["jurisdiction"]:
            self._show_jurisdiction(jurisdiction_entry(body, options["jurisdiction"]))
        else:
            self._show_all(body)

    def _show_all(self, body: dict[str, Any]) -> None:
        header = (
            f"{'Jurisdiction':<28}{'Requests':>9}{'Accounts':>9}{'Produced':>9}{'%':>6}"
            f"{'Legal':>8}{'Emerg.':>8}{'Preserv.':>9}{'Rejected':>9}{'Pending':>9}"
            f"{'(held)':>8}{'Gag':>6}"
        )
        self.stdout.write("")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for entry in [body["total"], *body["jurisdictions"]]:
            name = entry["name"] + (" [hold]" if entry["holds"] else "")
            self.stdout.write(
                f"{name[:27]:<28}{entry['requests']:>9}{entry['accounts']:>9}"
                f"{entry['data_produced']:>9}{_pct(entry['data_produced_percent']):>6}"
                f"{entry['legal_process']['requests']:>8}{entry['emergency']['requests']:>8}"
                f"{entry['preservation']['requests']:>9}{entry['outcomes']['REJECTED']:>9}"
                f"{entry['outcomes']['PENDING']:>9}{entry['pending_on_hold']:>8}"
                f"{_pct(entry['gag_order']['percent']):>6}"
            )
        self._show_holds([h for e in body["jurisdictions"] for h in e["holds"]])
        banded = [e for e in body["jurisdictions"] if e["national_security"]]
        if banded:
            self.stdout.write("")
            self.stdout.write("National-security process (published only in bands):")
            for entry in banded:
                security = entry["national_security"]
                self.stdout.write(
                    f"  {entry['name']}: {security['requests']} requests, "
                    f"{security['accounts']} accounts"
                )

    def _show_holds(self, holds: list[dict[str, Any]]) -> None:
        if not holds:
            return
        self.stdout.write("")
        self.stdout.write("Holds in force during the period:")
        for hold in holds:
            until = (
                f"until {hold['effective_to'][:10]}" if hold["effective_to"] else "still in force"
            )
            self.stdout.write(
                f"  {hold['jurisdiction']} from {hold['effective_from'][:10]} ({until}): "
                f"{hold['reason']}"
            )
            self.stdout.write(
                f"    received under the hold {hold['requests_received']}, put on hold "
                f"{hold['held_requests']}, still on hold at the end {hold['pending_on_hold']}, "
                f"data produced through its exceptions {hold['data_produced']}"
            )

    def _show_jurisdiction(self, entry: dict[str, Any]) -> None:
        write = self.stdout.write
        write(f"{entry['name']} ({entry['code']})")
        write("")
        write(f"{'':<34}{'Requests':>9}{'Accounts':>9}{'Produced':>9}{'%':>6}")
        rows = [
            ("Total", entry),
            ("Legal process", entry["legal_process"]),
            ("Emergency", entry["emergency"]),
        ] + [(f"  {labels.KINDS[kind]}", entry["by_kind"][kind]) for kind in RequestKind.values]
        for label, counts in rows:
            produced = counts.get("data_produced")
            write(
                f"{str(label)[:33]:<34}{counts['requests']:>9}{counts['accounts']:>9}"
                f"{'-' if produced is None else produced:>9}"
                f"{_pct(counts.get('data_produced_percent')):>6}"
            )
        write("")
        write("Outcomes:")
        for outcome in OUTCOMES:
            write(f"  {labels.OUTCOMES[outcome]!s:<40}{entry['outcomes'][outcome]:>8}")
        write(f"    {'of which on hold at the end':<38}{entry['pending_on_hold']:>8}")
        write("Rejection reasons (a request may give several):")
        for reason in RejectionReason.values:
            write(
                f"  {labels.REJECTION_REASONS[reason]!s:<40}{entry['rejection_reasons'][reason]:>8}"
            )
        write("Content:")
        for key, count in entry["content"].items():
            write(f"  {labels.CONTENT[key]!s:<40}{count:>8}")
        write(
            f"Preservation requests: {entry['preservation']['requests']} "
            f"({entry['preservation']['accounts']} accounts)"
        )
        write(
            f"With a gag order: {entry['gag_order']['requests']} "
            f"({_pct(entry['gag_order']['percent'])})"
        )
        write(f"On hold at some time in the period: {entry['held_requests']}")
        notices = entry.get("user_notices")  # none in a version published under rules 2
        if notices:
            write(
                f"User notices: {notices['given']} given in the period, "
                f"{notices['not_possible']} not possible, {notices['delayed']} delayed at the end"
                + "".join(
                    f"; {reason} {count}"
                    for reason in NOTICE_DELAY_REASONS
                    if (count := notices["delayed_by_reason"][reason])
                )
            )
            write(
                f"  accounts whose data was delivered: {notices['delivered_accounts']}, told by "
                f"the end {notices['delivered_accounts_told']} "
                f"({_pct(notices['delivered_accounts_told_percent'])})"
            )
        if entry["national_security"]:
            security = entry["national_security"]
            write(
                f"National-security process: {security['requests']} requests, "
                f"{security['accounts']} accounts (bands)"
            )
        self._show_holds(entry["holds"])

    # --- export ---------------------------------------------------------------------------------

    def handle_export(self, **options: Any) -> None:
        period = parse_period(options["period"])
        fmt = FORMATS[options["format"]]
        if options["draft"]:
            body = report_draft(period=period, now=timezone.now())
            provenance = Provenance()
        else:
            try:
                report = published_report(period, version=options["version"])
            except NotFound as error:
                raise NotFound(
                    f"{error.message} (use --draft for the live numbers)", code=error.code
                ) from None
            body, provenance = report.body, report_provenance(report)
        chunks = fmt.render(body, provenance)
        if options["out"] == "-":
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        with open(options["out"], "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
        what = f"version {provenance.version}" if provenance.version else "draft"
        self.stdout.write(f"Wrote the {period} report ({what}, {fmt.name}) to {options['out']}")

    # --- publish and verify ---------------------------------------------------------------------

    def handle_publish(self, **options: Any) -> None:
        actor = actor_for(options["as_email"], "report publish")
        report = services.report_publish(
            actor=actor, period=options["period"], note=options["note"], now=timezone.now()
        )
        total = report.body["total"]
        self.stdout.write(
            f"Published the {report.period} report, version {report.version}: "
            f"{total['requests']} requests from {len(report.body['jurisdictions'])} "
            f"jurisdictions; signed with key {report.key_id}; computed from audit event "
            f"#{report.audit_head_seq}"
        )
        if report.changes:
            self.stdout.write(f"{len(report.changes)} figures changed since the previous version")

    def handle_verify(self, **options: Any) -> None:
        results = services.report_verify(period=options["period"], version=options["version"])
        problems = [problem for result in results for problem in result.problems]
        for result in results:
            if result.ok:
                self.stdout.write(
                    f"{result.period} v{result.version}: OK (key {result.key_id}, audit event "
                    f"#{result.audit_head_seq})"
                )
        if problems:
            raise CommandError("report verification failed: " + "; ".join(problems))
