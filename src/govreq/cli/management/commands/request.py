from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pydantic
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.agencies.selectors import officer_get_by_email
from govreq.api.staff_requests import StaffRequestOut, staff_request_detail
from govreq.cli.commands import GovreqCommand, actor_for, moment_argument
from govreq.core.actors import Actor
from govreq.core.errors import pydantic_errors
from govreq.intake import selectors
from govreq.intake.models import Channel, DataCategory, RequestStatus
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle import document_reading, receiving, reviewing, trusting
from govreq.review import services as review
from govreq.review.checks import SEVERITY
from govreq.review.models import (
    ApprovalKind,
    AssessmentConclusion,
    CallBackOutcome,
    DecisionOutcome,
    RejectionReason,
)
from govreq.review.selectors import review_record

LIST_LIMIT_MAX = 1000


def request_json(request: Any) -> dict[str, Any]:
    """The stable JSON form of a request: the object GET /api/v1/staff/requests/{id} returns."""
    record = review_record(request, now=timezone.now())
    return StaffRequestOut.model_validate(staff_request_detail(record)).model_dump(mode="json")


class Command(GovreqCommand):
    help = "Submit, list, show and withdraw requests."
    subcommands = {
        "submit": "Key in a request that arrived by post or e-mail (same JSON as the API).",
        "list": "List requests, newest first.",
        "show": "Show one request by its reference.",
        "withdraw": "Withdraw a request on the agency's behalf.",
        "review": "Start reviewing a received request.",
        "escalate": "Send a request to the human-rights officer.",
        "clarify": "Ask the agency a question (the request waits for the answer).",
        "decide": "Decide: FULL, PARTIAL, REJECTED, NO_DATA, or PRESERVE (preservation requests).",
        "approve": "Approve the current disclosure decision (four eyes).",
        "return": "Send a request back to review (its current decision lapses).",
        "close": "Close an approved request after its disclosure was delivered.",
        "checks": "Run the legitimacy checks again and print them.",
        "call-back": "Record a call-back to the agency on one of its verified numbers.",
        "follow-up": "Link the legal process that followed an emergency disclosure.",
        "read-documents": "Read the text of a request's documents again, now, and check it.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "submit":
            parser.add_argument("file", metavar="FILE.json", type=Path)
            parser.add_argument("--officer", required=True, metavar="EMAIL")
            parser.add_argument(
                "--received-at",
                type=moment_argument,
                help="When the platform received it: ISO 8601 with an offset, or "
                "'YYYY-MM-DD HH:MM Area/City'; default now.",
            )
            parser.add_argument("--as", dest="as_email", help="The staff user keying it in.")
            parser.add_argument("--json", action="store_true", dest="as_json")
        elif name == "list":
            parser.add_argument("--jurisdiction", metavar="CODE")
            parser.add_argument("--status", action="append", choices=RequestStatus.values)
            parser.add_argument("--kind")
            parser.add_argument("--limit", type=int, default=100)
            parser.add_argument("--json", action="store_true", dest="as_json")
        elif name == "show":
            parser.add_argument("reference", metavar="REF")
            parser.add_argument("--json", action="store_true", dest="as_json")
        elif name == "withdraw":
            parser.add_argument("reference", metavar="REF")
            parser.add_argument("--reason", required=True)
            parser.add_argument("--as", dest="as_email", help="Act as this staff user.")
        elif name == "read-documents":
            parser.add_argument("reference", metavar="REF")
            parser.add_argument(
                "--as", dest="as_email", help="The staff member acting (default: the operator)."
            )
        else:
            parser.add_argument("reference", metavar="REF")
            parser.add_argument(
                "--as",
                dest="as_email",
                required=True,
                metavar="EMAIL",
                help="The staff member acting.",
            )
            if name in ("escalate", "return", "close"):
                parser.add_argument("--reason", required=name != "close", default="")
            elif name == "clarify":
                parser.add_argument("--question", required=True)
            elif name == "decide":
                parser.add_argument("--outcome", required=True, choices=DecisionOutcome.values)
                parser.add_argument("--rationale", help="Why (default: decided on the CLI).")
                parser.add_argument(
                    "--reject-reason",
                    action="append",
                    default=[],
                    choices=RejectionReason.values,
                    dest="reasons",
                )
                parser.add_argument(
                    "--target-id",
                    action="append",
                    default=[],
                    type=int,
                    dest="target_ids",
                    help="PARTIAL: a target to disclose.",
                )
                parser.add_argument(
                    "--category",
                    action="append",
                    default=[],
                    choices=DataCategory.values,
                    dest="categories",
                    help="PARTIAL: a data category to disclose.",
                )
                parser.add_argument(
                    "--from",
                    dest="approved_from",
                    type=date.fromisoformat,
                    help="PARTIAL: the first day to disclose (within the requested range).",
                )
                parser.add_argument(
                    "--to",
                    dest="approved_to",
                    type=date.fromisoformat,
                    help="PARTIAL: the last day to disclose.",
                )
                parser.add_argument("--letter", default="", help="Letter to the agency.")
            elif name == "approve":
                parser.add_argument("--kind", choices=ApprovalKind.values)
                parser.add_argument("--note", default="")
                # The human-rights officer's approval carries their assessment.
                parser.add_argument(
                    "--risk-found", default="", help="HUMAN_RIGHTS: the risk found."
                )
                parser.add_argument(
                    "--standards", default="", help="HUMAN_RIGHTS: the standards applied."
                )
                parser.add_argument(
                    "--conclusion",
                    default="",
                    choices=["", *AssessmentConclusion.values],
                    help="HUMAN_RIGHTS: the conclusion (RISK_MITIGATED needs --conditions).",
                )
                parser.add_argument("--conditions", default="", help="HUMAN_RIGHTS: conditions.")
            elif name == "call-back":
                parser.add_argument(
                    "--contact",
                    type=int,
                    required=True,
                    metavar="ID",
                    help="The verified contact dialled (govreq trust show AGENCY lists them).",
                )
                parser.add_argument("--outcome", required=True, choices=CallBackOutcome.values)
                parser.add_argument("--person", default="", help="Who answered at the agency.")
                parser.add_argument("--notes", default="")
                parser.add_argument(
                    "--at", type=moment_argument, help="When the call was made; default now."
                )
            elif name == "follow-up":
                parser.add_argument("follow_up", metavar="FOLLOW_UP_REF")

    def handle_submit(self, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: not valid JSON ({error})") from None
        try:
            submission = RequestSubmission.model_validate(data)
        except pydantic.ValidationError as error:
            raise pydantic_errors(error.errors()) from None
        officer = officer_get_by_email(options["officer"])
        actor: Actor = actor_for(options["as_email"], "cli")
        result = receiving.request_submit(
            actor=actor,
            officer=officer,
            submission=submission,
            channel=Channel.STAFF,
            now=timezone.now(),
            received_at=options["received_at"],
        )
        request = selectors.request_get_by_reference(result.request.reference)
        if options["as_json"]:
            self.print_json(request_json(request))
        else:
            self.stdout.write(
                f"Received {request.reference} ({request.public_id}): {request.status}"
            )

    def handle_list(self, **options: Any) -> None:
        limit = max(1, min(options["limit"], LIST_LIMIT_MAX))
        requests = selectors.request_list(
            jurisdiction=options["jurisdiction"],
            statuses=options["status"],
            kind=options["kind"],
        )[:limit]
        if options["as_json"]:
            self.print_json(
                [
                    {
                        "id": str(r.public_id),
                        "reference": r.reference,
                        "status": r.status,
                        "kind": r.kind,
                        "jurisdiction": r.jurisdiction_id,
                        "agency": r.agency.name,
                        "received_at": r.received_at.isoformat(),
                        "target_count": r.target_count,  # type: ignore[attr-defined]
                    }
                    for r in requests
                ]
            )
            return
        self.stdout.write(
            f"{'REFERENCE':16}  {'RECEIVED':10}  {'JUR':3}  {'KIND':14}  {'STATUS':19}  AGENCY"
        )
        for r in requests:
            self.stdout.write(
                f"{r.reference:16}  {r.received_at:%Y-%m-%d}  {r.jurisdiction_id:3}  "
                f"{r.kind:14}  {r.status:19}  {r.agency.name}"
            )

    def handle_show(self, **options: Any) -> None:
        request = selectors.request_get_by_reference(options["reference"])
        if options["as_json"]:
            self.print_json(request_json(request))
            return
        rows = [
            ("Reference", request.reference),
            ("Id", str(request.public_id)),
            ("Status", request.status),
            ("Agency", f"{request.agency.name} ({request.jurisdiction_id})"),
            ("Officer", request.officer.email),
            ("Received", request.received_at.isoformat()),
            ("Kind", request.kind),
            ("Legal basis", request.legal_basis or "-"),
            ("Offence", request.offence_category),
            ("Data wanted", ", ".join(request.data_categories)),
            (
                "Date range",
                f"{request.data_from} to {request.data_to}" if request.data_from else "-",
            ),
            ("Deadline", request.deadline_at.isoformat() if request.deadline_at else "-"),
            (
                "Gag order",
                f"until {request.gag_expires_on} ({request.gag_legal_basis or 'no basis stated'})"
                if request.gag_order
                else "none",
            ),
            ("Narrative", request.narrative),
        ]
        for label, value in rows:
            self.stdout.write(f"{label + ':':13} {value}")
        self.stdout.write("Targets:")
        for target in request.targets.all():
            self.stdout.write(f"  {target.type:10}  {target.value}")
        self.stdout.write("Documents:")
        for document in request.documents.all():
            self.stdout.write(
                f"  {document.original_name}  {document.media_type}  {document.size_bytes} B  "
                f"sha256:{document.sha256}"
            )
        record = review_record(request, now=timezone.now())
        self.stdout.write("Checks:")
        for result in record.results:
            self.stdout.write(f"  {result.outcome:5}  {result.code:22}  {result.message}")
        for decision in record.decisions[:1]:
            self.stdout.write(
                f"Decision:     {decision.outcome} by "
                f"{decision.decided_by.email if decision.decided_by else '-'}"
                f"{' (superseded)' if decision.superseded_at else ''}: {decision.rationale}"
            )
            for approval in decision.approvals.all():
                self.stdout.write(f"  approved ({approval.kind}) by {approval.approver.email}")
        for hold in record.holds:
            state = "lets it through by exception" if hold.excepted else "holds it"
            self.stdout.write(f"Hold #{hold.hold.id} {state}: {hold.hold.reason}")
        self.stdout.write("History:")
        for change in request.status_changes.all():
            self.stdout.write(
                f"  {change.occurred_at:%Y-%m-%d %H:%M}  {change.from_status or '-'} -> "
                f"{change.to_status}  {change.actor_label}  {change.reason}"
            )

    def handle_withdraw(self, **options: Any) -> None:
        request = receiving.request_withdraw(
            actor=actor_for(options["as_email"], "cli"),
            request=selectors.request_get_by_reference(options["reference"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(f"{request.reference} is now {request.status}")

    def _staff(self, options: dict[str, Any]) -> tuple[Actor, Any]:
        return (
            actor_for(options["as_email"], "cli"),
            selectors.request_get_by_reference(options["reference"]),
        )

    def _done(self, request: Any) -> None:
        request.refresh_from_db()
        self.stdout.write(f"{request.reference} is now {request.status}")

    def handle_call_back(self, **options: Any) -> None:
        actor, request = self._staff(options)
        now = timezone.now()
        call = reviewing.call_back(
            actor=actor,
            request=request,
            contact_id=options["contact"],
            called_at=options["at"] or now,
            outcome=options["outcome"],
            person_reached=options["person"],
            notes=options["notes"],
            now=now,
        )
        self.stdout.write(f"Call-back to {call.phone} recorded: {call.outcome}")
        self._done(request)

    def handle_follow_up(self, **options: Any) -> None:
        actor, request = self._staff(options)
        obligation = trusting.follow_up_link(
            actor=actor,
            emergency=request,
            follow_up=selectors.request_get_by_reference(options["follow_up"]),
            now=timezone.now(),
        )
        self.stdout.write(
            f"{request.reference}: legal process received as {obligation.fulfilled_by}"
        )

    def handle_review(self, **options: Any) -> None:
        actor, request = self._staff(options)
        reviewing.request_start_review(actor=actor, request=request, now=timezone.now())
        self._done(request)

    def handle_escalate(self, **options: Any) -> None:
        actor, request = self._staff(options)
        reviewing.request_escalate(
            actor=actor, request=request, reason=options["reason"], now=timezone.now()
        )
        self._done(request)

    def handle_return(self, **options: Any) -> None:
        actor, request = self._staff(options)
        reviewing.request_return_to_review(
            actor=actor, request=request, reason=options["reason"], now=timezone.now()
        )
        self._done(request)

    def handle_clarify(self, **options: Any) -> None:
        actor, request = self._staff(options)
        reviewing.clarification_ask(
            actor=actor, request=request, question=options["question"], now=timezone.now()
        )
        self._done(request)

    def handle_decide(self, **options: Any) -> None:
        actor, request = self._staff(options)
        reviewing.decision_make(
            actor=actor,
            request=request,
            outcome=options["outcome"],
            rationale=options["rationale"] or f"Decided on the command line by {actor.label}",
            rejection_reasons=options["reasons"],
            approved_target_ids=options["target_ids"],
            approved_categories=options["categories"],
            approved_from=options["approved_from"],
            approved_to=options["approved_to"],
            letter=options["letter"],
            now=timezone.now(),
        )
        self._done(request)

    def handle_approve(self, **options: Any) -> None:
        actor, request = self._staff(options)
        approval = reviewing.approval_give(
            actor=actor,
            request=request,
            kind=options["kind"],
            note=options["note"],
            assessment={
                "risk_found": options["risk_found"],
                "standards_applied": options["standards"],
                "conclusion": options["conclusion"],
                "conditions": options["conditions"],
            }
            if options["conclusion"] or options["risk_found"] or options["standards"]
            else None,
            now=timezone.now(),
        )
        self.stdout.write(f"Approval {approval.kind} #{approval.slot} recorded")
        self._done(request)

    def handle_close(self, **options: Any) -> None:
        actor, request = self._staff(options)
        reviewing.request_close(
            actor=actor, request=request, reason=options["reason"], now=timezone.now()
        )
        self._done(request)

    def handle_read_documents(self, **options: Any) -> None:
        actor, request = self._staff(options)
        texts = document_reading.request_documents_read(
            actor=actor, request=request, now=timezone.now()
        )
        if not texts:
            self.stdout.write(f"{request.reference} has no document to read")
        for text in texts:
            read = (
                f"{len(text.text):,} characters from {text.pages} page(s) "
                f"({text.get_method_display()})"
                if text.text
                else "no readable text"
            )
            note = f"; {text.note}" if text.note else ""
            self.stdout.write(f"{text.document.original_name}: {read}{note}")
        request.refresh_from_db()
        mismatch = [f for f in review.latest_findings(request) if f.code == "DOCUMENT_MISMATCH"]
        for finding in mismatch:
            self.stdout.write(f"{finding.outcome:5}  {finding.code}  {finding.message}")

    def handle_checks(self, **options: Any) -> None:
        actor, request = self._staff(options)
        run = review.checks_run_manually(actor=actor, request=request, now=timezone.now())
        for result in sorted(run.results.all(), key=lambda r: -SEVERITY[r.outcome]):
            self.stdout.write(f"{result.outcome:5}  {result.code:22}  {result.message}")
