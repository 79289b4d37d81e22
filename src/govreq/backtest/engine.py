"""Replaying a hypothetical hold over the recorded history of every request in a window.

Read-only by construction: the history is read in primary-key order, a chunk at a time, and
replayed by the pure engine the hold preview also uses (``holds.replay``); nothing is written,
no transaction is opened for writing, and the audit chain is untouched. Memory is bounded by the
chunk and the number of requests *affected*, never by the number of requests read.

For each reporting period the window touches, the back-test also counts the hold's jurisdiction
twice by the transparency report's own rules (``transparency.counting``, the same query): as
recorded, and under the alternative, and sets the published numbers beside them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from govreq.core.errors import NotFound, ValidationFailed
from govreq.holds.replay import (
    APPROVED,
    DELIVERED,
    ON_HOLD,
    History,
    Replayed,
    Step,
    replay,
    status_at,
)
from govreq.holds.rules import HoldSpec
from govreq.holds.selectors import histories
from govreq.intake.models import LegalRequest, Target
from govreq.transparency.counting import RequestClass, Tally, request_classes
from govreq.transparency.models import PublishedReport
from govreq.transparency.periods import Period, half_year_containing, half_years_between
from govreq.transparency.selectors import jurisdiction_entry

MAX_WINDOW = timedelta(days=366 * 10)
_CHUNK = 2000


@dataclass(frozen=True, kw_only=True)
class Window:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationFailed.single("window", "must end after it starts")
        if self.end - self.start > MAX_WINDOW:
            raise ValidationFailed.single("window", "may span at most ten years")


@dataclass(frozen=True, kw_only=True)
class AffectedRequest:
    """One request the hypothetical hold would have changed."""

    reference: str
    received_at: datetime
    kind: str
    status_recorded: str  # its status now, as recorded
    held_at: datetime | None  # when the hold would have put it on hold (None: it would not)
    excepted: bool  # let through by the hold's exception: needs a human-rights approval
    flagged_at: datetime | None  # approved inside the hold's period before the hold reached it
    stopped_steps: tuple[Step, ...]  # the platform's steps that would not have happened
    stopped_delivery_at: datetime | None  # a delivery that would not have happened
    accounts: tuple[str, ...]  # the accounts whose data that delivery disclosed
    check_change: str  # "PASS -> BLOCK": how the JURISDICTION_HOLD check would have read

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "received_at": _iso(self.received_at),
            "kind": self.kind,
            "status_recorded": self.status_recorded,
            "held_at": _iso(self.held_at),
            "excepted": self.excepted,
            "flagged_at": _iso(self.flagged_at),
            "stopped_steps": [
                {"at": _iso(step.at), "to_status": step.to_status} for step in self.stopped_steps
            ],
            "stopped_delivery_at": _iso(self.stopped_delivery_at),
            "accounts": list(self.accounts),
            "check_change": self.check_change,
        }


HEADLINE = (
    "requests",
    "data_produced",
    "data_produced_percent",
    "held_requests",
    "pending_on_hold",
)


@dataclass(frozen=True, kw_only=True)
class PeriodHeadline:
    """The report's headline numbers for the hold's jurisdiction in one period: as published
    (None when the period was never published), as recorded, and under the alternative."""

    period: str
    jurisdiction: str
    published_version: int | None
    published: dict[str, int | None] | None
    recorded: dict[str, int | None]
    alternative: dict[str, int | None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "jurisdiction": self.jurisdiction,
            "published_version": self.published_version,
            "published": self.published,
            "recorded": self.recorded,
            "alternative": self.alternative,
        }


@dataclass(kw_only=True)
class Totals:
    requests_replayed: int = 0
    covered: int = 0
    would_hold: int = 0
    excepted: int = 0
    flagged: int = 0
    stopped_deliveries: int = 0
    stopped_accounts: int = 0
    check_changes: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(kw_only=True)
class Backtest:
    """The back-test's inputs and, once ``run`` has been iterated, its totals and headlines."""

    hold: HoldSpec
    placed_at: datetime
    window: Window
    now: datetime
    totals: Totals = field(default_factory=Totals)
    headlines: list[PeriodHeadline] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        hold = self.hold
        return {
            "hold": {
                "jurisdiction": hold.jurisdiction,
                "effective_from": _iso(hold.effective_from),
                "effective_to": _iso(hold.effective_to),
                "placed_at": _iso(self.placed_at),
                "received_from_start": hold.received_from_start,
                "scope_kinds": sorted(hold.scope_kinds),
                "scope_offences": sorted(hold.scope_offences),
                "scope_agencies": sorted(hold.scope_agencies),
                "scope_legal_basis": hold.scope_legal_basis,
                "allow_emergency": hold.allow_emergency,
                "allow_offences": sorted(hold.allow_offences),
            },
            "window": {"start": _iso(self.window.start), "end": _iso(self.window.end)},
            "as_of": _iso(self.now),
        }

    def run(self) -> Iterator[AffectedRequest]:
        """Replay every request of the hold's jurisdiction received in the window; yield each
        one the hold would have changed, in order of receipt within each period. Afterwards
        ``totals`` and ``headlines`` hold the summary."""
        self.totals = Totals()
        self.headlines = []
        first = half_year_containing(self.window.start)
        last = half_year_containing(self.window.end - timedelta(microseconds=1))
        for period in half_years_between(first, last):
            yield from self._period(period)

    def _period(self, period: Period) -> Iterator[AffectedRequest]:
        jurisdiction = self.hold.jurisdiction
        cutoff = min(period.end, self.now)
        if cutoff <= period.start:
            return
        received = LegalRequest.objects.filter(
            jurisdiction_id=jurisdiction,
            received_at__gte=period.start,
            received_at__lt=cutoff,
        )
        recorded, alternative = Tally(), Tally()
        classes = request_classes(
            received, cutoff=cutoff, held_jurisdictions=[jurisdiction], chunk=_CHUNK
        )
        pending: list[tuple[Replayed, RequestClass]] = []
        for (pk, request_class, accounts), history in zip(
            classes, histories(received, chunk=_CHUNK), strict=True
        ):
            if pk != history.id:  # both walks are keyset walks over the same rows
                raise RuntimeError("back-test walks out of step")
            banded = request_class.national_security
            recorded.add(request_class, requests=1, accounts=accounts, banded=banded)
            in_window = self.window.start <= history.scope.received_at < self.window.end
            if not in_window:
                alternative.add(request_class, requests=1, accounts=accounts, banded=banded)
                continue
            self.totals.requests_replayed += 1
            result = replay(self.hold, history, placed_at=self.placed_at, until=self.now)
            changed = _alternative_class(
                request_class, result, cutoff=cutoff, hold_end=self.hold.effective_to
            )
            alternative.add(changed, requests=1, accounts=accounts, banded=banded)
            if result.covered:
                self.totals.covered += 1
            if result.affected or (result.excepted and result.reached_at is not None):
                pending.append((result, request_class))
            if len(pending) >= _CHUNK:
                yield from self._affected(pending)
                pending = []
        yield from self._affected(pending)
        self.headlines.append(self._headline(period, recorded, alternative))

    def _affected(self, batch: list[tuple[Replayed, RequestClass]]) -> Iterator[AffectedRequest]:
        delivered_ids = [r.history.id for r, _ in batch if r.stopped_deliveries]
        accounts: dict[int, list[str]] = {}
        for request_id, kind, value in (
            Target.objects.filter(request_id__in=delivered_ids)
            .order_by("request_id", "id")
            .values_list("request_id", "type", "value")
        ):
            accounts.setdefault(request_id, []).append(f"{kind}:{value}")
        statuses = dict(
            LegalRequest.objects.filter(pk__in=[r.history.id for r, _ in batch]).values_list(
                "pk", "status"
            )
        )
        for result, _ in sorted(batch, key=lambda item: item[0].history.scope.received_at):
            history = result.history
            deliveries = result.stopped_deliveries
            check_change = _check_change(result)
            row = AffectedRequest(
                reference=history.reference,
                received_at=history.scope.received_at,
                kind=history.scope.kind,
                status_recorded=statuses.get(history.id, ""),
                held_at=result.reached_at if result.held else None,
                excepted=result.excepted,
                flagged_at=result.flagged_at,
                stopped_steps=result.stopped,
                stopped_delivery_at=deliveries[0].at if deliveries else None,
                accounts=tuple(accounts.get(history.id, ())) if deliveries else (),
                check_change=check_change,
            )
            totals = self.totals
            totals.would_hold += row.held_at is not None
            totals.excepted += row.excepted
            totals.flagged += row.flagged_at is not None
            totals.stopped_deliveries += row.stopped_delivery_at is not None
            totals.stopped_accounts += len(row.accounts)
            totals.check_changes += bool(check_change)
            yield row

    def _headline(self, period: Period, recorded: Tally, alternative: Tally) -> PeriodHeadline:
        jurisdiction = self.hold.jurisdiction
        report = PublishedReport.objects.filter(period=period.label).order_by("-version").first()
        published = None
        if report is not None:
            try:
                entry = jurisdiction_entry(report.body, jurisdiction)
            except NotFound:
                entry = {}  # the published period had no request from there
            published = {key: entry.get(key, 0) for key in HEADLINE}
        return PeriodHeadline(
            period=period.label,
            jurisdiction=jurisdiction,
            published_version=report.version if report is not None else None,
            published=published,
            recorded=_headline_of(recorded),
            alternative=_headline_of(alternative),
        )


