"""Structured exports of a report body: govreq's own CSV and JSON, and Meta's and Google's CSV
layouts. Pure functions of the body (a published version's frozen numbers, or a draft), which
yield the file piece by piece so a response or a file can stream it. See docs/transparency.md
for govreq's own schema."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from govreq.core.csvcells import safe_cell
from govreq.intake.models import RequestKind
from govreq.review.models import RejectionReason
from govreq.transparency.counting import CONTENT_KEYS, NOTICE_DELAY_REASONS, OUTCOMES, percent
from govreq.transparency.periods import parse_period

EXPORT_FORMAT = "govreq-transparency-export/1"
OWN_COLUMNS = (
    "period",
    "period_start",
    "period_end",
    "version",
    "jurisdiction",
    "jurisdiction_name",
    "category",
    "requests",
    "accounts",
    "data_produced",
    "data_produced_percent",
    "share_percent",
    "band",
    "hold_from",
    "hold_to",
    "note",
)
# The header of Meta's government-requests CSV (Transparency Center export, 2020 H2 onwards).
META_HEADER = (
    "Country",
    "Preservation Requests",
    "Preservation Accounts Preserved",
    "Total Requests",
    "Number of Requests Where Some Data Produced",
    "Total Requests Accounts",
    "Total Requests Percentage",
    "Legal Process Request Total",
    "Legal Number of Requests Where Some Data Produced",
    "Legal Process Request Total Accounts",
    "Legal Process Request Total Percentage",
    "Emergency Request Total",
    "ER Number of Requests Where Some Data Produced",
    "Emergency Request Total Accounts",
    "Emergency Request Total Percentage",
    "Search Warrant",
    "Search Warrant Accounts",
    "Search Warrant Percentage",
    "Subpoena",
    "Subpoena Accounts",
    "Subpoena Percentage",
    "Court Order (Other)",
    "Court Order (Other) Accounts",
    "Court Order (Other) Percentage",
    "MLAT Search Warrant",
    "MLAT Search Warrant Accounts",
    "MLAT Search Warrant Percentage",
    "MLAT Order",
    "MLAT Order Accounts",
    "MLAT Order Percentage",
    "Court Order (18 USC 2703(d))",
    "Court Order (18 USC 2703(d)) Accounts",
    "Court Order (18 USC 2703(d)) Percentage",
    "Pen Register/Trap and Trace",
    "Pen Register/Trap and Trace Accounts",
    "Pen Register/Trap and Trace Percentage",
    "Title III",
    "Title III Accounts",
    "Title III Percentage",
    "FISA Content Requests",
    "FISA Content Requests Accounts",
    "FISA Content Requests Percentage",
    "FISA Non-Content Requests",
    "FISA Non-Content Requests Accounts",
    "FISA Non-Content Requests Percentage",
    "NSLs",
    "NSLs Accounts",
    "NSLs Percentage",
)
# Meta's process-type columns that govreq's request kinds fill; the others stay blank (govreq
# does not tell 2703(d) orders from other court orders, and takes no real-time or FISA process).
META_PROCESS_KINDS = {
    "Search Warrant": RequestKind.SEARCH_WARRANT,
    "Subpoena": RequestKind.SUBPOENA,
    "Court Order (Other)": RequestKind.COURT_ORDER,
    "MLAT Order": RequestKind.MLAT,
}
GOOGLE_HEADER = (
    "Period Ending",
    "Country/Region",
    "CLDR Territory Code",
    "Legal Process",
    "User Data Requests",
    "Percentage disclosed",
    "Accounts",
)
GOOGLE_EMERGENCY = "Emergency Disclosure Requests"
GOOGLE_LEGAL = "Other Legal Requests"
GOOGLE_PRESERVATION = "Preservation Requests"


class _Line:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[list[Any] | tuple[Any, ...]]) -> Iterator[str]:
    """Every export's CSV lines; a text cell a spreadsheet would run as a formula is written
    with a leading apostrophe (core.csvcells), which the readers remove."""
    writer = csv.writer(_Line(), lineterminator="\n")
    for row in rows:
        yield writer.writerow(["" if value is None else safe_cell(value) for value in row])


def _entries(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield body["total"]
    yield from body["jurisdictions"]


# --- govreq's own schema -------------------------------------------------------------------------


def own_rows(body: dict[str, Any], *, version: int | None) -> Iterator[dict[str, Any]]:
    """One row per jurisdiction (ALL first) per category; see docs/transparency.md."""
    base = {
        "period": body["period"],
        "period_start": body["period_start"],
        "period_end": body["period_end"],
        "version": version,
    }
    for entry in _entries(body):
        yield from _entry_rows(entry, base)


def _entry_rows(entry: dict[str, Any], base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    total = entry["requests"]

    def row(category: str, **values: Any) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(OWN_COLUMNS)
        out.update(base)
        out.update(jurisdiction=entry["code"], jurisdiction_name=entry["name"])
        out.update(category=category, **values)
        return out

    def counted(category: str, counts: dict[str, Any]) -> dict[str, Any]:
        return row(
            category,
            requests=counts["requests"],
            accounts=counts["accounts"],
            data_produced=counts.get("data_produced"),
            data_produced_percent=counts.get("data_produced_percent"),
        )

    def share(category: str, count: int) -> dict[str, Any]:
        return row(category, requests=count, share_percent=percent(count, total))

    yield counted("requests", entry)
    yield counted("legal_process", entry["legal_process"])
    yield counted("emergency", entry["emergency"])
    yield counted("preservation", entry["preservation"])
    for kind in RequestKind.values:
        yield counted(f"kind:{kind}", entry["by_kind"][kind])
    for outcome in OUTCOMES:
        yield share(f"outcome:{outcome}", entry["outcomes"][outcome])
    yield share("outcome:PENDING:on_hold", entry["pending_on_hold"])
    yield share("outcome:WITHDRAWN:after_approval", entry["withdrawn_after_approval"])
    yield share("delivered_by_other_means", entry["delivered_by_other_means"])
    for reason in RejectionReason.values:
        yield row(f"rejection_reason:{reason}", requests=entry["rejection_reasons"][reason])
    # In a fixed order: a published body comes back from PostgreSQL's jsonb with its keys sorted.
    for key in CONTENT_KEYS:
        yield row(f"content:{key}", requests=entry["content"][key])
    yield share("gag_order", entry["gag_order"]["requests"])
    yield share("held", entry["held_requests"])
    yield from _notice_rows(entry.get("user_notices"), row)
    security = entry["national_security"]
    if security is not None:
        yield row("national_security:requests", band=security["requests"])
        yield row("national_security:accounts", band=security["accounts"])
    for hold in entry["holds"]:
        dates = {"hold_from": hold["effective_from"], "hold_to": hold["effective_to"]}
        yield row(
            f"hold:{hold['id']}",
            requests=hold["requests_received"],
            data_produced=hold["data_produced"],
            data_produced_percent=percent(hold["data_produced"], hold["requests_received"]),
            note=hold["reason"],
            **dates,
        )
        yield row(f"hold:{hold['id']}:held", requests=hold["held_requests"], **dates)
        yield row(f"hold:{hold['id']}:pending_on_hold", requests=hold["pending_on_hold"], **dates)


def _notice_rows(
    notices: dict[str, Any] | None, row: Callable[..., dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """User notices, counted in accounts (a notice is one account holder of one request). A
    body computed under counting rules 2 has none, and its export has no such rows."""
    if notices is None:
        return
    yield row("user_notices:given", accounts=notices["given"])
    yield row("user_notices:not_possible", accounts=notices["not_possible"])
    yield row("user_notices:delayed", accounts=notices["delayed"])
    for reason in NOTICE_DELAY_REASONS:
        yield row(f"user_notices:delayed:{reason}", accounts=notices["delayed_by_reason"][reason])
    yield row("user_notices:delivered_accounts", accounts=notices["delivered_accounts"])
    yield row(
        "user_notices:delivered_accounts_told",
        accounts=notices["delivered_accounts_told"],
        share_percent=notices["delivered_accounts_told_percent"],
    )


def own_csv(body: dict[str, Any], *, version: int | None = None) -> Iterator[str]:
    yield from _csv_lines(iter([OWN_COLUMNS]))
    yield from _csv_lines(
        [row[column] for column in OWN_COLUMNS] for row in own_rows(body, version=version)
    )


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Where a body comes from: a published version (signed) or a draft (all None)."""

    version: int | None = None
    published_at: str | None = None
    body_sha256: str | None = None
    key_id: str | None = None
    public_key: str | None = None
    signature: str | None = None
    audit_head_seq: int | None = None
    audit_head_hash: str | None = None


