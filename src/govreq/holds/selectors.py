from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from govreq.core.errors import NotFound
from govreq.holds.models import HoldReReview, JurisdictionHold
from govreq.holds.rules import HoldSpec, RequestScope, excepted, in_force, in_scope
from govreq.intake.models import FINAL_STATUSES, LegalRequest, RequestStatus, StatusChange

S = RequestStatus


def hold_spec(hold: JurisdictionHold) -> HoldSpec:
    return HoldSpec(
        id=hold.pk,
        jurisdiction=hold.jurisdiction_id,
        scope_kinds=frozenset(hold.scope_kinds),
        scope_offences=frozenset(hold.scope_offences),
        scope_agencies=frozenset(int(a) for a in hold.scope_agencies),
        scope_legal_basis=hold.scope_legal_basis,
        allow_emergency=hold.allow_emergency,
        allow_offences=frozenset(hold.allow_offences),
        effective_from=hold.effective_from,
        effective_to=hold.effective_to,
        reason=hold.reason,
    )


def request_scope(request: LegalRequest) -> RequestScope:
    return RequestScope(
        jurisdiction=request.jurisdiction_id,
        kind=request.kind,
        offence_category=request.offence_category,
        agency_id=request.agency_id,
        legal_basis=request.legal_basis,
    )


def holds_possibly_in_force(jurisdiction: str, at: datetime) -> list[HoldSpec]:
    """Holds on the jurisdiction that have not ended by ``at`` (rules.in_force decides the rest)."""
    rows = JurisdictionHold.objects.filter(jurisdiction_id=jurisdiction).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=at)
    )
    return [hold_spec(row) for row in rows]


def hold_list(*, jurisdiction: str | None = None) -> QuerySet[JurisdictionHold]:
    queryset = JurisdictionHold.objects.select_related("jurisdiction", "created_by", "lifted_by")
    if jurisdiction:
        queryset = queryset.filter(jurisdiction_id=jurisdiction.upper())
    return queryset.order_by("-effective_from", "-id")


def hold_get(hold_id: int) -> JurisdictionHold:
    hold = hold_list().filter(pk=hold_id).first()
    if hold is None:
        raise NotFound(f"no hold with id {hold_id}", code="hold_not_found")
    return hold


def open_requests_in_scope(spec: HoldSpec) -> list[LegalRequest]:
    """Open requests the hold's scope covers (whatever the time and the exceptions)."""
    candidates = LegalRequest.objects.filter(jurisdiction_id=spec.jurisdiction).exclude(
        status__in=FINAL_STATUSES
    )
    if spec.scope_kinds:
        candidates = candidates.filter(kind__in=spec.scope_kinds)
    if spec.scope_offences:
        candidates = candidates.filter(offence_category__in=spec.scope_offences)
    if spec.scope_agencies:
        candidates = candidates.filter(agency_id__in=spec.scope_agencies)
    rows = candidates.select_related("agency").order_by("pk")
    return [r for r in rows if in_scope(spec, request_scope(r))]


def approved_since_start(spec: HoldSpec) -> list[tuple[LegalRequest, datetime]]:
    """Requests in scope (not excepted) approved within the hold's period."""
    approvals = (
        StatusChange.objects.filter(
            to_status=S.APPROVED,
            occurred_at__gte=spec.effective_from,
            request__jurisdiction_id=spec.jurisdiction,
        )
        .select_related("request", "request__agency")
        .order_by("occurred_at")
    )
    if spec.effective_to is not None:
        approvals = approvals.filter(occurred_at__lt=spec.effective_to)
    found: list[tuple[LegalRequest, datetime]] = []
    seen: set[int] = set()
    for change in approvals:
        request = change.request
        scope = request_scope(request)
        if request.pk in seen or not in_scope(spec, scope) or excepted(spec, scope):
            continue
        seen.add(request.pk)
        found.append((request, change.occurred_at))
    return found


@dataclass(frozen=True, kw_only=True)
class HoldPreview:
    would_hold: list[str]
    excepted: list[str]
    would_flag: list[str]


def hold_preview(
    *,
    jurisdiction_code: str,
    effective_from: datetime,
    now: datetime,
    effective_to: datetime | None = None,
    scope_kinds: list[str] | None = None,
    scope_offences: list[str] | None = None,
    scope_agencies: list[int] | None = None,
    scope_legal_basis: str = "",
    allow_emergency: bool = False,
    allow_offences: list[str] | None = None,
) -> HoldPreview:
    """What placing this hold would do, without doing it ("this hold would put N on hold")."""
    spec = HoldSpec(
        id=0,
        jurisdiction=jurisdiction_code.strip().upper(),
        scope_kinds=frozenset(scope_kinds or []),
        scope_offences=frozenset(scope_offences or []),
        scope_agencies=frozenset(scope_agencies or []),
        scope_legal_basis=scope_legal_basis.strip(),
        allow_emergency=allow_emergency,
        allow_offences=frozenset(allow_offences or []),
        effective_from=effective_from,
        effective_to=effective_to,
    )
    would_hold: list[str] = []
    excepted_refs: list[str] = []
    if in_force(spec, now):
        for request in open_requests_in_scope(spec):
            if excepted(spec, request_scope(request)):
                excepted_refs.append(request.reference)
            elif request.status != S.ON_HOLD:
                would_hold.append(request.reference)
    flagged = [request.reference for request, _ in approved_since_start(spec)]
    return HoldPreview(would_hold=would_hold, excepted=excepted_refs, would_flag=flagged)


def hold_requests(hold: JurisdictionHold) -> tuple[list[LegalRequest], list[LegalRequest]]:
    """The requests a hold keeps ON_HOLD now (the first 1,000 by receipt), and those it flagged
    for re-review."""
    spec = hold_spec(hold)
    on_hold = [
        r
        for r in LegalRequest.objects.filter(
            jurisdiction_id=hold.jurisdiction_id, status=S.ON_HOLD
        ).order_by("received_at")[:1000]
        if in_scope(spec, request_scope(r))
    ]
    flagged = [
        f.request
        for f in HoldReReview.objects.filter(hold=hold).select_related("request").order_by("id")
    ]
    return on_hold, flagged
