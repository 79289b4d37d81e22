"""The request workflow: one status field and the written table of legal transitions.

    RECEIVED -> IN_REVIEW -> (NEEDS_CLARIFICATION <-> IN_REVIEW) -> ESCALATED -> DECIDED
             -> APPROVED -> PRODUCED (released) -> DELIVERED (downloaded) -> CLOSED

A NO_DATA decision closes from DECIDED; a PRESERVE decision (preservation requests) goes from
DECIDED to PRESERVED once its snapshot is sealed. A package that expires undelivered returns the
request from PRODUCED to APPROVED; a delivery made outside govreq goes from APPROVED to
DELIVERED with its evidence. ON_HOLD is reachable from every open status and returns only to the
status it came from (kept in ``status_before_hold``), unless it is rejected for the hold's sake
(reason JURISDICTION_HOLD). WITHDRAWN (by the agency) ends a request
early; REJECTED is a decision taken in review or escalation. CLOSED, WITHDRAWN and REJECTED are
final.

This table says which moves exist; ``lifecycle.guards`` adds what each needs (a decision, the
approvals, a released or delivered production, no hold in force), and both are checked by
``lifecycle.transitions.request_transition``, the only function that changes a status.
"""

from __future__ import annotations

from govreq.intake.models import FINAL_STATUSES, OPEN_STATUSES
from govreq.intake.models import RequestStatus as S

__all__ = ["FINAL_STATUSES", "OPEN_STATUSES", "TRANSITIONS", "transition_allowed"]

TRANSITIONS: dict[S, frozenset[S]] = {
    S.RECEIVED: frozenset({S.IN_REVIEW, S.WITHDRAWN, S.ON_HOLD}),
    S.IN_REVIEW: frozenset(
        {S.NEEDS_CLARIFICATION, S.ESCALATED, S.DECIDED, S.REJECTED, S.WITHDRAWN, S.ON_HOLD}
    ),
    S.NEEDS_CLARIFICATION: frozenset({S.IN_REVIEW, S.WITHDRAWN, S.ON_HOLD}),
    S.ESCALATED: frozenset({S.IN_REVIEW, S.DECIDED, S.REJECTED, S.WITHDRAWN, S.ON_HOLD}),
    # DECIDED -> CLOSED is a NO_DATA decision, DECIDED -> PRESERVED a sealed PRESERVE snapshot;
    # disclosing decisions need APPROVED first.
    S.DECIDED: frozenset({S.APPROVED, S.PRESERVED, S.CLOSED, S.IN_REVIEW, S.WITHDRAWN, S.ON_HOLD}),
    # An approved disclosure closes only after a delivery: released (PRODUCED), or recorded as
    # made by other means (DELIVERED).
    S.APPROVED: frozenset({S.PRODUCED, S.DELIVERED, S.IN_REVIEW, S.WITHDRAWN, S.ON_HOLD}),
    S.PRODUCED: frozenset({S.DELIVERED, S.APPROVED, S.WITHDRAWN, S.ON_HOLD}),
    S.DELIVERED: frozenset({S.CLOSED, S.ON_HOLD}),
    S.PRESERVED: frozenset({S.CLOSED, S.WITHDRAWN, S.ON_HOLD}),
    # Leaving ON_HOLD is checked separately: only back to the remembered status, or out: the
    # agency withdraws, or a reviewer rejects it because of the hold (JURISDICTION_HOLD).
    S.ON_HOLD: frozenset({S.WITHDRAWN, S.REJECTED}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.REJECTED: frozenset(),
}


def transition_allowed(current: str, target: str, *, status_before_hold: str = "") -> bool:
    """Whether a request in ``current`` may move to ``target``."""
    current_status, target_status = S(current), S(target)
    if current_status == S.ON_HOLD and status_before_hold and target_status == status_before_hold:
        return True
    return target_status in TRANSITIONS[current_status]
