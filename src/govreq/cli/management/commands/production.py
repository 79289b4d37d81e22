from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.api.productions import StaffProductionDetailOut
from govreq.cli.commands import GovreqCommand, actor_for
from govreq.core.signing import public_key_b64, signing_key
from govreq.disclosure.selectors import production_get, productions_of
from govreq.disclosure.verify import report_lines, verify_path
from govreq.intake import selectors
from govreq.lifecycle import disclosing


class Command(GovreqCommand):
    help = "Productions: what an approved disclosure collected, released and delivered."
    subcommands = {
        "list": "A request's productions (and preservation snapshots).",
        "collect": "Collect (or retry) the current decision's production now.",
        "show": "A production: its scope check, manifest and downloads.",
        "release": "Release a collected production to the agency.",
        "verify": "Check a package ZIP (or a manifest beside its files) offline.",
        "purge-expired": "Purge the bytes of packages whose download period has ended.",
        "deliver-other": "Record a delivery made outside govreq, with its evidence; closes it.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name in ("list", "collect", "deliver-other"):
            parser.add_argument("reference", metavar="REF")
        if name in ("show", "release"):
            parser.add_argument("production_id", metavar="ID")
        if name in ("collect", "release", "deliver-other"):
            parser.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
        if name == "show":
            parser.add_argument("--json", action="store_true")
        if name == "verify":
            parser.add_argument("path", type=Path, metavar="PACKAGE_OR_MANIFEST")
            parser.add_argument(
                "--public-key",
                help="The platform's signing key (base64); by default this installation's.",
            )
        if name == "deliver-other":
            parser.add_argument("--reason", required=True)
            parser.add_argument("--evidence", type=Path, required=True, metavar="FILE")

    def handle_list(self, **options: Any) -> None:
        request = selectors.request_get_by_reference(options["reference"])
        self.stdout.write(f"{'ID':36}  {'PURPOSE':12}  {'STATUS':12}  {'RECORDS':>8}  EXPIRES")
        for production in productions_of(request):
            expires = f"{production.expires_at:%Y-%m-%d %H:%M}" if production.expires_at else "-"
            self.stdout.write(
                f"{production.public_id}  {production.purpose:12}  {production.status:12}  "
                f"{production.record_count:>8}  {expires}"
            )

    def handle_collect(self, **options: Any) -> None:
        actor = actor_for(options["as_email"], "cli")
        request = selectors.request_get_by_reference(options["reference"])
        production = disclosing.production_collect(actor=actor, request=request, now=timezone.now())
        result = disclosing.production_collect_now(
            actor=actor, production=production, now=timezone.now()
        )
        production = result.production
        self.stdout.write(
            f"{production.public_id}: {production.status} ({production.accounts_found} account(s) "
            f"found, {production.accounts_missing} not found, {production.record_count} records)"
        )
        if production.error:
            raise CommandError(f"collection failed: {production.error}")
        for violation in production.scope_violations:
            self.stdout.write(f"  outside the approved scope: {violation['message']}")

    def handle_show(self, **options: Any) -> None:
        production = production_get(options["production_id"])
        if options["json"]:
            self.print_json(
                StaffProductionDetailOut.model_validate(production).model_dump(mode="json")
            )
            return
        self.stdout.write(
            f"{production.public_id}  {production.purpose}  {production.status}\n"
            f"request {production.request.reference}, decision {production.decision_id}, "
            f"source {production.source or '-'}, attempts {production.attempts}"
        )
        if production.error:
            self.stdout.write(f"error: {production.error}")
        violations = production.scope_violations
        self.stdout.write(
            "scope check: " + ("within the approved scope" if not violations else "REFUSED")
        )
        for violation in violations:
            self.stdout.write(f"  {violation['message']}")
        manifest = production.manifest or {}
        for entry in manifest.get("accounts", []):
            target = entry.get("target") or {}
            found = entry.get("account") or f"not found ({entry.get('note')})"
            self.stdout.write(f"  {target.get('type', '?')} {target.get('value', '?')}: {found}")
        for entry in manifest.get("files", []):
            self.stdout.write(
                f"  {entry['name']:32} {entry['records']:>7} records  {entry['size']:>10} bytes  "
                f"{entry['sha256']}"
            )
        if production.manifest_sha256:
            self.stdout.write(f"manifest SHA-256 {production.manifest_sha256}")
        for download in production.downloads.select_related("officer"):
            self.stdout.write(
                f"downloaded {download.downloaded_at:%Y-%m-%d %H:%M} UTC by "
                f"{download.officer.email} from {download.client_address or '?'} "
                f"({download.channel})"
            )

    def handle_release(self, **options: Any) -> None:
        production = disclosing.production_release(
            actor=actor_for(options["as_email"], "cli"),
            production=production_get(options["production_id"]),
            now=timezone.now(),
        )
        self.stdout.write(
            f"{production.public_id} released; the agency can download it until "
            f"{production.expires_at:%Y-%m-%d %H:%M} UTC"
        )

    def handle_verify(self, **options: Any) -> None:
        key = options["public_key"] or public_key_b64(signing_key())
        result = verify_path(options["path"], public_key=key)
        for line in report_lines(result):
            self.stdout.write(line)
        if not result.ok:
            raise CommandError(result.problem)

    def handle_purge_expired(self, **options: Any) -> None:
        purged = disclosing.productions_purge_expired(
            actor=actor_for(None, "cli"), now=timezone.now()
        )
        self.stdout.write(
            f"{len(purged.productions)} package(s) purged ({purged.bytes} bytes); "
            f"{len(purged.closed)} request(s) closed, {len(purged.returned)} back to approved"
        )

    def handle_deliver_other(self, **options: Any) -> None:
        request = selectors.request_get_by_reference(options["reference"])
        path: Path = options["evidence"]
        try:
            handle = path.open("rb")
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        with handle:
            closed = disclosing.delivery_record_other_means(
                actor=actor_for(options["as_email"], "cli"),
                request=request,
                reason=options["reason"],
                evidence=handle,
                evidence_name=path.name,
                now=timezone.now(),
            )
        self.stdout.write(f"{closed.reference} delivered by other means and closed")
