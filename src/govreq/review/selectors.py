"""Reads for the staff side: the queue, and a request with its whole review record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, F, IntegerField, Prefetch, QuerySet, Value, When

from govreq.accounts.models import User
from govreq.holds.models import HoldReReview
from govreq.holds.rules import HoldSpec, excepted, in_force, in_scope
from govreq.holds.selectors import holds_possibly_in_force, request_scope
from govreq.intake.models import OPEN_STATUSES, LegalRequest, RequestKind
from govreq.review.checks import SEVERITY
from govreq.review.models import Approval, CheckResult, CheckRun, Decision


def request_queue(
    *,
    statuses: list[str] | None = None,
    jurisdiction: str | None = None,
    kind: str | None = None,
    deadline_before: datetime | None = None,
    assigned_to: User | None = None,
) -> QuerySet[LegalRequest]:
    """Open requests (or those in ``statuses``): emergencies first, then nearest deadline."""
    queryset = LegalRequest.objects.select_related("agency", "jurisdiction", "assigned_to")
    queryset = queryset.filter(status__in=statuses or [str(s) for s in OPEN_STATUSES])
    if jurisdiction:
        queryset = queryset.filter(jurisdiction_id=jurisdiction.upper())
    if kind:
        queryset = queryset.filter(kind=kind)
    if deadline_before is not None:
        queryset = queryset.filter(deadline_at__lt=deadline_before)
    if assigned_to is not None:
        queryset = queryset.filter(assigned_to=assigned_to)
    return queryset.annotate(
        target_count=Count("targets"),
        emergency_first=Case(
            When(kind=RequestKind.EMERGENCY, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    ).order_by("emergency_first", F("deadline_at").asc(nulls_last=True), "received_at", "id")


def queue_counts() -> dict[str, int]:
    rows = LegalRequest.objects.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


@dataclass(frozen=True, kw_only=True)
class CoveringHold:
    hold: HoldSpec
    excepted: bool


@dataclass(frozen=True, kw_only=True)
class ReviewRecord:
    request: LegalRequest
    check_run: CheckRun | None
    results: list[CheckResult]
    decisions: list[Decision]
    holds: list[CoveringHold]
    re_reviews: list[HoldReReview]


def review_record(request: LegalRequest, *, now: datetime) -> ReviewRecord:
    run = (
        CheckRun.objects.filter(request=request)
        .select_related("policy_version")
        .order_by("-id")
        .first()
    )
    results = sorted(run.results.all(), key=lambda r: (-SEVERITY[r.outcome], r.id)) if run else []
    decisions = list(
        Decision.objects.filter(request=request)
        .select_related("decided_by")
        .prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("approver"))
        )
        .order_by("-decided_at", "-id")
    )
    scope = request_scope(request)
    holds = [
        CoveringHold(hold=h, excepted=excepted(h, scope))
        for h in holds_possibly_in_force(request.jurisdiction_id, now)
        if in_force(h, now) and in_scope(h, scope)
    ]
    re_reviews = list(HoldReReview.objects.filter(request=request).select_related("hold"))
    return ReviewRecord(
        request=request,
        check_run=run,
        results=results,
        decisions=decisions,
        holds=holds,
        re_reviews=re_reviews,
    )
