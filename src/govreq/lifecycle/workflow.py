"""The request workflow: one status field and the written table of legal transitions.

    RECEIVED -> IN_REVIEW -> (NEEDS_CLARIFICATION <-> IN_REVIEW) -> ESCALATED -> DECIDED
             -> APPROVED -> CLOSED

ON_HOLD is reachable from every open status and returns only to the status it came from (kept in
``status_before_hold``). WITHDRAWN (by the agency) ends a request early; REJECTED is a decision
taken in review or escalation. CLOSED, WITHDRAWN and REJECTED are final.

This table says which moves exist; ``lifecycle.guards`` adds what each needs (a decision, the
approvals, no hold in force), and both are checked by ``lifecycle.transitions.request_transition``,
the only function that changes a status.
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
    # DECIDED -> CLOSED is a NO_DATA decision; disclosing decisions need APPROVED first.
    S.DECIDED: frozenset({S.APPROVED, S.CLOSED, S.IN_REVIEW, S.WITHDRAWN, S.ON_HOLD}),
    S.APPROVED: frozenset({S.CLOSED, S.IN_REVIEW, S.WITHDRAWN, S.ON_HOLD}),
    # Leaving ON_HOLD is checked separately: only back to the remembered status.
    S.ON_HOLD: frozenset({S.WITHDRAWN}),
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
