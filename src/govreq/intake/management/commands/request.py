from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.agencies.selectors import officer_get_by_email
from govreq.core.actors import Actor
from govreq.core.commands import GovreqCommand, actor_for
from govreq.core.errors import pydantic_errors
from govreq.intake import selectors, services
from govreq.intake.api import RequestOut
from govreq.intake.models import Channel, RequestStatus
from govreq.intake.schemas import RequestSubmission

LIST_LIMIT_MAX = 1000


def request_json(request: Any) -> dict[str, Any]:
    """The stable JSON form of a request: the same object as GET /api/v1/requests/{id}."""
    return RequestOut.model_validate(request).model_dump(mode="json")


class Command(GovreqCommand):
    help = "Submit, list, show and withdraw requests."
    subcommands = {
        "submit": "Key in a request that arrived by post or e-mail (same JSON as the API).",
        "list": "List requests, newest first.",
        "show": "Show one request by its reference.",
        "withdraw": "Withdraw a request on the agency's behalf.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "submit":
            parser.add_argument("file", metavar="FILE.json", type=Path)
            parser.add_argument("--officer", required=True, metavar="EMAIL")
            parser.add_argument(
                "--received-at",
                type=_aware_datetime,
                help="When the platform received it (ISO 8601 with time zone); default now.",
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
        result = services.request_submit(
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
        self.stdout.write("History:")
        for change in request.status_changes.all():
            self.stdout.write(
                f"  {change.occurred_at:%Y-%m-%d %H:%M}  {change.from_status or '-'} -> "
                f"{change.to_status}  {change.actor_label}  {change.reason}"
            )

    def handle_withdraw(self, **options: Any) -> None:
        request = services.request_withdraw(
            actor=actor_for(options["as_email"], "cli"),
            request=selectors.request_get_by_reference(options["reference"]),
            reason=options["reason"],
            now=timezone.now(),
        )
        self.stdout.write(f"{request.reference} is now {request.status}")


def _aware_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2020-07-01T09:00:00+08:00")
    return parsed
