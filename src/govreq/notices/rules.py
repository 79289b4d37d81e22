"""When an account holder may be told. Pure: no ORM, no clock.

A notice is due at once, unless the law or the policy delays it: a non-disclosure order (gag)
until it expires (the end of its expiry day, UTC), or later if the agency filed a new order
before then; an emergency for the policy's number of days; a child-safety case until a reviewer
lifts the delay. Nothing is ever sent while a gag order is in force, whatever a notice's record
says: the sender asks ``gag_in_force`` again at the moment of sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True, kw_only=True)
class NoticeFacts:
    kind: str
    offence_category: str
    received_at: datetime
    gag_expires_on: date | None  # None: no gag order
    extension_pending_since: datetime | None = None  # a new order filed, not yet reviewed


@dataclass(frozen=True, kw_only=True)
class Timing:
    status: str  # DUE or DELAYED
    reason: str = ""
    until: datetime | None = None  # None with DELAYED: until a reviewer lifts it


def gag_end(expires_on: date | None) -> datetime | None:
    """The instant a gag order stops: the end of its expiry day, UTC."""
    if expires_on is None:
        return None
    if expires_on >= date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=UTC)


def gag_in_force(facts: NoticeFacts, now: datetime) -> bool:
    """Whether telling the account holder at ``now`` would break a non-disclosure order: before
    it ends, or after, while a new order the agency filed before it ended awaits review."""
    end = gag_end(facts.gag_expires_on)
    if end is None:
        return False
    if now < end:
        return True
    return facts.extension_pending_since is not None and facts.extension_pending_since < end


def notice_timing(facts: NoticeFacts, *, emergency_delay_days: int) -> Timing:
    """A new notice's state: DUE, or DELAYED with the reason and until when."""
    if facts.gag_expires_on is not None:
        return Timing(status="DELAYED", reason="GAG_ORDER", until=gag_end(facts.gag_expires_on))
    if facts.offence_category == "CHILD_SAFETY":
        return Timing(status="DELAYED", reason="CHILD_SAFETY", until=None)
    if facts.kind == "EMERGENCY":
        return Timing(
            status="DELAYED",
            reason="EMERGENCY",
            until=facts.received_at + timedelta(days=emergency_delay_days),
        )
    return Timing(status="DUE")
