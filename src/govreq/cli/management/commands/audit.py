from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import UTC
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from govreq.audit.chain import GENESIS_HASH
from govreq.audit.checkpoints import Checkpoint, CheckpointsInvalid, document_parse
from govreq.audit.models import AuditEvent
from govreq.audit.selectors import (
    CheckpointVerification,
    audit_chain_verify,
    audit_checkpoint_problem,
    audit_checkpoints,
    audit_checkpoints_document,
    audit_checkpoints_missing,
    audit_checkpoints_verify,
    audit_newest_checkpoint,
    audit_unchained,
)
from govreq.cli.commands import GovreqCommand
from govreq.core.signing import trusted_public_keys
from govreq.lifecycle.reconciling import requests_reconcile

FETCH_TIMEOUT_SECONDS = 30


def _read_copy(source: str) -> list[Checkpoint]:
    """The checkpoints of an outside copy: a file, or the document at an http(s) URL."""
    try:
        if source.startswith(("http://", "https://")):
            # Only http(s), checked just above: never file: or a custom scheme.
            opened = urllib.request.urlopen(source, timeout=FETCH_TIMEOUT_SECONDS)  # noqa: S310
            with opened as response:
                raw = response.read()
        else:
            raw = Path(source).read_bytes()
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise CommandError(f"cannot read checkpoints from {source}: {reason}") from None
    try:
        return document_parse(raw, source=source)
    except CheckpointsInvalid as error:
        raise CommandError(error.message) from None


class Command(GovreqCommand):
    help = "Inspect and verify the tamper-evident audit log."
    subcommands = {
        "verify": "Walk the hash chain and check the signed checkpoints (the stored ones, and an "
        "outside copy with --checkpoints); exit 1 naming what is wrong.",
        "checkpoints": "List the signed checkpoints of the chain head, or --export them.",
        "reconcile": "Replay the trail; exit 1 naming every request whose stored status, "
        "decision or approvals disagree with it.",
        "tail": "Print the most recent events.",
    }

    def add_subcommand_arguments(self, name: str, parser: CommandParser) -> None:
        if name == "tail":
            parser.add_argument("-n", type=int, default=20)
        if name == "verify":
            parser.add_argument(
                "--checkpoints",
                metavar="FILE_OR_URL",
                help="a copy of /transparency/audit-checkpoints.json kept outside the database",
            )
            parser.add_argument(
                "--since-last-checkpoint",
                action="store_true",
                help="walk the chain only after the newest signed checkpoint (which must be "
                "authentic and still match the log); the whole chain when there is none",
            )
            parser.add_argument(
                "--workers",
                type=int,
                default=min(2, os.cpu_count() or 1),
                help="processes that verify pieces of a long chain at once (default: 2, or 1 "
                "on one core)",
            )
            parser.add_argument(
                "--public-key",
                action="append",
                default=[],
                metavar="BASE64",
                help="trust only this key (repeatable); default: the platform's configured keys",
            )
        if name == "checkpoints":
            parser.add_argument("--export", metavar="FILE", help="write the published JSON")

    def handle_verify(self, **options: Any) -> None:
        problems: list[str] = []
        trusted = set(options["public_key"]) or trusted_public_keys()
        workers = max(1, options["workers"])
        since = ""
        after_seq, after_hash = 0, GENESIS_HASH
        if options["since_last_checkpoint"]:
            newest = audit_newest_checkpoint()
            problem = audit_checkpoint_problem(newest, trusted=trusted) if newest else ""
            if newest is None:
                since = " (no checkpoint yet: the whole chain)"
            elif problem:
                # Not an anchor: the stored checkpoints' check below names it; walk it all.
                since = f" (the newest checkpoint #{newest.seq} cannot be trusted: the whole chain)"
            else:
                after_seq, after_hash = newest.seq, newest.hash
                since = f" after checkpoint #{newest.seq}"
        chain = audit_chain_verify(after_seq=after_seq, after_hash=after_hash, workers=workers)
        if not chain.ok:
            problems.append(
                f"audit chain broken at event #{chain.first_bad_seq}: {chain.problem} "
                f"({chain.count} events verified{since} before it)"
            )
        stored = audit_checkpoints_verify(audit_checkpoints(), trusted=trusted)
        problems += _named(stored, "stored checkpoints")
        lines = [f"{stored.checked} stored checkpoint(s)"]
        waiting = audit_unchained()
        if waiting.oldest is not None and waiting.overdue(timezone.now()):
            problems.append(
                f"{waiting.count} audit event(s) committed but not chained, the oldest written "
                f"{waiting.oldest.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC: no worker is chaining "
                "them (start govreq worker; its log says why if it is running)"
            )
        if options["checkpoints"]:
            copy = _read_copy(options["checkpoints"])
            outside = audit_checkpoints_verify(copy, trusted=trusted)
            problems += _named(outside, options["checkpoints"])
            missing = list(audit_checkpoints_missing(copy, trusted=trusted))
            if missing:
                shown = ", ".join(f"#{seq}" for seq in missing[:10])
                more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                problems.append(
                    f"{len(missing)} checkpoint(s) of {options['checkpoints']} are no longer "
                    f"stored ({shown}{more}): they were deleted"
                )
            lines.append(f"{outside.checked} checkpoint(s) in {options['checkpoints']}")
        if problems:
            raise CommandError("\n".join(problems), returncode=1)
        pending = f"; {waiting.count} event(s) waiting to be chained" if waiting.count else ""
        self.stdout.write(
            f"OK: {chain.count} events{since}, chain head {chain.head_hash}; "
            f"{', '.join(lines)} match{pending}"
        )

    def handle_checkpoints(self, **options: Any) -> None:
        if options["export"]:
            count = 0
            with Path(options["export"]).open("w", encoding="utf-8") as handle:
                for chunk in audit_checkpoints_document():
                    handle.write(chunk)
                    count += 1
            self.stdout.write(f"wrote {max(0, count - 2)} checkpoint(s) to {options['export']}")
            return
        for checkpoint in audit_checkpoints():
            self.stdout.write(
                f"#{checkpoint.seq:<7} {checkpoint.made_at}  {checkpoint.hash}  "
                f"key {checkpoint.key_id}"
            )

    def handle_reconcile(self, **options: Any) -> None:
        result = requests_reconcile()
        for finding in result.findings:
            self.stdout.write(f"{finding.reference}: {'; '.join(finding.problems)}")
        if result.findings:
            raise CommandError(
                f"{len(result.findings)} of {result.requests} request(s) disagree with the "
                "audit trail",
                returncode=1,
            )
        self.stdout.write(f"OK: {result.requests} request(s) agree with the audit trail")

    def handle_tail(self, **options: Any) -> None:
        count = max(1, min(options["n"], 1000))
        events = list(AuditEvent.objects.order_by("-seq")[:count])
        for event in reversed(events):
            self.stdout.write(
                f"#{event.seq:<7} {event.occurred_at:%Y-%m-%d %H:%M:%S}  {event.actor_label:30}  "
                f"{event.action:24}  {event.object_type}:{event.object_id}"
            )


def _named(result: CheckpointVerification, what: str) -> list[str]:
    problems = [f"{what}: {problem}" for problem in result.problems]
    if result.more_problems:
        problems.append(f"{what}: and {result.more_problems} more problem(s)")
    return problems
