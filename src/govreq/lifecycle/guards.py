"""What each move needs, checked at the one place status changes, and by the actions before
they do anything.

Even code that calls ``lifecycle.transitions.request_transition`` directly cannot approve
without the approvals, decide without a decision, or release a request from a hold still in
force.
"""

from __future__ import annotations

from datetime import datetime

from govreq.core.errors import Conflict
from govreq.disclosure.models import OtherDelivery, Production, ProductionPurpose, ProductionStatus
from govreq.holds.models import HoldReReview
from govreq.holds.rules import holding
from govreq.holds.selectors import holds_possibly_in_force, request_scope
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.review.models import DISCLOSING_OUTCOMES, Decision, DecisionOutcome
from govreq.review.services import approvals_missing, refuse_without_call_back

S = RequestStatus


def refuse_if_held(request: LegalRequest, now: datetime) -> None:
    """No decision, approval or closing while a hold covers the request, whoever asks."""
    holds = holding(
        holds_possibly_in_force(request.jurisdiction_id, now), request_scope(request), now
    )
    if request.status == S.ON_HOLD or holds:
        hold = holds[0] if holds else None
        detail = f" under hold #{hold.id} on {hold.jurisdiction} ({hold.reason})" if hold else ""
        raise Conflict(
            f"{request.reference} is on hold{detail}: no decision, approval or disclosure is "
            "possible while the hold is in force",
            code="on_hold",
        )


# Moves towards a disclosure (or a snapshot, or closing) that no hold in force allows.
_NOT_WHILE_HELD = frozenset({S.DECIDED, S.APPROVED, S.PRODUCED, S.DELIVERED, S.PRESERVED, S.CLOSED})


# Moves that let data leave, or end the case, which an open re-review flag stops.
_NOT_WHILE_RE_REVIEW = frozenset({S.PRODUCED, S.DELIVERED, S.CLOSED})


def refuse_if_re_review_open(request: LegalRequest, to_status: str) -> None:
    """A request approved after a hold's start waits for a reviewer's re-review: nothing is
    released, delivered or closed before it, and lifting the hold does not skip it."""
    if to_status not in _NOT_WHILE_RE_REVIEW:
        return
    flag = (
        HoldReReview.objects.filter(request=request, resolved_at__isnull=True)
        .order_by("id")
        .first()
    )
    if flag is not None:
        raise Conflict(
            f"{request.reference} was approved after hold #{flag.hold_id} took effect and must "
            "be reviewed again first: confirm the approval with a reason, or return it to review",
            code="re_review_required",
        )


def transition_guard(request: LegalRequest, to_status: str, *, now: datetime) -> None:
    leaving_hold = request.status == S.ON_HOLD and to_status not in (S.WITHDRAWN, S.REJECTED)
    if not leaving_hold:  # back to where it was is not a step forward: the flag stays open
        refuse_if_re_review_open(request, to_status)
    if leaving_hold or to_status in _NOT_WHILE_HELD:
        holds = holding(
            holds_possibly_in_force(request.jurisdiction_id, now), request_scope(request), now
        )
        if holds:
            raise Conflict(
                f"{request.reference} is covered by hold #{holds[0].id} on "
                f"{holds[0].jurisdiction}; it stays on hold while the hold is in force",
                code="on_hold",
            )
    if leaving_hold:
        return  # returning to the remembered status: what was valid there is valid again
    decision = Decision.objects.filter(request=request, superseded_at__isnull=True).first()
    if to_status == S.DECIDED and decision is None:
        raise Conflict(f"{request.reference} has no decision", code="no_decision")
    if to_status == S.APPROVED and request.status != S.PRODUCED:
        refuse_without_call_back(request)
    if to_status == S.APPROVED:
        if decision is None or decision.outcome not in DISCLOSING_OUTCOMES:
            raise Conflict(f"{request.reference} has no decision to approve", code="no_decision")
        missing = approvals_missing(decision)
        if missing:
            raise Conflict(
                f"{request.reference} still needs: {', '.join(missing).lower()} approval(s)",
                code="four_eyes",
            )
    if to_status == S.REJECTED and (
        decision is None or decision.outcome != DecisionOutcome.REJECTED
    ):
        raise Conflict(f"{request.reference} has no rejection decision", code="no_decision")
    no_data = decision is not None and decision.outcome == DecisionOutcome.NO_DATA
    if to_status == S.CLOSED and request.status == S.DECIDED and not no_data:
        raise Conflict(
            f"{request.reference} must be approved before it is closed", code="four_eyes"
        )
    _disclosure_guard(request, to_status, decision)


def _disclosure_guard(request: LegalRequest, to_status: str, decision: Decision | None) -> None:
    """What leaves the platform is what a production (or a recorded delivery) proves."""
    productions = Production.objects.filter(decision=decision) if decision else None
    if to_status == S.PRESERVED and not (
        decision is not None
        and decision.outcome == DecisionOutcome.PRESERVE
        and productions is not None
        and productions.filter(
            purpose=ProductionPurpose.PRESERVATION, status=ProductionStatus.READY
        ).exists()
    ):
        raise Conflict(
            f"{request.reference} has no sealed preservation snapshot", code="no_snapshot"
        )
    if to_status == S.PRODUCED and not (
        productions is not None and productions.filter(released_at__isnull=False).exists()
    ):
        raise Conflict(
            f"{request.reference} has no released production", code="production_not_released"
        )
    if to_status == S.DELIVERED:
        if request.status == S.PRODUCED:
            delivered = (
                productions is not None and productions.filter(delivered_at__isnull=False).exists()
            )
        else:
            delivered = (
                decision is not None and OtherDelivery.objects.filter(decision=decision).exists()
            )
        if not delivered:
            raise Conflict(
                f"{request.reference} has not been delivered: the agency downloads the "
                "released package, or a delivery by other means is recorded with its evidence",
                code="delivery_required",
            )
    if (
        to_status == S.APPROVED
        and request.status == S.PRODUCED
        and (
            productions is None
            or productions.exclude(status=ProductionStatus.PURGED).exists()
            or productions.filter(delivered_at__isnull=False).exists()
        )
    ):
        raise Conflict(
            f"{request.reference}'s package is still downloadable or was delivered",
            code="illegal_transition",
        )


def transition_effects(
    request: LegalRequest, to_status: str, *, now: datetime
) -> dict[str, object]:
    """What a move implies for the review record (returned for the audit event): back to
    review, the current decision lapses."""
    if to_status == S.IN_REVIEW and request.status in (S.DECIDED, S.APPROVED):
        current = Decision.objects.filter(request=request, superseded_at__isnull=True)
        superseded = list(current.values_list("pk", flat=True))
        current.update(superseded_at=now)
        return {"superseded_decisions": superseded}
    return {}
