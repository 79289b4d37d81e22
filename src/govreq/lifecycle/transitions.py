"""The only function that changes a request's status."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from govreq.audit.services import audit_record
from govreq.core.actors import Actor
from govreq.core.errors import Conflict
from govreq.intake.models import LegalRequest, RequestStatus
from govreq.intake.services import lock_request, status_history_append
from govreq.lifecycle.guards import transition_effects, transition_guard
from govreq.lifecycle.workflow import transition_allowed


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
    request.status = to_status
    request.updated_at = now
    request.save(update_fields=["status", "status_before_hold", "updated_at"])
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
