"""Reading reports: live drafts, published versions, and the series the charts draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, QuerySet
from django.utils.translation import get_language

from govreq.audit.selectors import audit_chain_head
from govreq.core.errors import NotFound
from govreq.transparency.counting import report_compute
from govreq.transparency.exports import Provenance
from govreq.transparency.models import PublishedReport
from govreq.transparency.periods import Period, parse_period


def report_draft(*, period: Period, now: datetime) -> dict[str, Any]:
    """The report as it would be published now (computed live; for staff and the CLI)."""
    return report_compute(period=period, now=now)


# A draft is cached per (period, audit-chain head): every change to what it counts appends to
# the chain. A period still running also depends on the time, so its drafts last a minute.
DRAFT_CACHE_SECONDS = 3600
RUNNING_DRAFT_CACHE_SECONDS = 60


def report_draft_cached(*, period: Period, now: datetime) -> dict[str, Any]:
    """``report_draft``, computed once per period and audit-chain head (Django's cache)."""
    seq, head = audit_chain_head()
    running = period.end > now
    moment = now.strftime("%Y%m%d%H%M") if running else ""
    key = f"govreq:transparency:draft:{period.label}:{seq}:{head}:{moment}"
    body = cache.get(key)
    if body is None:
        body = report_draft(period=period, now=now)
        cache.set(key, body, RUNNING_DRAFT_CACHE_SECONDS if running else DRAFT_CACHE_SECONDS)
    return body


@dataclass(frozen=True, kw_only=True)
class PublicationState:
    """What every public page depends on: which versions are published. Versions are never
    changed or deleted, so the count and the newest id name the state exactly."""

    count: int
    newest_id: int
    last_published_at: datetime | None

    @property
    def token(self) -> str:
        return f"{self.count}.{self.newest_id}"


def publication_state() -> PublicationState:
    """The state of publication, in one small aggregate query."""
    row = PublishedReport.objects.aggregate(
        count=Count("pk"), newest=Max("pk"), last=Max("published_at")
    )
    return PublicationState(
        count=row["count"], newest_id=row["newest"] or 0, last_published_at=row["last"]
    )


def published_versions(period: Period) -> QuerySet[PublishedReport]:
    return PublishedReport.objects.filter(period=period.label).order_by("-version")


def published_report(period: Period, *, version: int | None = None) -> PublishedReport:
    """The latest published version of the period's report, or the version asked for."""
    versions = published_versions(period).select_related("published_by")
    report = versions.filter(version=version).first() if version else versions.first()
    if report is None:
        what = f"version {version} of the {period} report" if version else f"the {period} report"
        raise NotFound(f"{what} has not been published", code="report_not_published")
    return report


def report_provenance(report: PublishedReport) -> Provenance:
    """What an export says about the published version it comes from."""
    return Provenance(
        version=report.version,
        published_at=report.published_at.isoformat(),
        body_sha256=report.body_sha256,
        key_id=report.key_id,
        public_key=report.public_key,
        signature=report.signature,
        audit_head_seq=report.audit_head_seq,
        audit_head_hash=report.audit_head_hash,
    )


def published_latest_each() -> list[PublishedReport]:
    """The latest version of every published period, newest period first."""
    latest: dict[str, int] = {}
    for pk, period in PublishedReport.objects.order_by("period", "-version").values_list(
        "pk", "period"
    ):
        latest.setdefault(period, pk)
    return sorted(
        PublishedReport.objects.filter(pk__in=latest.values()).select_related("published_by"),
        key=lambda r: (r.period_end, parse_period(r.period).is_half_year),
        reverse=True,
    )


def published_index() -> list[tuple[str, int]]:
    """(period, latest version) of every published period, newest period first; no bodies."""
    latest: dict[str, tuple[int, Any]] = {}
    for period, version, end in PublishedReport.objects.order_by("period", "-version").values_list(
        "period", "version", "period_end"
    ):
        latest.setdefault(period, (version, end))
    return [
        (period, version)
        for period, (version, end) in sorted(
            latest.items(),
            key=lambda item: (item[1][1], parse_period(item[0]).is_half_year),
            reverse=True,
        )
    ]


def published_overview() -> PublishedReport | None:
    """The report the overview page leads with: the latest period (a half-year before a year
    ending on the same day)."""
    index = published_index()
    return published_report(parse_period(index[0][0])) if index else None


@dataclass(frozen=True, kw_only=True)
class SeriesPoint:
    period: Period
    requests: int
    data_produced: int
    percent: int | None
    held: int = 0  # on hold at some time in the half-year
    still_held: int = 0  # still on hold at its end


@dataclass(frozen=True, kw_only=True)
class HoldSpan:
    id: int
    jurisdiction: str
    starts: str  # ISO datetimes, as in the report body
    ends: str | None
    reason: str
    reason_zh_hant: str = ""


@dataclass(frozen=True, kw_only=True)
class Series:
    jurisdiction: str
    name: str
    points: list[SeriesPoint]
    holds: list[HoldSpan]


def _entry(body: dict[str, Any], code: str) -> dict[str, Any] | None:
    if code == "ALL":
        return body["total"]
    return next((entry for entry in body["jurisdictions"] if entry["code"] == code), None)


def series_for(code: str, *, bodies: list[tuple[Period, dict[str, Any]]]) -> Series:
    """Requests and % with data produced per half-year for one jurisdiction ("ALL" for all),
    with the holds the reports name, drawn from the given report bodies."""
    points: list[SeriesPoint] = []
    holds: dict[int, HoldSpan] = {}
    name = code
    for period, body in sorted(bodies, key=lambda item: item[0].start):
        entry = _entry(body, code)
        if entry is None:
            points.append(SeriesPoint(period=period, requests=0, data_produced=0, percent=None))
            continue
        name = entry["name"]
        points.append(
            SeriesPoint(
                period=period,
                requests=entry["requests"],
                data_produced=entry["data_produced"],
                percent=entry["data_produced_percent"],
                held=entry.get("held_requests", 0),
                still_held=entry.get("pending_on_hold", 0),
            )
        )
        entries = body["jurisdictions"] if code == "ALL" else [entry]
        for each in entries:
            for hold in each.get("holds", []):
                # A later report knows more (a lift), so it wins.
                holds[hold["id"]] = HoldSpan(
                    id=hold["id"],
                    jurisdiction=hold["jurisdiction"],
                    starts=hold["effective_from"],
                    ends=hold["effective_to"],
                    reason=hold["reason"],
                    # Reports published before the Chinese reason was kept have none.
                    reason_zh_hant=hold.get("reason_zh_hant", ""),
                )
    return Series(jurisdiction=code, name=name, points=points, holds=list(holds.values()))


def published_half_year_bodies(
    *, extra: tuple[Period, dict[str, Any]] | None = None
) -> list[tuple[Period, dict[str, Any]]]:
    """The body of the latest version of every published half-year (plus a draft, if given)."""
    bodies = [
        (parse_period(report.period), report.body)
        for report in published_latest_each()
        if parse_period(report.period).is_half_year
    ]
    if extra is not None:
        bodies = [(p, b) for p, b in bodies if p.label != extra[0].label] + [extra]
    return bodies


def jurisdiction_entry(body: dict[str, Any], code: str) -> dict[str, Any]:
    entry = _entry(body, code.upper())
    if entry is None:
        raise NotFound(f"the report names no jurisdiction {code!r}", code="jurisdiction_not_found")
    return entry


def public_reason(hold: Any) -> str:
    """A hold's public reason in the reader's language: the Chinese one on the Chinese pages
    where the hold has one, the English one otherwise. ``hold`` is a report body's hold (a
    dict), a ``HoldSpan`` or a ``JurisdictionHold``."""
    read = (
        hold.get
        if isinstance(hold, dict)
        else lambda name, default="": getattr(hold, name, default)
    )
    chinese = read("reason_zh_hant", "") if (get_language() or "").startswith("zh") else ""
    return str(chinese or read("reason", ""))
