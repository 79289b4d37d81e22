"""What a hold does to one request, replayed over its recorded history. Pure: no ORM, no clock.

One engine answers both questions counsel asks about a hold:

* **Now** (the preview before placing it): a hold placed at ``placed_at = now`` reaches every
  open request it covers at once, and flags for re-review the requests approved since its start.
* **In the past** (the back-test): "had we placed it at its effective moment" is the same replay
  with ``placed_at = effective_from``; every request received while it was in force is reached at
  receipt, and everything the platform did to the request while it was held would not have
  happened (an approval, a release, a delivery).

A hold reaches a request at ``max(placed_at, effective_from, received_at)``, provided the hold is
still in force then and the request is still open (not closed, rejected or withdrawn). Placed
after its effective moment (retroactively), it cannot undo what happened before it was placed:
approvals made inside its period before it reached the request are flagged for re-review, exactly
as ``holds.services.hold_flag_retroactive`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from govreq.holds.rules import HoldSpec, RequestScope, excepted, in_scope

# The statuses that end a request (intake.models.FINAL_STATUSES, named here to keep this pure).
FINAL = frozenset({"CLOSED", "WITHDRAWN", "REJECTED"})
ON_HOLD = "ON_HOLD"
APPROVED = "APPROVED"
DELIVERED = "DELIVERED"
# Steps a hold does not stop: the agency's own withdrawal, and another hold.
NOT_STOPPED = frozenset({"WITHDRAWN", ON_HOLD})


@dataclass(frozen=True, kw_only=True)
class Step:
    """One recorded status change."""

    at: datetime
    to_status: str


@dataclass(frozen=True, kw_only=True)
class History:
    """A request as the replay sees it: what a hold looks at, and its status history (oldest
    first)."""

    id: int
    reference: str
    scope: RequestScope
    steps: tuple[Step, ...]


@dataclass(frozen=True, kw_only=True)
class Replayed:
    """What the hold would do (or would have done) to one request."""

    history: History
    covered: bool  # within the hold's scope
    excepted: bool  # covered, but let through by the hold's exception (with HR approval)
    # Covered when the hold covers every open request, but received before its start: held or
    # not depending on the reading of the start (``received_from_start``).
    received_before_start: bool
    reached_at: datetime | None  # when the hold would reach the request while it was open
    status_when_reached: str  # its status at that moment ("" when not reached)
    flagged_at: datetime | None  # an approval inside the hold's period before it was reached
    stopped: tuple[Step, ...] = ()  # the platform's steps that would not have happened

    @property
    def held(self) -> bool:
        """The hold would put (or would have put) the request on hold: it was not already."""
        return (
            self.reached_at is not None
            and not self.excepted
            and self.status_when_reached != ON_HOLD
        )

    @property
    def stopped_deliveries(self) -> tuple[Step, ...]:
        return tuple(step for step in self.stopped if step.to_status == DELIVERED)

    @property
    def affected(self) -> bool:
        return self.held or self.flagged_at is not None or bool(self.stopped)


def status_at(steps: Sequence[Step], moment: datetime) -> str:
    """The status the history shows at ``moment`` (steps at that very moment included); "" before
    the first step."""
    status = ""
    for step in steps:
        if step.at > moment:
            break
        status = step.to_status
    return status


def reached_at(hold: HoldSpec, history: History, *, placed_at: datetime) -> datetime | None:
    """When a hold placed at ``placed_at`` would reach this request (None: it never would, because
    the hold had ended, or the request had ended first)."""
    moment = max(placed_at, hold.effective_from, history.scope.received_at)
    if hold.effective_to is not None and moment >= hold.effective_to:
        return None
    status = status_at(history.steps, moment)
    if status in FINAL:
        return None
    return moment


def replay(hold: HoldSpec, history: History, *, placed_at: datetime, until: datetime) -> Replayed:
    """What ``hold``, placed at ``placed_at``, does to the request up to ``until`` (the end of the
    replay: now for a preview, or the end of the recorded history for a back-test)."""
    scope = history.scope
    every_open = replace(hold, received_from_start=False)
    before_start = in_scope(every_open, scope) and scope.received_at < hold.effective_from
    if not in_scope(hold, scope):
        return Replayed(
            history=history,
            covered=False,
            excepted=False,
            received_before_start=before_start,
            reached_at=None,
            status_when_reached="",
            flagged_at=None,
        )
    is_excepted = excepted(hold, scope)
    moment = reached_at(hold, history, placed_at=placed_at)
    if moment is not None and moment > until:
        moment = None  # a hold placed in advance has not reached anything yet
    status = status_at(history.steps, moment) if moment is not None else ""
    flagged_at = None
    stopped: tuple[Step, ...] = ()
    if not is_excepted:
        # Approvals the hold cannot stop (made before it reached the request) but which fall in
        # its period: flagged for re-review.
        reached = moment if moment is not None else until
        for step in history.steps:
            if step.to_status != APPROVED or step.at < hold.effective_from:
                continue
            if step.at >= reached or (
                hold.effective_to is not None and step.at >= hold.effective_to
            ):
                break
            flagged_at = step.at
            break
        if moment is not None:
            end = until if hold.effective_to is None else min(until, hold.effective_to)
            stopped = tuple(
                step
                for step in history.steps
                if moment < step.at < end and step.to_status not in NOT_STOPPED
            )
    return Replayed(
        history=history,
        covered=True,
        excepted=is_excepted,
        received_before_start=before_start,
        reached_at=moment,
        status_when_reached=status,
        flagged_at=flagged_at,
        stopped=stopped,
    )