def own_json(body: dict[str, Any], *, provenance: Provenance | None = None) -> Iterator[str]:
    """``{"format", ..., "rows": [...]}``, written one row at a time."""
    source = provenance or Provenance()
    head = {
        "format": EXPORT_FORMAT,
        "report_format": body["format"],
        "counting_rules": body["counting_rules"],
        "period": body["period"],
        "period_start": body["period_start"],
        "period_end": body["period_end"],
        "as_of": body["as_of"],
        "complete": body["complete"],
        "draft": source.version is None,
        **source.__dict__,
        "columns": list(OWN_COLUMNS),
    }
    opening = json.dumps(head, ensure_ascii=False, indent=1)
    yield opening[:-2] + ',\n "rows": ['
    for index, row in enumerate(own_rows(body, version=source.version)):
        yield ("\n  " if index == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False)
    yield "\n ]\n}\n"


# --- Meta's layout -------------------------------------------------------------------------------


def _meta_percent(counts: dict[str, Any]) -> str:
    value = counts.get("data_produced_percent")
    return f"{value if value is not None else 0}%"


def meta_csv(body: dict[str, Any]) -> Iterator[str]:
    """One row per country, Meta's columns; the period is in the file name, as Meta's is."""

    def rows() -> Iterator[list[Any]]:
        yield list(META_HEADER)
        for entry in body["jurisdictions"]:
            values: dict[str, Any] = {
                "Country": entry["name"],
                "Preservation Requests": entry["preservation"]["requests"],
                "Preservation Accounts Preserved": entry["preservation"]["accounts"],
                "Total Requests": entry["requests"],
                "Number of Requests Where Some Data Produced": entry["data_produced"],
                "Total Requests Accounts": entry["accounts"],
                "Total Requests Percentage": _meta_percent(entry),
            }
            for prefix, produced, counts in (
                ("Legal Process Request Total", "Legal", entry["legal_process"]),
                ("Emergency Request Total", "ER", entry["emergency"]),
            ):
                values[prefix] = counts["requests"]
                values[f"{produced} Number of Requests Where Some Data Produced"] = counts[
                    "data_produced"
                ]
                values[f"{prefix} Accounts"] = counts["accounts"]
                values[f"{prefix} Percentage"] = _meta_percent(counts)
            for column, kind in META_PROCESS_KINDS.items():
                counts = entry["by_kind"][kind]
                values[column] = counts["requests"]
                values[f"{column} Accounts"] = counts["accounts"]
                values[f"{column} Percentage"] = _meta_percent(counts)
            yield [values.get(column, "") for column in META_HEADER]

    return _csv_lines(rows())


