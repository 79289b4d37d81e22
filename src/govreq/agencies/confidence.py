"""How far an agency, and one of its officers, can be trusted: a score that explains itself.

Pure: no ORM, no clock. ``review.confidence`` gathers the facts; this module turns them into a
score from 0 to 100, a level, and the reasons with their points, so a reviewer reads *why* (the
agency was verified by a call-back 40 days ago; it has two verified switchboards; one call-back
was not confirmed last month ...).

The score, documented here and in the README:

=====================================================  ======
Verified (and when)                                      +50
Pending verification / suspended                      +10 / 0
Verification older than the policy's period (overdue)    -15
At least one verified contact number                     +15
No verified contact (no call-back possible)              -10
Requests answered (decided) so far, 1 per 10             +0..+15
Each fraud flag in the policy's window:
  call-back not confirmed                                 -30
  follow-up legal process missed                          -20
  look-alike of a verified agency                         -25
  other                                                   -15
=====================================================  ======

The total is clamped to 0..100. HIGH from 70, MEDIUM from 40, LOW below. An officer starts from
the agency's score: an account younger than the policy's new-officer period loses 15, each of
the officer's own fraud flags 30 more, and an officer with ten or more answered requests gains 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FLAG_POINTS = {
    "CALLBACK_NOT_CONFIRMED": -30,
    "FOLLOW_UP_MISSED": -20,
    "LOOKALIKE": -25,
    "OTHER": -15,
}
FLAG_WORDS = {
    "CALLBACK_NOT_CONFIRMED": "a call-back did not confirm a request",
    "FOLLOW_UP_MISSED": "no legal process followed an emergency disclosure in time",
    "LOOKALIKE": "a domain imitated a verified agency",
    "OTHER": "a fraud flag",
}
HIGH, MEDIUM, LOW = "HIGH", "MEDIUM", "LOW"


@dataclass(frozen=True, kw_only=True)
class FlagFact:
    kind: str
    raised_at: datetime
    request_reference: str = ""


@dataclass(frozen=True, kw_only=True)
class AgencyTrustFacts:
    status: str  # PENDING, VERIFIED, SUSPENDED
    verified_at: datetime | None
    verification_method: str
    contacts: int  # current verified contact numbers
    answered: int  # requests decided so far
    flags: tuple[FlagFact, ...]  # every flag on the agency (its officers' included)
    now: datetime
    reverify_days: int
    flag_window_days: int


@dataclass(frozen=True, kw_only=True)
class OfficerTrustFacts:
    created_at: datetime
    answered: int
    flags: tuple[FlagFact, ...]  # the officer's own
    now: datetime
    new_officer_days: int
    flag_window_days: int


@dataclass(frozen=True, kw_only=True)
class Reason:
    points: int
    text: str


@dataclass(frozen=True, kw_only=True)
class Confidence:
    score: int
    level: str
    reasons: tuple[Reason, ...]
    reverify_due: datetime | None = None

    @property
    def reverify_overdue(self) -> bool:
        return any("overdue" in r.text for r in self.reasons)


def _level(score: int) -> str:
    return HIGH if score >= 70 else MEDIUM if score >= 40 else LOW


def _flag_reasons(flags: tuple[FlagFact, ...], now: datetime, window_days: int) -> list[Reason]:
    since = now - timedelta(days=window_days)
    reasons = []
    for flag in sorted(flags, key=lambda f: f.raised_at):
        if flag.raised_at < since:
            continue
        about = f" ({flag.request_reference})" if flag.request_reference else ""
        reasons.append(
            Reason(
                points=FLAG_POINTS.get(flag.kind, FLAG_POINTS["OTHER"]),
                text=f"Fraud flag on {flag.raised_at:%Y-%m-%d}: "
                f"{FLAG_WORDS.get(flag.kind, FLAG_WORDS['OTHER'])}{about}",
            )
        )
    return reasons


def _total(reasons: list[Reason], *, reverify_due: datetime | None = None) -> Confidence:
    score = max(0, min(100, sum(r.points for r in reasons)))
    return Confidence(
        score=score, level=_level(score), reasons=tuple(reasons), reverify_due=reverify_due
    )


def agency_confidence(facts: AgencyTrustFacts) -> Confidence:
    reasons: list[Reason] = []
    due: datetime | None = None
    if facts.status == "VERIFIED" and facts.verified_at is not None:
        method = f": {facts.verification_method}" if facts.verification_method else ""
        reasons.append(Reason(points=50, text=f"Verified on {facts.verified_at:%Y-%m-%d}{method}"))
        due = facts.verified_at + timedelta(days=facts.reverify_days)
        if due <= facts.now:
            reasons.append(
                Reason(
                    points=-15,
                    text=f"Re-verification overdue since {due:%Y-%m-%d} (every "
                    f"{facts.reverify_days} days)",
                )
            )
    elif facts.status == "SUSPENDED":
        reasons.append(Reason(points=0, text="Suspended"))
    else:
        reasons.append(Reason(points=10, text="Not verified yet"))
    if facts.contacts:
        reasons.append(
            Reason(points=15, text=f"{facts.contacts} verified contact number(s) for call-backs")
        )
    else:
        reasons.append(Reason(points=-10, text="No verified contact number: no call-back possible"))
    if facts.answered:
        reasons.append(
            Reason(
                points=min(15, facts.answered // 10),
                text=f"{facts.answered} request(s) answered so far",
            )
        )
    reasons += _flag_reasons(facts.flags, facts.now, facts.flag_window_days)
    return _total(reasons, reverify_due=due)


def officer_confidence(agency: Confidence, facts: OfficerTrustFacts) -> Confidence:
    reasons = [Reason(points=agency.score, text=f"The agency's confidence: {agency.score}")]
    age = facts.now - facts.created_at
    if age < timedelta(days=facts.new_officer_days):
        reasons.append(
            Reason(
                points=-15,
                text=f"Officer account created {age.days} day(s) ago (under "
                f"{facts.new_officer_days})",
            )
        )
    if facts.answered >= 10:
        reasons.append(Reason(points=5, text=f"{facts.answered} request(s) answered so far"))
    reasons += [
        Reason(points=-30, text=r.text)
        for r in _flag_reasons(facts.flags, facts.now, facts.flag_window_days)
    ]
    return _total(reasons)
