"""A back-test written out: a table for a person at a terminal, JSON, or CSV. Each streams the
affected requests as the replay yields them (memory does not grow with the history)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from govreq.backtest.engine import HEADLINE, AffectedRequest, Backtest
from govreq.backtest.policy import PolicyBacktest, PolicyRow
from govreq.core.csvcells import safe_row

CSV_COLUMNS = (
    "reference",
    "received_at",
    "kind",
    "status_recorded",
    "held_at",
    "excepted",
    "flagged_at",
    "stopped_steps",
    "stopped_delivery_at",
    "accounts",
    "check_change",
)
HEADLINE_LABELS = {
    "requests": "Requests",
    "data_produced": "With data produced (delivered)",
    "data_produced_percent": "Share with data produced (%)",
    "held_requests": "Put on hold",
    "pending_on_hold": "Still on hold at the end",
}


def _short(moment: str | None) -> str:
    return "" if moment is None else moment[:16].replace("T", " ") + " UTC"


def write_table(
    backtest: Backtest, rows: Iterable[AffectedRequest], out: TextIO, *, limit: int
) -> None:
    hold = backtest.describe()["hold"]
    out.write(
        f"Back-test: a hold on {hold['jurisdiction']} from {_short(hold['effective_from'])}"
        f"{' to ' + _short(hold['effective_to']) if hold['effective_to'] else ''}, placed at "
        f"{_short(hold['placed_at'])}"
        f"{', only requests received from its start' if hold['received_from_start'] else ''}\n"
        f"Requests received {_short(backtest.describe()['window']['start'])} to "
        f"{_short(backtest.describe()['window']['end'])} (end excluded), replayed over the "
        "recorded history; nothing was changed.\n\n"
    )
    if limit:
        out.write(f"{'Request':<16} {'Received':<21} {'Effect':<34} Delivery stopped (accounts)\n")
    shown = 0
    hidden = 0
    for row in rows:
        if shown >= limit:
            hidden += 1
            continue
        shown += 1
        data = row.as_dict()
        effects = []
        if row.held_at is not None:
            effects.append(f"held {_short(data['held_at'])[:16]}")
        if row.excepted:
            effects.append("excepted (HR approval)")
        if row.flagged_at is not None:
            effects.append("re-review")
        delivery = ""
        if row.stopped_delivery_at is not None:
            delivery = f"{_short(data['stopped_delivery_at'])} ({', '.join(row.accounts)})"
        out.write(
            f"{row.reference:<16} {_short(data['received_at']):<21} "
            f"{'; '.join(effects):<34} {delivery}\n"
        )
    if hidden:
        out.write(f"... and {hidden} more (--limit, or --json / --csv for all)\n")
    totals = backtest.totals
    out.write(
        f"\nReplayed {totals.requests_replayed} requests; the hold covers {totals.covered}.\n"
        f"  would have held:               {totals.would_hold}\n"
        f"  let through by its exception:  {totals.excepted}\n"
        f"  flagged for re-review:         {totals.flagged}\n"
        f"  deliveries stopped:            {totals.stopped_deliveries} "
        f"({totals.stopped_accounts} accounts)\n"
        f"  JURISDICTION_HOLD check would change: {totals.check_changes}\n"
    )
    for headline in backtest.headlines:
        version = (
            f"published version {headline.published_version}"
            if headline.published_version
            else "not published"
        )
        out.write(
            f"\nTransparency report {headline.period}, {headline.jurisdiction} ({version}):\n"
        )
        out.write(f"  {'':<32} {'published':>10} {'recorded':>10} {'with hold':>10}\n")
        for key in HEADLINE:
            published = "-" if headline.published is None else _number(headline.published[key])
            out.write(
                f"  {HEADLINE_LABELS[key]:<32} {published:>10} "
                f"{_number(headline.recorded[key]):>10} {_number(headline.alternative[key]):>10}\n"
            )


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def write_json(
    backtest: Backtest,
    rows: Iterable[AffectedRequest],
    out: TextIO,
    *,
    policy: PolicyBacktest | None = None,
) -> None:
    """One JSON document, the requests streamed into it as they come."""
    out.write('{"backtest": ' + json.dumps(backtest.describe(), sort_keys=True))
    out.write(', "requests": [')
    for index, row in enumerate(rows):
        out.write(("," if index else "") + "\n  " + json.dumps(row.as_dict(), ensure_ascii=False))
    out.write("\n]")
    out.write(', "totals": ' + json.dumps(backtest.totals.as_dict(), sort_keys=True))
    headlines = [headline.as_dict() for headline in backtest.headlines]
    out.write(', "headlines": ' + json.dumps(headlines, sort_keys=True))
    if policy is not None:
        out.write(', "policy": ')
        write_policy_json(policy, policy.run(), out, end="")
    out.write("}\n")


def write_csv(rows: Iterable[AffectedRequest], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data: dict[str, Any] = row.as_dict()
        data["stopped_steps"] = " ".join(
            f"{step['to_status']}@{step['at']}" for step in data["stopped_steps"]
        )
        data["accounts"] = " ".join(data["accounts"])
        writer.writerow(safe_row("" if data[c] is None else data[c] for c in CSV_COLUMNS))


def write_headlines_csv(backtest: Backtest, out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(["period", "jurisdiction", "number", "published", "recorded", "with_hold"])
    for headline in backtest.headlines:
        for key in HEADLINE:
            published = None if headline.published is None else headline.published[key]
            writer.writerow(
                safe_row(
                    [
                        headline.period,
                        headline.jurisdiction,
                        key,
                        "" if published is None else published,
                        _number(headline.recorded[key]),
                        _number(headline.alternative[key]),
                    ]
                )
            )


def write_policy_table(
    policy: PolicyBacktest, rows: Iterable[PolicyRow], out: TextIO, *, limit: int
) -> None:
    out.write(
        f"\nChecks replayed under the {policy.label} policy instead of the version each request "
        "was checked under (the same facts, as of its latest check run):\n"
    )
    shown = hidden = 0
    for row in rows:
        if shown >= limit:
            hidden += 1
            continue
        shown += 1
        changes = "; ".join(f"{c.code} {c.recorded} -> {c.alternative}" for c in row.changes)
        human_rights = ""
        if row.human_rights_alternative != row.human_rights_recorded:
            needed = row.human_rights_alternative
            human_rights = " (human-rights approval " + (
                "now needed)" if needed else "no longer needed)"
            )
        out.write(
            f"  {row.reference:<16} v{row.recorded_version}: worst {row.worst_recorded} -> "
            f"{row.worst_alternative}{human_rights}  {changes}\n"
        )
    if hidden:
        out.write(f"  ... and {hidden} more\n")
    totals = policy.totals
    out.write(
        f"Replayed {totals.requests_replayed} requests ({totals.never_checked} never checked); "
        f"{totals.requests_changed} would read differently, {totals.worst_changed} with another "
        f"worst outcome, {totals.human_rights_changed} with another human-rights need.\n"
    )
    for change, count in sorted(totals.by_check.items()):
        out.write(f"  {change}: {count}\n")


def write_policy_json(
    policy: PolicyBacktest, rows: Iterable[PolicyRow], out: TextIO, *, end: str = "\n"
) -> None:
    out.write('{"policy": ' + json.dumps(policy.label) + ', "requests": [')
    for index, row in enumerate(rows):
        out.write(("," if index else "") + "\n  " + json.dumps(row.as_dict(), ensure_ascii=False))
    out.write('\n], "totals": ' + json.dumps(policy.totals.as_dict(), sort_keys=True) + "}" + end)


def write_policy_csv(rows: Iterable[PolicyRow], out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(
        [
            "reference",
            "received_at",
            "recorded_version",
            "worst_recorded",
            "worst_alternative",
            "human_rights_recorded",
            "human_rights_alternative",
            "changes",
        ]
    )
    for row in rows:
        data = row.as_dict()
        changes = " ".join(f"{c.code}:{c.recorded}->{c.alternative}" for c in row.changes)
        writer.writerow(
            safe_row(
                [
                    data["reference"],
                    data["received_at"],
                    data["recorded_version"],
                    data["worst_recorded"],
                    data["worst_alternative"],
                    data["human_rights_recorded"],
                    data["human_rights_alternative"],
                    changes,
                ]
            )
        )