# --- Google's layout -----------------------------------------------------------------------------


def google_csv(body: dict[str, Any]) -> Iterator[str]:
    """Rows per country and legal process, Google's columns (rows with no requests left out,
    as Google does; preservation has no percentage)."""
    ending = parse_period(body["period"]).last_day.isoformat()

    def rows() -> Iterator[list[Any]]:
        yield list(GOOGLE_HEADER)
        for entry in body["jurisdictions"]:
            for process, counts, produces in (
                (GOOGLE_EMERGENCY, entry["emergency"], True),
                (GOOGLE_LEGAL, entry["legal_process"], True),
                (GOOGLE_PRESERVATION, entry["preservation"], False),
            ):
                if counts["requests"] <= 0:
                    continue
                yield [
                    ending,
                    entry["name"],
                    entry["code"],
                    process,
                    counts["requests"],
                    counts["data_produced_percent"] if produces else "",
                    counts["accounts"],
                ]

    return _csv_lines(rows())


# --- Formats -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExportFormat:
    name: str
    suffix: str  # of the download URL: report.<suffix>
    media_type: str
    render: Callable[[dict[str, Any], Provenance], Iterator[str]]

    def filename(self, period: str, version: int | None) -> str:
        # Meta's files carry their half-year as 2020_H2; so do these, for the Meta reader.
        stem = f"govreq-transparency-{period.replace('-', '_')}"
        stem += f"-v{version}" if version else "-draft"
        return f"{stem}.{self.suffix}"


FORMATS = {
    "csv": ExportFormat(
        name="csv",
        suffix="csv",
        media_type="text/csv; charset=utf-8",
        render=lambda body, source: own_csv(body, version=source.version),
    ),
    "json": ExportFormat(
        name="json",
        suffix="json",
        media_type="application/json",
        render=lambda body, source: own_json(body, provenance=source),
    ),
    "meta": ExportFormat(
        name="meta",
        suffix="meta.csv",
        media_type="text/csv; charset=utf-8",
        render=lambda body, source: meta_csv(body),
    ),
    "google": ExportFormat(
        name="google",
        suffix="google.csv",
        media_type="text/csv; charset=utf-8",
        render=lambda body, source: google_csv(body),
    ),
}
FORMATS_BY_SUFFIX = {fmt.suffix: fmt for fmt in FORMATS.values()}
