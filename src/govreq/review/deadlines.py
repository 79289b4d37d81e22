"""When the platform owes the agency an answer, and when staff are reminded. Pure: no ORM, no
clock.

A request's response target (``respond_by``) is set when it is received, from the policy's
``deadlines`` (``policy.document.Deadlines``): an emergency within 4 hours of receipt, anything
else by the agency's own deadline or within 30 days. The clock only counts while the answer is
the platform's to give: not while the agency owes a clarification, nor while a hold keeps the
request, nor once a package has been released or the request is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from govreq.intake.models import RequestStatus as S
from govreq.policy.document import Deadlines

# Statuses in which the answer is the platform's to give: the response clock runs.
RESPONDING_STATUSES: frozenset[str] = frozenset(
    {S.RECEIVED, S.IN_REVIEW, S.ESCALATED, S.DECIDED, S.APPROVED}
)


# Statuses in which the answer is not the platform's to give: the clock stops, and the time
# spent in them is added to the target when the request leaves them.
PAUSED_STATUSES: frozenset[str] = frozenset({S.NEEDS_CLARIFICATION, S.ON_HOLD})


def respond_by(
    *, kind: str, received_at: datetime, agency_deadline: datetime | None, policy: Deadlines
) -> datetime:
    """The moment the platform should have answered a request received at ``received_at``."""
    target = received_at + timedelta(hours=policy.respond_within(kind))
    if agency_deadline is None:
        return target
    if kind in policy.fixed_kinds:
        return min(target, agency_deadline)
    return agency_deadline


def remind_at(*, kind: str, respond_by: datetime, policy: Deadlines) -> datetime:
    """When the assignee and the reviewers are reminded of a request still unanswered."""
    return respond_by - timedelta(hours=policy.remind_before(kind))


def emergency_alert_at(*, received_at: datetime, policy: Deadlines) -> datetime:
    """When an emergency that nobody took alerts every reviewer."""
    return received_at + timedelta(minutes=policy.emergency_unassigned_minutes)


@dataclass(frozen=True, kw_only=True)
class Clock:
    """A request's response clock at one moment, for a person to read."""

    respond_by: datetime
    running: bool  # the answer is the platform's to give
    overdue: bool
    left: timedelta  # negative once overdue


def clock_at(*, status: str, respond_by: datetime, now: datetime) -> Clock:
    running = status in RESPONDING_STATUSES
    left = respond_by - now
    return Clock(
        respond_by=respond_by, running=running, overdue=running and left < timedelta(0), left=left
    )
