"""The only function that changes a request's status."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict
from govreq.intake.models import LegalRequest, RequestStatus, StatusChange
from govreq.intake.services import lock_request, status_history_append
from govreq.lifecycle.guards import transition_effects, transition_guard
from govreq.lifecycle.workflow import transition_allowed
from govreq.review.deadlines import PAUSED_STATUSES
from govreq.review.models import AlertKind, DeadlineAlert


@transaction.atomic
def request_transition(
    *,
    actor: Actor,
    request: LegalRequest,
    to_status: RequestStatus,
    reason: str = "",
    now: datetime,
    audit_data: dict[str, object] | None = None,
) -> LegalRequest:
    """Move a request to ``to_status`` if the workflow allows it; the only way status changes.

    Checks the transition table (``lifecycle.workflow``) and the guards (``lifecycle.guards``),
    then writes the status history and the audit event ``request.status_changed`` in the same
    transaction; an illegal transition raises Conflict(code="illegal_transition").
    """
    request = lock_request(request)
    current = RequestStatus(request.status)
    if not transition_allowed(current, to_status, status_before_hold=request.status_before_hold):
        raise Conflict(
            f"{request.reference} is {current.label.lower()}; it cannot move to "
            f"{RequestStatus(to_status).label.lower()}",
            code="illegal_transition",
        )
    transition_guard(request, to_status, now=now)
    effects = transition_effects(request, to_status, now=now)
    if to_status == RequestStatus.ON_HOLD:
        request.status_before_hold = current
    else:
        request.status_before_hold = ""
    if current in PAUSED_STATUSES and to_status not in PAUSED_STATUSES:
        effects["respond_by"] = _clock_resumed(request, now)
    request.status = to_status
    request.updated_at = now
    request.save(update_fields=["status", "status_before_hold", "updated_at", "respond_by"])
    status_history_append(request, current, to_status, actor=actor, reason=reason, now=now)
    audit_record(
        actor=actor,
        action="request.status_changed",
        object_type="legal_request",
        object_id=request.public_id,
        data={"from": current, "to": to_status, "reason": reason, **effects, **(audit_data or {})},
        now=now,
    )
    return request


def _clock_resumed(request: LegalRequest, now: datetime) -> datetime:
    """The request leaves a paused stretch (the agency owed an answer, or a hold kept it): its
    response target moves by the length of the stretch, and a reminder already sent for the old
    target no longer counts."""
    paused_at = (
        StatusChange.objects.filter(request=request, to_status__in=PAUSED_STATUSES)
        .exclude(from_status__in=PAUSED_STATUSES)
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if paused_at is not None and now > paused_at:
        request.respond_by += now - paused_at
        DeadlineAlert.objects.filter(request=request, kind=AlertKind.DUE_SOON).delete()
    return request.respond_by
