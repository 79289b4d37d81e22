"""Reads for disclosure: what the agency may see of the outcome, and the productions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet

from govreq.core.errors import NotFound
from govreq.disclosure.models import Production
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.review.models import Decision, DecisionOutcome, RejectionReason

S = RequestStatus
# From these statuses on, the agency is told the decision (never while it awaits approval).
_TOLD = {
    DecisionOutcome.FULL: {S.APPROVED, S.PRODUCED, S.DELIVERED, S.CLOSED},
    DecisionOutcome.PARTIAL: {S.APPROVED, S.PRODUCED, S.DELIVERED, S.CLOSED},
    DecisionOutcome.PRESERVE: {S.PRESERVED, S.CLOSED},
    DecisionOutcome.REJECTED: {S.REJECTED},
    DecisionOutcome.NO_DATA: {S.CLOSED},
}


@dataclass(frozen=True, kw_only=True)
class AgencyDecision:
    """A decision as the agency sees it: the outcome, the letter, the public reasons and, for a
    partial disclosure, what was and was not produced. Rationale and approvals stay internal."""

    outcome: str
    decided_at: datetime
    letter: str
    rejection_reasons: list[dict[str, str]] = field(default_factory=list)
    produced_targets: list[dict[str, str]] = field(default_factory=list)
    not_produced_targets: list[dict[str, str]] = field(default_factory=list)
    produced_categories: list[str] = field(default_factory=list)
    not_produced_categories: list[str] = field(default_factory=list)
    produced_from: date | None = None
    produced_to: date | None = None


def agency_decision(request: LegalRequest) -> AgencyDecision | None:
    """The current decision once the agency is told it (a held request shows what it had)."""
    decision = Decision.objects.filter(request=request, superseded_at__isnull=True).first()
    if decision is None:
        return None
    status = request.status_before_hold if request.status == S.ON_HOLD else request.status
    if status not in _TOLD.get(DecisionOutcome(decision.outcome), set()):
        return None
    told = AgencyDecision(
        outcome=decision.outcome,
        decided_at=decision.decided_at,
        letter=decision.letter,
        rejection_reasons=[
            {"code": r, "label": str(RejectionReason(r).label)}
            for r in decision.rejection_reasons
            if r in RejectionReason.values
        ],
    )
    if decision.outcome not in (DecisionOutcome.FULL, DecisionOutcome.PARTIAL):
        return told
    targets = [{"type": t.type, "value": t.value, "id": str(t.pk)} for t in request.targets.all()]
    partial = decision.outcome == DecisionOutcome.PARTIAL
    approved_ids = {str(t) for t in decision.approved_target_ids} if partial else None
    categories = set(decision.approved_categories) if partial else set(request.data_categories)

    def public(target: dict[str, str]) -> dict[str, str]:
        return {"type": target["type"], "value": target["value"]}

    return AgencyDecision(
        outcome=told.outcome,
        decided_at=told.decided_at,
        letter=told.letter,
        produced_targets=[
            public(t) for t in targets if approved_ids is None or t["id"] in approved_ids
        ],
        not_produced_targets=[
            public(t) for t in targets if approved_ids is not None and t["id"] not in approved_ids
        ],
        produced_categories=sorted(categories),
        not_produced_categories=sorted(set(request.data_categories) - categories),
        produced_from=decision.approved_from or request.data_from,
        produced_to=decision.approved_to or request.data_to,
    )


def production_for_decision(decision: Decision) -> Production | None:
    """The decision's live (not purged) production, if any."""
    return Production.objects.filter(decision=decision).exclude(status="PURGED").first()


def productions_released(request: LegalRequest) -> QuerySet[Production]:
    """The productions released to the agency (newest first); unreleased ones are internal."""
    return Production.objects.filter(request=request, released_at__isnull=False).order_by(
        "-released_at", "-id"
    )


def production_for_agency(request: LegalRequest, production_id: str) -> Production:
    """A released production of the agency's own request, or NotFound."""
    production = (
        productions_released(request)
        .select_related("request")
        .filter(public_id=_uuid(production_id))
        .first()
    )
    if production is None:
        raise NotFound(f"no production {production_id}", code="production_not_found")
    return production


def production_get(production_id: str) -> Production:
    production = (
        Production.objects.select_related("request__agency", "decision", "released_by")
        .filter(public_id=_uuid(production_id))
        .first()
    )
    if production is None:
        raise NotFound(f"no production {production_id}", code="production_not_found")
    return production


def productions_of(request: LegalRequest) -> QuerySet[Production]:
    return Production.objects.filter(request=request).order_by("-created_at", "-id")


def manifest_summary(production: Production) -> dict[str, Any]:
    """The manifest's totals and files, for the pages (the full manifest is in the package)."""
    manifest = production.manifest or {}
    return {
        "totals": manifest.get("totals", {}),
        "files": manifest.get("files", []),
        "accounts": manifest.get("accounts", []),
        "collected_at": manifest.get("collected_at"),
        "audit_chain_head": manifest.get("audit_chain_head"),
        "signing_key": manifest.get("signing_key"),
    }


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"no production {value}", code="production_not_found") from None
