from __future__ import annotations

import sys
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from govreq.backtest.inputs import backtest_prepare, window_parse
from govreq.backtest.output import (
    write_csv,
    write_headlines_csv,
    write_json,
    write_policy_csv,
    write_policy_json,
    write_policy_table,
    write_table,
)
from govreq.backtest.policy import PolicyBacktest, policy_alternative
from govreq.cli.commands import actor_for, exit_code, hold_allowances, moment_for
from govreq.core.errors import DomainError, ValidationFailed
from govreq.intake.models import OffenceCategory, RequestKind


class Command(BaseCommand):
    help = (
        "Replay a hypothetical hold over the recorded history: which requests it would have "
        "held or flagged, which deliveries (and accounts) it would have stopped, and the "
        "transparency report's headline numbers beside the published ones. Read-only."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hold", metavar="CODE", help="The held jurisdiction.")
        parser.add_argument(
            "--policy-version",
            type=int,
            metavar="N",
            help="Replay the checks under this recorded policy version instead of the one each "
            "request was checked under.",
        )
        parser.add_argument(
            "--policy-file",
            metavar="FILE",
            help="Replay the checks under this policy document (JSON, not saved).",
        )
        parser.add_argument(
            "--from",
            dest="effective_from",
            help="When the hold takes effect: '2020-06-30 23:00 Asia/Hong_Kong' or ISO 8601 "
            "with an offset.",
        )
        parser.add_argument("--to", dest="effective_to", help="Exclusive end (same forms).")
        parser.add_argument(
            "--placed-at",
            help="When it would have been placed (default: at --from, 'had we held from then'); "
            "a later moment replays a retroactive hold, flagging approvals since --from.",
        )
        parser.add_argument(
            "--window",
            required=True,
            help="Requests received in START..END: UTC days, both included "
            "(2020-01-01..2021-06-30), or moments with a zone (end excluded).",
        )
        parser.add_argument("--received-from-start", action="store_true")
        parser.add_argument("--allow", action="append", default=[], metavar="EMERGENCY|OFFENCE")
        parser.add_argument("--kind", action="append", default=[], choices=RequestKind.values)
        parser.add_argument(
            "--offence", action="append", default=[], choices=OffenceCategory.values
        )
        parser.add_argument("--agency", action="append", default=[], type=int, metavar="ID")
        parser.add_argument("--legal-basis", default="")
        parser.add_argument(
            "--format", choices=["table", "json", "csv"], default="table", dest="output"
        )
        parser.add_argument(
            "--headlines-csv", metavar="FILE", help="Also write the headline numbers as CSV."
        )
        parser.add_argument("--limit", type=int, default=200, help="Table rows shown.")
        parser.add_argument(
            "--as",
            dest="as_email",
            help="Run it as this staff user (a policy admin, human-rights officer or auditor).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._run(options)
        except DomainError as error:
            raise CommandError(error.message, returncode=exit_code(error)) from error

    def _run(self, options: dict[str, Any]) -> None:
        window = window_parse(options["window"])
        actor = actor_for(options["as_email"], "cli")
        policy = None
        if options["policy_version"] is not None or options["policy_file"]:
            document = None
            if options["policy_file"]:
                with open(options["policy_file"], encoding="utf-8") as handle:
                    document = handle.read()
            label, alternative = policy_alternative(
                actor=actor, version=options["policy_version"], document=document
            )
            policy = PolicyBacktest(label=label, alternative=alternative, window=window)
        if not options["hold"]:
            if policy is None:
                raise ValidationFailed.single("hold", "give --hold, --policy-version or both")
            self._policy_only(policy, options)
            return
        jurisdiction = options["hold"].strip().upper()
        effective_from = moment_for(options["effective_from"], "from", jurisdiction)
        if effective_from is None:
            raise ValidationFailed.single("from", "a hold needs --from")
        if policy is not None and options["output"] == "csv":
            raise ValidationFailed.single("format", "CSV holds one table: use --format json")
        allow_emergency, allow_offences = hold_allowances(options["allow"])
        backtest = backtest_prepare(
            actor=actor,
            window=window,
            now=timezone.now(),
            placed_at=moment_for(options["placed_at"], "placed_at", jurisdiction),
            jurisdiction_code=jurisdiction,
            effective_from=effective_from,
            effective_to=moment_for(options["effective_to"], "to", jurisdiction),
            received_from_start=options["received_from_start"],
            reason="back-test",
            scope_kinds=options["kind"],
            scope_offences=options["offence"],
            scope_agencies=options["agency"],
            scope_legal_basis=options["legal_basis"],
            allow_emergency=allow_emergency,
            allow_offences=allow_offences,
        )
        out = cast(TextIO, self.stdout._out)  # the raw stream: rows go out as they come
        if options["output"] == "json":
            write_json(backtest, backtest.run(), out, policy=policy)
        elif options["output"] == "csv":
            write_csv(backtest.run(), out)
            write_table(backtest, [], sys.stderr, limit=0)
        else:
            write_table(backtest, backtest.run(), out, limit=options["limit"])
            if policy is not None:
                write_policy_table(policy, policy.run(), out, limit=options["limit"])
        if options["headlines_csv"]:
            with open(options["headlines_csv"], "w", newline="", encoding="utf-8") as handle:
                write_headlines_csv(backtest, handle)

    def _policy_only(self, policy: PolicyBacktest, options: dict[str, Any]) -> None:
        out = cast(TextIO, self.stdout._out)
        if options["output"] == "json":
            write_policy_json(policy, policy.run(), out)
        elif options["output"] == "csv":
            write_policy_csv(policy.run(), out)
        else:
            write_policy_table(policy, policy.run(), out, limit=options["limit"])
