from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from govreq.core.errors import NotFound
from govreq.holds.models import JurisdictionHold
from govreq.holds.rules import HoldSpec, RequestScope
from govreq.intake.models import LegalRequest


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