def _headline_of(tally: Tally) -> dict[str, int | None]:
    numbers = tally.as_dict(band_width=None)
    return {key: numbers.get(key) for key in HEADLINE}


def _alternative_class(
    actual: RequestClass, result: Replayed, *, cutoff: datetime, hold_end: datetime | None
) -> RequestClass:
    """The request's class at the cut-off had the hold reached it: the steps it stopped never
    happened, and from the moment it reached the request until it ended, the request was on
    hold."""
    if not result.held and not result.stopped:
        return actual
    assert result.reached_at is not None
    if result.reached_at >= cutoff:
        return actual
    stopped = set(result.stopped)
    steps = [step for step in result.history.steps if step not in stopped]
    steps.append(Step(at=result.reached_at, to_status=ON_HOLD))
    if hold_end is not None:
        # Lifted: back to where it was (lifecycle.holding releases it so).
        before = status_at(steps, result.reached_at - timedelta(microseconds=1))
        steps.append(Step(at=hold_end, to_status=before or "RECEIVED"))
    steps.sort(key=lambda step: step.at)
    before_cutoff = [step for step in steps if step.at < cutoff]
    status = before_cutoff[-1].to_status if before_cutoff else "RECEIVED"
    reached = {step.to_status for step in before_cutoff}
    progress = DELIVERED if DELIVERED in reached else APPROVED if APPROVED in reached else ""
    if actual.progress == "":
        progress = ""  # the decision current at the cut-off was never FULL or PARTIAL
    return replace(actual, status=status, progress=progress, held=True)


def _check_change(result: Replayed) -> str:
    """How the JURISDICTION_HOLD check would have read once the hold reached the request."""
    if result.reached_at is None:
        return ""
    if result.held:
        return "PASS -> BLOCK"
    if result.excepted and result.status_when_reached != ON_HOLD:
        return "PASS -> WARN"
    return ""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


__all__ = ["AffectedRequest", "Backtest", "History", "PeriodHeadline", "Totals", "Window"]
